import { InvalidInputError } from "./errors.js";

const UNIT_MS: Record<string, bigint> = { ms: 1n, s: 1_000n, m: 60_000n, h: 3_600_000n, d: 86_400_000n, w: 604_800_000n };

/**
 * The one duration syntax of every flag and configuration field: a number of seconds
 * (`86400`, `1.5`), or numbers with units, summed (`500ms`, `30s`, `5m`, `1h`, `1d`, `2w`,
 * `1d12h`, `1d 12h`, `1.5h`). Case and spaces are ignored. Returns milliseconds (a
 * fraction of a millisecond rounded), or undefined when the text is not a duration.
 */
export function parseDurationMs(value: string): bigint | undefined {
  const text = value.replace(/\s+/g, "").toLowerCase();
  if (/^\d+(?:\.\d+)?$/.test(text)) return partMs(text, "s");
  if (!/^(?:\d+(?:\.\d+)?(?:ms|[smhdw]))+$/.test(text)) return undefined;
  return [...text.matchAll(/(\d+(?:\.\d+)?)(ms|[smhdw])/g)].reduce((sum, part) => sum + partMs(part[1]!, part[2]!), 0n);
}

/** `number` (digits with an optional fraction) times `unit`, in whole milliseconds, exactly. */
function partMs(number: string, unit: string): bigint {
  const [whole, fraction = ""] = number.split(".");
  const scale = 10n ** BigInt(fraction.length);
  const scaled = BigInt(whole! + fraction) * UNIT_MS[unit]!;
  return (scaled + scale / 2n) / scale;
}

/**
 * A duration in whole seconds (`parseDurationMs` syntax: `86400`, `1d`, `12h`, `1d12h`,
 * `90m`, `30s`, `2w`). `flag` names the option in errors.
 */
export function parseDuration(value: string, flag: string): bigint {
  const ms = parseDurationMs(value);
  if (ms === undefined || ms % 1_000n !== 0n) {
    throw new InvalidInputError(`${flag}: expected seconds or a duration such as 1d, 12h, 30m (got ${JSON.stringify(value.slice(0, 40))})`);
  }
  return ms / 1_000n;
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
