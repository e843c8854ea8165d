import type { CheckId } from "./types.js";
import type { AttestationEvidence, AttestationVerdict } from "./verify.js";

export interface HtmlReportMeta {
  /** Where the attestation came from (file, or the redacted URLs fetched). */
  source: string;
  generatedAt: Date;
}

const TITLES: Record<CheckId, [string, string]> = {
  "quote-signature": ["Quote signature and TCB", "Intel's signature over the quote, checked against Intel's root certificate and current collateral."],
  "report-data": ["Report data", "The data the CVM put into the quote, e.g. the verifier's fresh nonce (proves the quote is not a replay)."],
  "event-log-replay": ["Event log replay", "Replaying the event log reproduces the quote's runtime measurement registers RTMR0-3."],
  "compose-hash": ["Compose hash", "SHA-256 of the served app-compose.json equals the compose-hash measured into RTMR3."],
  "mr-config-id": ["MRCONFIGID binding", "The host-set MRCONFIGID field binds the same configuration: the compose hash (format 01), a hash of compose hash, app id and key provider (02), or of a configuration document that agrees with the event log (03)."],
  "os-measurements": ["Reference measurements", "MRTD and RTMR0-2 equal the reference values for the expected OS image."],
  "image-pinning": ["Image pinning", "Every container image is pinned by digest, so the compose hash fixes the code that runs."],
  "onchain-compose-hash": ["On-chain approval", "The app's contract allows this compose hash (allowedComposeHashes)."],
  "onchain-app-registered": ["KMS registration", "The app is registered with the KMS contract."],
  "onchain-os-image": ["KMS OS image", "The KMS contract allows the OS image the CVM booted."],
};

const STATUS_TEXT = { pass: "PASS", fail: "FAIL", skip: "SKIPPED", error: "ERROR" } as const;

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

const e = escapeHtml;

/**
 * One self-contained page (inline CSS, no scripts, no external assets) that a person who
 * is not a TEE specialist can read: the verdict first, then each check with what it means
 * and its evidence, then the raw measurements.
 */
