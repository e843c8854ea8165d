import { concat, getAddress, hexToNumber, isHex, numberToHex, pad, recoverAddress, recoverMessageAddress, size, slice, type Address, type Hex } from "viem";

import { InvalidInputError } from "../util/errors.js";
import { InvalidSignatureError } from "./errors.js";
import { JsonFields } from "./json-fields.js";

/** One owner's signature of a safeTxHash, as a proposal file keeps it. */
export interface OwnerSignature {
  /** The owner who signed (the address the signature must recover to, or the contract owner). */
  signer: Address;
  /**
   * An EOA owner: 65 bytes r ‖ s ‖ v, v 27/28 for an EIP-712 signature, 31/32 for `eth_sign`
   * of the hash. A contract owner (`kind: "contract"`): the bytes its EIP-1271
   * `isValidSignature(data, signature)` receives (Safe 1.4.1: the dynamic part of a v = 0 signature).
   */
  signature: Hex;
  /** Present for an owner that is a contract (EIP-1271), e.g. another Safe. */
  kind?: "contract";
  /**
   * For a Safe owner signing through this toolkit: its own owners' signatures of the
   * SafeMessage that wraps this transaction; `signature` is these, packed.
   */
  ownerSignatures?: OwnerSignature[];
}

/** How deep Safes owned by Safes may nest in a proposal file (an owner's owner's owner). */
export const MAX_SIGNATURE_NESTING = 3;

/** Reads one signature entry of a proposal file (and its nested owner signatures), naming it in errors. */
export function parseOwnerSignature(entry: unknown, where: string, depth = 0): OwnerSignature {
  const s = JsonFields.of(entry, where);
  const parsed: OwnerSignature = { signer: s.address("signer"), signature: s.hex("signature") };
  if (s.has("kind")) {
    if (s.raw("kind") !== "contract") throw new InvalidInputError(`${where}: field "kind" must be "contract" (a contract owner's signature) or absent`);
    parsed.kind = "contract";
  }
  if (s.has("ownerSignatures")) {
    if (parsed.kind !== "contract") throw new InvalidInputError(`${where}: field "ownerSignatures" needs "kind": "contract"`);
    if (depth + 1 >= MAX_SIGNATURE_NESTING) throw new InvalidInputError(`${where}: owner signatures nest deeper than ${MAX_SIGNATURE_NESTING} Safes`);
    parsed.ownerSignatures = s.array("ownerSignatures").map((inner, i) => parseOwnerSignature(inner, `${where} owner signature ${i + 1}`, depth + 1));
  }
  return parsed;
}

/**
 * The address a Safe owner signature of `hash` recovers to. EIP-712 signatures (v 27/28)
 * recover from the hash itself; `eth_sign` signatures (v 31/32, Safe's convention: v + 4)
 * from the "\x19Ethereum Signed Message:\n32" prefixed hash. Contract signatures (v 0)
 * and pre-approved hashes (v 1) cannot be checked offline and are refused.
 */
export async function recoverSafeSignature(hash: Hex, signature: Hex): Promise<Address> {
  if (!isHex(signature) || size(signature) !== 65) {
    throw new InvalidSignatureError(`a signature must be 65 bytes of hex (r, s, v), got ${isHex(signature) ? `${size(signature)} bytes` : "non-hex text"}`);
  }
  const v = hexToNumber(slice(signature, 64, 65));
  if (v === 27 || v === 28) return getAddress(await recoverAddress({ hash, signature }));
  if (v === 31 || v === 32) {
    const adjusted = concat([slice(signature, 0, 64), v === 31 ? "0x1b" : "0x1c"]);
    return getAddress(await recoverMessageAddress({ message: { raw: hash }, signature: adjusted }));
  }
  throw new InvalidSignatureError(`unsupported signature type (v = ${v}): only EOA signatures (EIP-712 or eth_sign) can be carried in a proposal file`);
}

