import type { Address, Hex } from "viem";

import { parseAddressText } from "../../src/util/address.js";
import { InvalidInputError } from "../../src/util/errors.js";
import { parseBytes32 } from "../../src/util/hex.js";

/** A required option: a clear error naming the flag when it is missing. */
export function requireOption<T>(value: T | undefined, flag: string, expected: string): T {
  if (value === undefined || value === "") throw new InvalidInputError(`${flag} is required: ${expected}`);
  return value;
}

/** An address flag: 20-byte hex, all-lowercase or with a correct EIP-55 checksum. */
export function parseAddress(value: string | undefined, flag: string): Address {
  return parseAddressText(requireOption(value, flag, "a 0x-prefixed 20-byte address"), flag);
}

/** A non-zero 32-byte value such as a compose hash or a device id. */
export function parseNonZeroBytes32(value: string, flag: string): Hex {
  const hex = parseBytes32(value, flag);
  if (/^0x0{64}$/.test(hex)) throw new InvalidInputError(`${flag}: the zero hash is not a valid value`);
  return hex;
}

/** A comma-separated list of non-zero 32-byte values (`--hash 0xa…,0xb…`). */
export function parseBytes32List(value: string | undefined, flag: string): Hex[] {
  if (value === undefined || value.trim() === "") return [];
  return value
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part) => parseNonZeroBytes32(part, flag));
}

/**
 * `true`/`false` (and yes/no, 1/0) for options that set a boolean on chain. A string option
 * rather than Hardhat's BOOLEAN, whose parse error would exit 1 without naming the flag
 * (see `builders.ts`), and which accepts only true/false.
 */
export function parseBoolean(value: string | undefined, flag: string): boolean {
  const text = requireOption(value, flag, "true or false").trim().toLowerCase();
  if (["true", "yes", "1", "on"].includes(text)) return true;
  if (["false", "no", "0", "off"].includes(text)) return false;
  throw new InvalidInputError(`${flag}: expected true or false, got ${JSON.stringify(text)}`);
}
