import { InvalidInputError } from "../util/errors.js";

const UNITS: Record<string, bigint> = { s: 1n, m: 60n, h: 3600n, d: 86_400n, w: 604_800n };

/**
 * A duration in seconds: a whole number (`86400`) or numbers with units, summed
 * (`1d`, `12h`, `1d12h`, `90m`, `30s`, `2w`). `flag` names the option in errors.
 */
export function parseDuration(value: string, flag: string): bigint {
  const text = value.replace(/\s+/g, "").toLowerCase();
  if (/^\d+$/.test(text)) return BigInt(text);
  if (!/^(\d+[smhdw])+$/.test(text)) {
    throw new InvalidInputError(`${flag}: expected seconds or a duration such as 1d, 12h, 30m (got ${JSON.stringify(value.slice(0, 40))})`);
  }
  const parts = [...text.matchAll(/(\d+)([smhdw])/g)];
  return parts.reduce((sum, part) => sum + BigInt(part[1]!) * UNITS[part[2]!]!, 0n);
}

/** A duration in seconds as people read it: `1d`, `2h 30m`, `45s`, `0s`. */
export function formatDuration(seconds: bigint): string {
  if (seconds === 0n) return "0s";
  const parts: string[] = [];
  let rest = seconds < 0n ? -seconds : seconds;
  for (const [unit, size] of [["d", 86_400n], ["h", 3600n], ["m", 60n], ["s", 1n]] as const) {
    if (rest >= size) {
      parts.push(`${rest / size}${unit}`);
      rest %= size;
    }
  }
  return `${seconds < 0n ? "-" : ""}${parts.join(" ")}`;
}

/** A unix time (seconds) as an ISO-8601 UTC string. */
export function formatTimestamp(seconds: bigint): string {
  return new Date(Number(seconds) * 1000).toISOString().replace(".000Z", "Z");
}
