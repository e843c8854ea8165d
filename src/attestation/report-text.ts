import type { CheckId } from "./types.js";
import type { AttestationVerdict } from "./verify.js";

const LABEL = { pass: "[OK]   ", fail: "[FAIL] ", skip: "[SKIP] ", error: "[ERROR]" } as const;

const TITLES: Record<CheckId, string> = {
  "quote-signature": "quote signature and TCB",
  "report-data": "report data",
  "event-log-replay": "event log replay (RTMR0-3)",
  "compose-hash": "compose-hash",
  "mr-config-id": "MRCONFIGID binding",
  "os-measurements": "reference measurements",
  "image-pinning": "image pinning",
  "onchain-compose-hash": "on-chain allowedComposeHashes",
  "onchain-app-registered": "on-chain KMS registration",
  "onchain-os-image": "on-chain KMS OS image",
};

/**
 * Control characters (C0, DEL, C1), Unicode line/paragraph separators and bidi controls,
 * shown as `\uXXXX`. Details quote the attestation (event names, image references, the
 * key-provider text, a verification service's status): raw, a line break or an escape
 * sequence there could forge "[OK]" lines or hide text in the terminal.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what this escapes before text reaches a terminal
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function safe(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** The step-by-step report a person reads: one line per check, then the verdict. */
export function formatVerdict(verdict: AttestationVerdict): string[] {
  const lines = verdict.checks.map((check, i) => {
    const title = TITLES[check.id] ?? safe(check.id);
    return check.status === "skip"
      ? `${LABEL.skip} Step ${i + 1}: ${title}: ${safe(check.detail)}`
      : `${LABEL[check.status]} Step ${i + 1}: ${title} ${verbOf(check.status)} (${safe(check.detail)})`;
  });
  if (verdict.events !== null) {
    lines.push(`        app-id ${verdict.events.appId ?? "none"}, compose-hash ${verdict.events.composeHash}, os-image-hash ${verdict.events.osImageHash ?? "none"}`);
  }
  if (verdict.tcbStatus !== null) {
    lines.push(`        TCB status ${safe(verdict.tcbStatus)}${verdict.advisoryIds.length > 0 ? `, advisories ${safe(verdict.advisoryIds.join(", "))}` : ""}`);
  }
  const failed = verdict.checks.filter((c) => c.status === "fail" || c.status === "error").map((c) => safe(c.id));
  const skipped = verdict.checks.filter((c) => c.status === "skip").map((c) => safe(c.id));
  lines.push(
    verdict.ok
      ? `VERIFIED: every check passed${skipped.length > 0 ? ` (not checked: ${skipped.join(", ")})` : ""}`
      : `NOT VERIFIED: ${failed.join(", ")} did not pass`,
  );
  return lines;
}

function verbOf(status: keyof typeof LABEL): string {
  return { pass: "verified", fail: "FAILED", skip: "not checked", error: "could not be checked" }[status];
}