/**
 * The `signatures` argument of `execTransaction` (and of a Safe owner's `isValidSignature`),
 * as Safe 1.3.0/1.4.1 read it: one 65-byte static entry per signer, sorted by signer
 * address ascending; a contract owner's entry is r = its address, s = the offset of its
 * bytes, v = 0, and its bytes (length-prefixed) follow all the static entries.
 */
export function packSignatures(signatures: readonly OwnerSignature[]): Hex {
  const sorted = [...signatures].sort((a, b) => (BigInt(a.signer) < BigInt(b.signer) ? -1 : BigInt(a.signer) > BigInt(b.signer) ? 1 : 0));
  if (sorted.length === 0) return "0x";
  const statics: Hex[] = [];
  const dynamics: Hex[] = [];
  let offset = sorted.length * 65;
  for (const entry of sorted) {
    if (entry.kind !== "contract") {
      statics.push(entry.signature);
      continue;
    }
    statics.push(concat([pad(entry.signer, { size: 32 }), numberToHex(offset, { size: 32 }), "0x00"]));
    const part = concat([numberToHex(size(entry.signature), { size: 32 }), entry.signature]);
    dynamics.push(part);
    offset += size(part);
  }
  return concat([...statics, ...dynamics]);
}

/** An owner's on-chain approval (`approveHash`) as a signature entry: r = owner, s = 0, v = 1. */
export function approvedHashSignature(owner: Address): OwnerSignature {
  return { signer: getAddress(owner), signature: concat([pad(owner, { size: 32 }), pad("0x", { size: 32 }), "0x01"]) };
}

/**
 * Splits packed Safe signatures (as `execTransaction`, the transaction service or
 * protocol-kit's `encodedSignatures()` carry them) into entries: EOA signatures, approved
 * hashes (v = 1, signer from r) and contract signatures (v = 0, their bytes read at the
 * offset s). Anything that does not parse exactly is an `InvalidSignatureError`.
 */
export type PackedSignature = { kind: "eoa"; signature: Hex } | { kind: "approvedHash"; signer: Address } | { kind: "contract"; signer: Address; signature: Hex };

export function unpackSignatures(packed: Hex, count?: number): PackedSignature[] {
  if (!isHex(packed, { strict: true }) || packed.length % 2 !== 0) throw new InvalidSignatureError("packed signatures are not hex bytes");
  const total = size(packed);
  // Without a count, the static part ends where the first dynamic part begins (or at the end).
  let entries = count ?? Math.floor(total / 65);
  const out: PackedSignature[] = [];
  for (let i = 0; i < entries; i += 1) {
    if ((i + 1) * 65 > total) throw new InvalidSignatureError(`signature ${i + 1} is cut short (${total} bytes of signatures)`);
    const entry = slice(packed, i * 65, (i + 1) * 65);
    const v = hexToNumber(slice(entry, 64, 65));
    const r = slice(entry, 0, 32);
    const s = BigInt(slice(entry, 32, 64));
    if (v !== 0 && v !== 1) {
      out.push({ kind: "eoa", signature: entry });
      continue;
    }
    if (BigInt(r) >> 160n !== 0n) throw new InvalidSignatureError(`signature ${i + 1} (v = ${v}) does not carry an address in r`);
    const signer = getAddress(`0x${r.slice(-40)}`);
    if (v === 1) {
      out.push({ kind: "approvedHash", signer });
      continue;
    }
    if (s < BigInt((i + 1) * 65) || s + 32n > BigInt(total)) throw new InvalidSignatureError(`contract signature ${i + 1} (by ${signer}) points outside the signatures (offset ${s})`);
    const length = BigInt(slice(packed, Number(s), Number(s) + 32));
    if (s + 32n + length > BigInt(total)) throw new InvalidSignatureError(`contract signature ${i + 1} (by ${signer}) is cut short`);
    if (count === undefined) entries = Math.min(entries, Math.floor(Number(s) / 65));
    out.push({ kind: "contract", signer, signature: length === 0n ? "0x" : slice(packed, Number(s) + 32, Number(s + 32n + length)) });
  }
  return out;
}
