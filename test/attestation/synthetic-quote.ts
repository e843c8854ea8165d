/**
 * Builds structurally valid (unsigned) TDX quotes for parser tests that must run
 * without the real fixtures, written from the Intel layout independently of the parser:
 *
 *   header(48) [| u16 bodyType | u32 bodySize]  (v5 only)
 *   | TD report (584, or 648 for 1.5) | u32 sigLen
 *   | sig(64) | key(64) | u16 6 | u32 n | QE report(384) | QE sig(64) | u16 a | auth(a) | u16 5 | u32 m | certs(m)
 */
export interface SyntheticQuoteOptions {
  version?: number;
  teeType?: number;
  attestationKeyType?: number;
  /** v5 only; default 2. */
  bodyType?: number;
  /** v5 only; default the correct size for `bodyType`. */
  bodySize?: number;
  /** Fill byte per TD report field, so tests can tell fields apart. */
  fill?: boolean;
  padding?: number;
}

export const FIELD_OFFSETS = {
  teeTcbSvn: [0, 16],
  mrSeam: [16, 48],
  mrSignerSeam: [64, 48],
  seamAttributes: [112, 8],
  tdAttributes: [120, 8],
  xfam: [128, 8],
  mrTd: [136, 48],
  mrConfigId: [184, 48],
  mrOwner: [232, 48],
  mrOwnerConfig: [280, 48],
  rtmr0: [328, 48],
  rtmr1: [376, 48],
  rtmr2: [424, 48],
  rtmr3: [472, 48],
  reportData: [520, 64],
  teeTcbSvn2: [584, 16],
  mrServiceTd: [600, 48],
} as const;

export function buildSyntheticQuote(options: SyntheticQuoteOptions = {}): Uint8Array {
  const version = options.version ?? 4;
  const bodyType = options.bodyType ?? 2;
  const bodyLength = bodyType === 3 ? 648 : 584;

  const header = Buffer.alloc(48);
  header.writeUInt16LE(version, 0);
  header.writeUInt16LE(options.attestationKeyType ?? 2, 2);
  header.writeUInt32LE(options.teeType ?? 0x81, 4);
  Buffer.from("939a7233f79c4ca9940a0db3957f0607", "hex").copy(header, 12);

  const body = Buffer.alloc(bodyLength);
  if (options.fill !== false) {
    let n = 1;
    for (const [offset, length] of Object.values(FIELD_OFFSETS)) {
      if (offset + length <= bodyLength) body.fill(n, offset, offset + length);
      n++;
    }
  }

  const descriptor = Buffer.alloc(version === 5 ? 6 : 0);
  if (version === 5) {
    descriptor.writeUInt16LE(bodyType, 0);
    descriptor.writeUInt32LE(options.bodySize ?? bodyLength, 2);
  }

  const certs = Buffer.from("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n\0");
  const auth = Buffer.alloc(32, 0xaa);
  const qeCert = Buffer.concat([Buffer.alloc(384, 0x11), Buffer.alloc(64, 0x22), u16(auth.length), auth, u16(5), u32(certs.length), certs]);
  const signature = Buffer.concat([Buffer.alloc(64, 0x33), Buffer.alloc(64, 0x44), u16(6), u32(qeCert.length), qeCert]);

  return new Uint8Array(
    Buffer.concat([header, descriptor, body, u32(signature.length), signature, Buffer.alloc(options.padding ?? 0)]),
  );
}

function u16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(value);
  return b;
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value);
  return b;
}

/** Turns a v4 quote into the equivalent v5 (body type 2) quote: same body, descriptor inserted. */
export function v4ToV5(v4: Uint8Array): Uint8Array {
  const out = Buffer.alloc(v4.length + 6);
  Buffer.from(v4.subarray(0, 48)).copy(out, 0);
  out.writeUInt16LE(5, 0);
  out.writeUInt16LE(2, 48);
  out.writeUInt32LE(584, 50);
  Buffer.from(v4.subarray(48)).copy(out, 54);
  return new Uint8Array(out);
}
