import { InvalidInputError } from "../util/errors.js";

/** Converts the toolkit's time argument (a Date, or unix seconds) to unix seconds. */
export function toUnixSeconds(now: Date | number, what = "now"): number {
  const seconds = now instanceof Date ? now.getTime() / 1000 : now;
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) {
    throw new InvalidInputError(`${what}: expected a valid Date or non-negative unix seconds`, {
      details: `got ${String(now)}`,
      field: what,
    });
  }
  return seconds;
}
