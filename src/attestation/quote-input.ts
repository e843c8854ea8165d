import { MAX_QUOTE_BYTES, QuoteParseError } from "./quote-error.js";

/**
 * Turns a user-supplied quote into bytes. Quotes reach the verifier as hex (the dstack
 * guest agent's `GetQuote`), base64 (Phala Cloud's API, `phala cvms attestation`), a
 * JSON byte array (some SDKs serialise `Vec<u8>` that way), or raw bytes (a file).
 *
 * Accepted:
 * - `Uint8Array` / `Buffer`: copied as is.
 * - an array of integers 0..255, or a string holding such a JSON array (`"[4,0,2,...]"`).
 * - a string starting with `0x`/`0X`: must be hex.
 * - a string made only of hex digits with an even length: hex. This wins over base64
 *   on purpose: a TDX quote in base64 begins `BAACAIEA`/`BQACAIEA`, never pure hex digits.
 * - any other string: standard or URL-safe base64 (whitespace and line breaks ignored),
 *   which must be canonical (re-encoding gives back the input), so junk is not decoded
 *   into a plausible-looking prefix.
 */

/** A JSON byte array spends at most ~5 characters per byte ("255, "). */
export const MAX_QUOTE_INPUT_CHARS = MAX_QUOTE_BYTES * 6;

const HEX_ONLY = /^[0-9a-fA-F]*$/;
const BASE64_STD = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64_URL = /^[A-Za-z0-9_-]*={0,2}$/;

export function decodeQuoteInput(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (Array.isArray(value)) return fromByteArray(value);
  if (typeof value !== "string") {
    throw new QuoteParseError(
      "bad-encoding",
      `quote must be hex, base64, a JSON byte array or bytes; got ${value === null ? "null" : typeof value}`,
    );
  }
  if (value.length > MAX_QUOTE_INPUT_CHARS) {
    throw new QuoteParseError("too-large", `quote text is ${value.length} characters, more than the ${MAX_QUOTE_INPUT_CHARS}-character limit`);
  }
  const text = value.trim();
  if (text.length === 0) throw new QuoteParseError("empty", "quote is empty");

  if (text.startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new QuoteParseError("bad-encoding", "quote looks like a JSON byte array but is not valid JSON", { cause: error });
    }
    if (!Array.isArray(parsed)) throw new QuoteParseError("bad-encoding", "quote JSON is not an array of bytes");
    return fromByteArray(parsed);
  }

  if (text.startsWith("0x") || text.startsWith("0X")) {
    const body = text.slice(2);
    if (!HEX_ONLY.test(body)) throw new QuoteParseError("bad-encoding", `quote starts with 0x but is not hexadecimal (${describeBadChar(body)})`);
    return fromHex(body);
  }
  if (HEX_ONLY.test(text) && text.length % 2 === 0) return fromHex(text);
  return fromBase64(text);
}

function fromHex(body: string): Uint8Array {
  if (body.length % 2 !== 0) throw new QuoteParseError("bad-encoding", `quote hex has an odd number of digits (${body.length})`);
  if (body.length === 0) throw new QuoteParseError("empty", "quote is empty");
  return new Uint8Array(Buffer.from(body, "hex"));
}

function fromBase64(text: string): Uint8Array {
  const compact = text.replace(/\s+/g, "");
  const std = BASE64_STD.test(compact);
  if (!std && !BASE64_URL.test(compact)) {
    throw new QuoteParseError("bad-encoding", `quote is neither hex, base64 nor a JSON byte array (${describeBadChar(compact)})`);
  }
  const normalized = (std ? compact : compact.replace(/-/g, "+").replace(/_/g, "/")).replace(/=+$/, "");
  if (normalized.length % 4 === 1) throw new QuoteParseError("bad-encoding", "quote base64 has an impossible length");
  const bytes = Buffer.from(normalized, "base64");
  // Node's decoder silently drops bits it cannot use; insisting on a round trip rejects
  // inputs that only look like base64.
  if (bytes.toString("base64").replace(/=+$/, "") !== normalized) {
    throw new QuoteParseError("bad-encoding", "quote base64 is not canonical (stray bits or characters)");
  }
  if (bytes.length === 0) throw new QuoteParseError("empty", "quote is empty");
  return new Uint8Array(bytes);
}

function fromByteArray(items: readonly unknown[]): Uint8Array {
  if (items.length === 0) throw new QuoteParseError("empty", "quote byte array is empty");
  if (items.length > MAX_QUOTE_BYTES) {
    throw new QuoteParseError("too-large", `quote byte array has ${items.length} items, more than the ${MAX_QUOTE_BYTES}-byte limit`);
  }
  const out = new Uint8Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (typeof item !== "number" || !Number.isInteger(item) || item < 0 || item > 255) {
      throw new QuoteParseError("bad-encoding", `quote byte array item ${i} is ${JSON.stringify(item) ?? String(item)}, not an integer 0..255`);
    }
    out[i] = item;
  }
  return out;
}

function describeBadChar(text: string): string {
  const match = /[^0-9a-zA-Z+/=_-]/.exec(text) ?? /[^0-9a-fA-F]/.exec(text);
  if (match === null) return "unexpected characters";
  return `unexpected character ${JSON.stringify(match[0])} at position ${match.index}`;
}
