import { getAddress, type Address, type Hex, type PublicClient } from "viem";

import { readContracts } from "../chain/multicall.js";
import { safeAbi } from "./abi/safe.js";
import { contractAcceptsSignature, safeMessageSignedData, type SignedData } from "./contract-signatures.js";
import { InvalidSignatureError } from "./errors.js";
import { readSafe, type SafeInfo } from "./safe-state.js";
import { MAX_SIGNATURE_NESTING, packSignatures, recoverSafeSignature, type OwnerSignature } from "./signatures.js";

/** A Safe owner's signature whose own owners have not all signed yet: kept in the file, not counted. */
export interface PendingSignature {
  signer: Address;
  /** Its owners' valid signatures so far, and its threshold. */
  have: number;
  need: bigint;
}

export interface SignatureCheck {
  /** Every entry that counts now: EOA signatures recovering to an owner, contract signatures the owner contract accepts. */
  valid: OwnerSignature[];
  /** Safe owners still collecting their own owners' signatures. */
  pending: PendingSignature[];
  /** The entries to keep in the file (valid and pending), in file order. */
  kept: OwnerSignature[];
}

/**
 * Checks a proposal's signature entries against `safe` (its owners at this block), for
 * `signed` (the SafeTx encoding and safeTxHash, or for a nested Safe the SafeMessage that
 * wraps it). EOA entries must recover to their stated signer; contract entries are put to
 * the owner contract itself (`isValidSignature`, as the Safe will); a Safe owner's nested
 * owner signatures are checked the same way, one level down. Throws on the first entry
 * that is wrong (not an owner, repeated, forged, inconsistent), naming it.
 */
export async function checkSignatures(client: PublicClient, safe: SafeInfo, chainId: number, signed: SignedData, entries: readonly OwnerSignature[], label = "signature", depth = 0): Promise<SignatureCheck> {
  const owners = new Set(safe.owners);
  const seen = new Set<Address>();
  const result: SignatureCheck = { valid: [], pending: [], kept: [] };
  for (const [i, entry] of entries.entries()) {
    const name = `${label} ${i + 1}`;
    const claimed = getAddress(entry.signer);
    if (entry.kind !== "contract") {
      const recovered = await recoverEoa(signed.hash, entry.signature, `${name} (by ${claimed})`);
      if (recovered !== claimed) {
        throw new InvalidSignatureError(
          `${name} claims to be by ${claimed} but recovers to ${recovered}: it does not sign this proposal's ${depth === 0 ? "safeTxHash" : `message for Safe ${safe.address}`} (was the file edited after signing?)`,
        );
      }
    }
    if (!owners.has(claimed)) throw new InvalidSignatureError(`${name} is by ${claimed}, which is not an owner of ${depth === 0 ? "the Safe" : `Safe ${safe.address}`}`);
    if (seen.has(claimed)) throw new InvalidSignatureError(`${name} repeats a signature by ${claimed}`);
    seen.add(claimed);
    if (entry.kind !== "contract") {
      const kept = { signer: claimed, signature: entry.signature };
      result.valid.push(kept);
      result.kept.push(kept);
      continue;
    }
    let nested: SignatureCheck | undefined;
    let ownerSafe: SafeInfo | undefined;
    if (entry.ownerSignatures !== undefined) {
      if (depth + 1 >= MAX_SIGNATURE_NESTING) throw new InvalidSignatureError(`${name}: owner signatures nest deeper than ${MAX_SIGNATURE_NESTING} Safes`);
      ownerSafe = await readSafe(client, claimed, `${name} (owner Safe ${claimed})`);
      nested = await checkSignatures(client, ownerSafe, chainId, safeMessageSignedData(chainId, claimed, signed.data), entry.ownerSignatures, `${name}: owner signature`, depth + 1);
      if (packSignatures(nested.kept).toLowerCase() !== entry.signature.toLowerCase()) {
        throw new InvalidSignatureError(`${name} (Safe owner ${claimed}): its signature bytes are not its owners' signatures packed (was the file edited?)`);
      }
    }
    const kept: OwnerSignature = { signer: claimed, signature: entry.signature, kind: "contract", ...(nested === undefined ? {} : { ownerSignatures: nested.kept }) };
    const answer = await contractAcceptsSignature(client, claimed, signed.data, entry.signature);
    if (answer.ok) {
      result.valid.push(kept);
      result.kept.push(kept);
    } else if (nested !== undefined && ownerSafe !== undefined && BigInt(nested.valid.length) < ownerSafe.threshold) {
      result.pending.push({ signer: claimed, have: nested.valid.length, need: ownerSafe.threshold });
      result.kept.push(kept);
    } else {
      throw new InvalidSignatureError(`${name} (contract owner ${claimed}) is not accepted by ${claimed}: ${answer.reason}`);
    }
  }
  return result;
}

async function recoverEoa(hash: Hex, signature: Hex, name: string): Promise<Address> {
  try {
    return await recoverSafeSignature(hash, signature);
  } catch (error) {
    if (error instanceof InvalidSignatureError) throw new InvalidSignatureError(`${name}: ${error.message}`);
    throw new InvalidSignatureError(`${name} is malformed and recovers to no address`);
  }
}

/**
 * The owners among `owners` who approved `hash` on chain with `approveHash` (Safe's
 * `approvedHashes(owner, hash) != 0`). An unreadable answer is an error, never "not approved".
 */
export async function onChainApprovals(client: PublicClient, safe: Address, hash: Hex, owners: readonly Address[]): Promise<Address[]> {
  if (owners.length === 0) return [];
  const { results } = await readContracts(
    client,
    owners.map((owner) => ({ address: safe, abi: safeAbi, functionName: "approvedHashes" as const, args: [owner, hash] as const })),
  );
  return owners.filter((owner, i) => {
    const result = results[i];
    if (result === undefined || result.status !== "success") throw new InvalidSignatureError(`Safe ${safe} did not answer approvedHashes(${owner}, ${hash}): on-chain approvals cannot be counted`);
    return (result.result as bigint) !== 0n;
  });
}

/** Approvals on chain and owner Safes still collecting, in words. */
export function signatureStatusLines(checked: { approvals: readonly Address[]; pending: readonly PendingSignature[] }): string[] {
  return [
    ...(checked.approvals.length === 0 ? [] : [`approved on chain (approveHash, counted): ${checked.approvals.join(", ")}`]),
    ...checked.pending.map((entry) => `owner Safe ${entry.signer}: ${entry.have} of its ${entry.need} owner signatures so far (not counted yet)`),
  ];
}