export function renderVerdictHtml(verdict: AttestationVerdict, evidence: AttestationEvidence, meta: HtmlReportMeta): string {
  const failed = verdict.checks.filter((c) => c.status === "fail" || c.status === "error");
  const headline = verdict.ok ? "VERIFIED" : "NOT VERIFIED";
  const summary = verdict.ok
    ? "Every check passed: this CVM runs the code that governance approved."
    : `${failed.length} check(s) did not pass: ${failed.map((c) => TITLES[c.id]?.[0] ?? c.id).join(", ")}. Do not trust this CVM until they do.`;

  const checks = verdict.checks
    .map((check, i) => {
      const [title, explanation] = TITLES[check.id] ?? [check.id, ""];
      return `<tr class="check ${check.status}" data-check-id="${e(check.id)}" data-status="${check.status}">
<td class="step">${i + 1}</td><td><span class="badge ${check.status}">${STATUS_TEXT[check.status]}</span></td>
<td><strong>${e(title)}</strong><div class="why">${e(explanation)}</div></td><td class="detail">${e(check.detail)}</td></tr>`;
    })
    .join("\n");

  const quote = verdict.quote;
  const quoteRows =
    quote === null
      ? `<p>The quote could not be parsed.</p>`
      : table(["field", "value"], [
          ["TEE", `${quote.teeType} quote v${quote.version}`],
          ["MRTD", quote.mrtd],
          ...quote.rtmr.map((value, i): [string, string] => [`RTMR${i}`, value]),
          ["REPORTDATA", quote.reportData],
          ["MRCONFIGID", quote.mrConfigId],
          ["TCB status", verdict.tcbStatus ?? "not checked"],
          ["advisories", verdict.advisoryIds.join(", ") || "none"],
        ]);

  const replayRows =
    evidence.rtmrComparisons.length === 0
      ? "<p>No replay was performed.</p>"
      : table(
          ["register", "in the quote", "replayed from the event log", "match"],
          evidence.rtmrComparisons.map((c) => [c.register.toUpperCase(), c.expected, c.computed, c.match ? "yes" : "NO"]),
        );

  const events = verdict.events;
  const eventRows =
    events === null
      ? "<p>No runtime events were extracted.</p>"
      : table(["event", "value"], [
          ["app-id", events.appId ?? "none"],
          ["compose-hash", events.composeHash ?? "none"],
          ["instance-id", events.instanceId ?? "none"],
          ["os-image-hash", events.osImageHash ?? "none"],
          ["key-provider", events.keyProvider ?? "none"],
        ]);

  const rtmr3 =
    evidence.runtimeEvents.length === 0
      ? "<p>No RTMR3 events.</p>"
      : table(
          ["#", "event", "payload", "digest given by the log"],
          evidence.runtimeEvents.map((ev) => [String(ev.index), ev.event, abbreviate(ev.payload), ev.digest === null ? "(empty: recomputed)" : abbreviate(ev.digest)]),
        );

  const images =
    evidence.images.length === 0
      ? "<p>No images were analysed.</p>"
      : table(
          ["service", "image", "pinned", "why"],
          evidence.images.map((image) => [image.service, image.image ?? "(build)", image.status === "pinned" ? "yes" : "NO", image.reason]),
        );

  const onchain =
    evidence.onchain === undefined
      ? "<p>The chain was not read.</p>"
      : `<p>Read on chain ${evidence.onchain.chainId} at block ${evidence.onchain.blockNumber} via ${e(evidence.onchain.via)}:</p><ul>${evidence.onchain.calls
          .map((call) => `<li><code>${e(call)}</code></li>`)
          .join("")}</ul>`;

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(headline)} — dstack attestation report</title>
<style>
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px}
.verdict{border-radius:10px;padding:18px 22px;color:#fff;margin-bottom:20px}
.verdict.ok{background:#1a7f37}.verdict.bad{background:#b42318}
.verdict h1{margin:0 0 6px;font-size:28px;letter-spacing:.02em}
section{background:#fff;border:1px solid #d8dee4;border-radius:10px;padding:16px 20px;margin-bottom:16px}
h2{font-size:18px;margin:0 0 10px}
table{border-collapse:collapse;width:100%}
td,th{border-top:1px solid #e5e9ee;padding:6px 8px;text-align:left;vertical-align:top}
th{font-weight:600;background:#f0f3f6}
td:first-child,th:first-child{white-space:nowrap}
td.detail,code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px;word-break:break-all}
.why{color:#57606a;font-size:13px}
.badge{display:inline-block;border-radius:6px;padding:2px 8px;font-weight:700;font-size:12px;color:#fff}
.badge.pass{background:#1a7f37}.badge.fail{background:#b42318}.badge.error{background:#9a3412}.badge.skip{background:#6e7781}
tr.fail,tr.error{background:#fff1f0}
.meta{color:#57606a;font-size:13px}
</style></head>
<body><main>
<div class="verdict ${verdict.ok ? "ok" : "bad"}" id="verdict" data-ok="${verdict.ok}"><h1>${e(headline)}</h1><div>${e(summary)}</div></div>
<p class="meta">Attestation: <span class="mono">${e(meta.source)}</span> · generated ${e(meta.generatedAt.toISOString())} by dstack-governance</p>
<section><h2>Checks</h2><table id="checks"><thead><tr><th>#</th><th>result</th><th>check</th><th>evidence</th></tr></thead><tbody>
${checks}
</tbody></table></section>
<section><h2>On-chain decision</h2>${onchain}</section>
<section><h2>Quote</h2>${quoteRows}</section>
<section><h2>Event log replay</h2>${replayRows}</section>
<section><h2>dstack runtime events</h2>${eventRows}</section>
<section><h2>RTMR3 event list</h2>${rtmr3}</section>
<section><h2>Container images</h2>${images}</section>
</main></body></html>
`;
}

function table(headers: string[], rows: string[][]): string {
  return `<table><thead><tr>${headers.map((h) => `<th>${e(h)}</th>`).join("")}</tr></thead><tbody>${rows
    .map((row) => `<tr>${row.map((cell) => `<td class="mono">${e(cell)}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>`;
}

function abbreviate(hex: string): string {
  return hex.length > 160 ? `${hex.slice(0, 160)}… (${hex.length / 2} bytes)` : hex;
}
