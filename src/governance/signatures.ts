import { concat, getAddress, hexToNumber, isHex, recoverAddress, recoverMessageAddress, size, slice, type Address, type Hex } from "viem";

import { InvalidSignatureError } from "./errors.js";

/** One owner's signature of a safeTxHash, as a proposal file keeps it. */
export interface OwnerSignature {
  /** The owner who signed (the address the signature must recover to). */
  signer: Address;
  /** 65 bytes r ‖ s ‖ v: v 27/28 for an EIP-712 signature, 31/32 for `eth_sign` of the hash. */
  signature: Hex;
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
 * Checks that each signature recovers to its stated signer and that signers are distinct
 * current owners. Returns the valid signatures; throws on the first bad one, naming it.
 */
export async function verifyOwnerSignatures(hash: Hex, signatures: readonly OwnerSignature[], owners: readonly Address[]): Promise<OwnerSignature[]> {
  const ownerSet = new Set(owners.map((owner) => getAddress(owner)));
  const seen = new Set<Address>();
  const valid: OwnerSignature[] = [];
  for (const [i, entry] of signatures.entries()) {
    const claimed = getAddress(entry.signer);
    let recovered: Address;
    try {
      recovered = await recoverSafeSignature(hash, entry.signature);
    } catch (error) {
      if (error instanceof InvalidSignatureError) throw new InvalidSignatureError(`signature ${i + 1} (by ${claimed}): ${error.message}`);
      throw new InvalidSignatureError(`signature ${i + 1} (by ${claimed}) is malformed and recovers to no address`);
    }
    if (recovered !== claimed) {
      throw new InvalidSignatureError(
        `signature ${i + 1} claims to be by ${claimed} but recovers to ${recovered}: it does not sign this proposal's safeTxHash (was the file edited after signing?)`,
      );
    }
    if (!ownerSet.has(claimed)) throw new InvalidSignatureError(`signature ${i + 1} is by ${claimed}, which is not an owner of the Safe`);
    if (seen.has(claimed)) throw new InvalidSignatureError(`signature ${i + 1} repeats a signature by ${claimed}`);
    seen.add(claimed);
    valid.push({ signer: claimed, signature: entry.signature });
  }
  return valid;
}

/** The `signatures` argument of `execTransaction`: each 65 bytes, sorted by signer address ascending. */
export function packSignatures(signatures: readonly OwnerSignature[]): Hex {
  const sorted = [...signatures].sort((a, b) => (BigInt(a.signer) < BigInt(b.signer) ? -1 : BigInt(a.signer) > BigInt(b.signer) ? 1 : 0));
  return sorted.length === 0 ? "0x" : concat(sorted.map((entry) => entry.signature));
}
