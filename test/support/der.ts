/**
 * A minimal DER encoder for building test certificates, CRLs and the Intel SGX PCK
 * extension. Test-only: production code never builds ASN.1, it only verifies it.
 * Kept tiny on purpose so every byte the test PKI emits is easy to reason about.
 */

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

function encodeLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** One tag-length-value element. */
export function tlv(tag: number, content: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(tag), encodeLength(content.length), content);
}

export function sequence(...items: Uint8Array[]): Uint8Array {
  return tlv(0x30, concat(...items));
}

export function set(...items: Uint8Array[]): Uint8Array {
  return tlv(0x31, concat(...items));
}

/** `[n] EXPLICIT` wrapper (constructed context-specific tag). */
export function explicit(tagNumber: number, content: Uint8Array): Uint8Array {
  return tlv(0xa0 + tagNumber, content);
}

export function objectIdentifier(dotted: string): Uint8Array {
  const arcs = dotted.split(".").map((arc) => BigInt(arc));
  const [first, second, ...rest] = arcs;
  if (first === undefined || second === undefined) throw new Error(`bad OID ${dotted}`);
  const out: number[] = [];
  for (const arc of [first * 40n + second, ...rest]) {
    const chunk: number[] = [Number(arc & 0x7fn)];
    for (let value = arc >> 7n; value > 0n; value >>= 7n) chunk.unshift(Number(value & 0x7fn) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Uint8Array.from(out));
}

/** Minimal two's-complement content for a non-negative integer. */
function unsignedIntegerContent(value: bigint): Uint8Array {
  if (value < 0n) throw new Error("negative integers are not needed by the test PKI");
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  const bytes = Buffer.from(hex, "hex");
  // A leading 1 bit would make the value negative in DER, so prefix a zero byte.
  return (bytes[0] ?? 0) & 0x80 ? concat(Uint8Array.of(0), bytes) : bytes;
}

export function integer(value: bigint | number): Uint8Array {
  return tlv(0x02, unsignedIntegerContent(BigInt(value)));
}

export function enumerated(value: number): Uint8Array {
  return tlv(0x0a, unsignedIntegerContent(BigInt(value)));
}

export function boolean(value: boolean): Uint8Array {
  return tlv(0x01, Uint8Array.of(value ? 0xff : 0x00));
}

export function octetString(bytes: Uint8Array): Uint8Array {
  return tlv(0x04, bytes);
}

export function bitString(bytes: Uint8Array, unusedBits = 0): Uint8Array {
  return tlv(0x03, concat(Uint8Array.of(unusedBits), bytes));
}

export function utf8String(text: string): Uint8Array {
  return tlv(0x0c, Buffer.from(text, "utf8"));
}

/** X.509 `Time`: UTCTime for 1950..2049, GeneralizedTime otherwise (RFC 5280 4.1.2.5). */
export function time(date: Date): Uint8Array {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const year = date.getUTCFullYear();
  return year >= 1950 && year < 2050
    ? tlv(0x17, Buffer.from(digits.slice(2), "ascii"))
    : tlv(0x18, Buffer.from(digits, "ascii"));
}
