import type { AttestationVerdict } from "./verify.js";

const LABEL = { pass: "[OK]   ", fail: "[FAIL] ", skip: "[SKIP] ", error: "[ERROR]" } as const;

const TITLES: Record<string, string> = {
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

/** The step-by-step report a person reads: one line per check, then the verdict. */
export function formatVerdict(verdict: AttestationVerdict): string[] {
  const lines = verdict.checks.map((check, i) => {
    const title = TITLES[check.id] ?? check.id;
    return check.status === "skip"
      ? `${LABEL.skip} Step ${i + 1}: ${title}: ${check.detail}`
      : `${LABEL[check.status]} Step ${i + 1}: ${title} ${verbOf(check.status)} (${check.detail})`;
  });
  if (verdict.events !== null) {
    lines.push(`        app-id ${verdict.events.appId ?? "none"}, compose-hash ${verdict.events.composeHash}, os-image-hash ${verdict.events.osImageHash ?? "none"}`);
  }
  if (verdict.tcbStatus !== null) {
    lines.push(`        TCB status ${verdict.tcbStatus}${verdict.advisoryIds.length > 0 ? `, advisories ${verdict.advisoryIds.join(", ")}` : ""}`);
  }
  const failed = verdict.checks.filter((c) => c.status === "fail" || c.status === "error").map((c) => c.id);
  const skipped = verdict.checks.filter((c) => c.status === "skip").map((c) => c.id);
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
