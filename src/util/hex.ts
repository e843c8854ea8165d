import { InvalidInputError } from "./errors.js";

export type Hex = `0x${string}`;

const HEX_BODY = /^[0-9a-fA-F]*$/;

/**
 * Parses user-supplied hex (with or without `0x`) into bytes. `what` names the flag or
 * field in the error message; `length`, when given, is the required byte length.
 */
export function parseHexBytes(input: string, what: string, length?: number): Uint8Array {
  const trimmed = input.trim();
  const body = trimmed.startsWith("0x") || trimmed.startsWith("0X") ? trimmed.slice(2) : trimmed;
  if (!HEX_BODY.test(body)) {
    throw new InvalidInputError(`${what}: not hexadecimal`, { details: `got ${JSON.stringify(clip(input))}` });
  }
  if (body.length % 2 !== 0) {
    throw new InvalidInputError(`${what}: odd number of hex digits (${body.length})`);
  }
  if (length !== undefined && body.length !== length * 2) {
    throw new InvalidInputError(`${what}: expected ${length} bytes (${length * 2} hex digits), got ${body.length / 2} bytes`);
  }
  return Buffer.from(body, "hex");
}

/** Parses a 32-byte hex value into a lowercase `0x` string. */
export function parseBytes32(input: string, what: string): Hex {
  return toHex(parseHexBytes(input, what, 32));
}

/** Lowercase `0x`-prefixed hex of bytes. */
export function toHex(bytes: Uint8Array): Hex {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")}`;
}

/** Lowercase hex of bytes without a prefix (the attestation report's format). */
export function toBareHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

function clip(value: string): string {
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}
