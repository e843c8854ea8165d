import { getAddress, recoverTypedDataAddress, zeroAddress, type Address, type PublicClient } from "viem";

import type { SignerClient } from "../chain/clients.js";
import { contractAcceptsSignature, safeMessageTypedData, safeTxSignedData } from "./contract-signatures.js";
import { InvalidSignatureError, NotSafeOwnerError, OwnerSafeWithoutFallbackError } from "./errors.js";
import { proposalTransaction, type SafeProposal } from "./proposal.js";
import type { CheckedProposal } from "./safe-proposal-check.js";
import { assertSafeOwner, signingFailureReason } from "./safe-route.js";
import { isSafe, readSafe, type SafeInfo } from "./safe-state.js";
import { packSignatures, type OwnerSignature } from "./signatures.js";

/** The result of one owner of an owner Safe signing. */
export interface OwnerSafeSignature {
  /** The owner Safe's entry with this signer's signature added (replaces its entry in the file). */
  entry: OwnerSignature;
  ownerSafe: SafeInfo;
  /** Whether the owner Safe now accepts the signature (its own threshold is met): it counts for the proposal. */
  complete: boolean;
}

/**
 * An owner of `ownerSafe` — itself an owner of the proposal's Safe — signs for it: the
 * EIP-712 SafeMessage (in `ownerSafe`'s domain) wrapping the proposal's SafeTx encoding,
 * which is what `ownerSafe`'s CompatibilityFallbackHandler checks when the proposal's Safe
 * asks it `isValidSignature`. The signature is added to `ownerSafe`'s contract-signature
 * entry (created if absent); once `ownerSafe`'s threshold is met the entry counts.
 */
export async function signAsOwnerSafe(client: PublicClient, signer: SignerClient, proposal: SafeProposal, checked: CheckedProposal, ownerSafeAddress: Address): Promise<OwnerSafeSignature> {
  const me = getAddress(signer.account.address);
  const wanted = getAddress(ownerSafeAddress);
  const ownerSafe = await readOwnerSafe(client, checked, wanted, me);
  const existing = checked.kept.find((entry) => entry.signer === wanted);
  if (existing !== undefined && existing.kind !== "contract") throw new InvalidSignatureError(`ownerSafe: the file holds an EOA signature for ${wanted}, which is a contract`, { field: "ownerSafe" });
  const inner = existing?.ownerSignatures ?? [];
  if (inner.some((entry) => entry.signer === me)) throw new InvalidSignatureError(`${me} has already signed for owner Safe ${wanted}`);
  const signed = safeTxSignedData(proposal.chainId, proposal.safe, proposalTransaction(proposal));
  const typed = safeMessageTypedData(proposal.chainId, wanted, signed.data);
  const signature = await signer.signTypedData({ account: signer.account, ...typed }).catch((error: unknown) => {
    throw new InvalidSignatureError(`the signer ${me} could not sign the message for owner Safe ${wanted}: ${signingFailureReason(error)}`);
  });
  const recovered = getAddress(await recoverTypedDataAddress({ ...typed, signature }));
  if (recovered !== me) throw new InvalidSignatureError(`the signature made by ${me} recovers to ${recovered}: the signer did not sign the owner Safe's message`);
  const ownerSignatures = [...inner, { signer: me, signature }];
  const entry: OwnerSignature = { signer: wanted, signature: packSignatures(ownerSignatures).toLowerCase() as `0x${string}`, kind: "contract", ownerSignatures };
  const answer = await contractAcceptsSignature(client, wanted, signed.data, entry.signature);
  if (!answer.ok && BigInt(ownerSignatures.length) >= ownerSafe.threshold) {
    throw new InvalidSignatureError(`owner Safe ${wanted} does not accept its owners' signatures (${answer.reason}); nothing written`);
  }
  return { entry, ownerSafe, complete: answer.ok };
}

/**
 * Checks that `ownerSafe` is an owner of the proposal's Safe, that `signer` is one of its
 * owners, and that it can answer `isValidSignature` (a fallback handler is set); returns it.
 */
export async function readOwnerSafe(client: PublicClient, checked: CheckedProposal, ownerSafe: Address, signer: Address): Promise<SafeInfo> {
  const wanted = getAddress(ownerSafe);
  const me = getAddress(signer);
  if (!checked.safe.owners.includes(wanted)) {
    throw new NotSafeOwnerError(`ownerSafe: ${wanted} is not an owner of Safe ${checked.safe.address} (owners: ${checked.safe.owners.join(", ")})`, { field: "ownerSafe" });
  }
  const info = await readSafe(client, wanted, "ownerSafe");
  assertSafeOwner(info, me, "sign for it");
  // Safe answers isValidSignature only through its fallback handler: without one, a signature would never count.
  if (info.fallbackHandler === zeroAddress) {
    throw new OwnerSafeWithoutFallbackError(wanted);
  }
  return info;
}

/** The owners of `safe` that are Safes with `account` among their owners (where signing as an owner Safe applies). */
export async function ownerSafesOf(client: PublicClient, safe: SafeInfo, account: Address): Promise<Address[]> {
  const found: Address[] = [];
  for (const owner of safe.owners) {
    const code = await client.getCode({ address: owner }).catch(() => undefined);
    if (code === undefined || code === "0x" || !(await isSafe(client, owner))) continue;
    const inner = await readSafe(client, owner).catch(() => undefined);
    if (inner?.owners.includes(getAddress(account))) found.push(owner);
  }
  return found;
}
