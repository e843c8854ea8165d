/** A unix time (seconds) as an ISO-8601 UTC string, without milliseconds: `2026-07-01T12:00:00Z`. */
export function formatTimestamp(seconds: bigint): string {
  return new Date(Number(seconds) * 1000).toISOString().replace(".000Z", "Z");
}
