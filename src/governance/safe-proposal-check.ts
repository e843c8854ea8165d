import { getAddress, type Address, type PublicClient } from "viem";

import { ERC1967_IMPLEMENTATION_SLOT } from "../chain/app-state.js";
import { toRpcError } from "../chain/errors.js";
import { WrongChainError } from "../manage/errors.js";
import { safeAbi } from "./abi/safe.js";
import type { DecodedAction } from "./decode.js";
import { formatDuration } from "../util/duration.js";
import { OperationStateError, ProposalMismatchError, SafeNonceError } from "./errors.js";
import { assertNoGasRefund, gasRefundOf, type GasRefund } from "./gas-refund.js";
import { decodeMultiSendCall } from "./multisend.js";
import { checkProposalIntegrity, proposalTransaction, type SafeProposal } from "./proposal.js";
import { assertMultiSendCallOnly } from "./safe-contracts.js";
import { readSafe, type SafeInfo } from "./safe-state.js";
import { getTransactionHashArgs, type SafeTransaction } from "./safe-tx.js";
import { safeTxSignedData } from "./contract-signatures.js";
import { checkSignatures, onChainApprovals, type PendingSignature } from "./signature-check.js";
import type { OwnerSignature } from "./signatures.js";
import { operationId, scheduledOperation } from "./timelock-operation.js";
import { readTimelockDelay } from "./timelock-state.js";

export interface CheckedProposal {
  safe: SafeInfo;
  /** Non-zero gas/refund fields (only when the signer allowed them: allowGasRefund). */
  gasRefund?: GasRefund;
  /** What the chain adds to the decoded actions: a new controller without code, a no-op upgrade. */
  notes: string[];
  /** The file's signatures that count, each verified: recovers to (or, for a contract owner, is accepted by) a current owner. */
  signatures: OwnerSignature[];
  /** Safe owners whose own owners are still signing (kept in the file, not counted yet). */
  pending: PendingSignature[];
  /** What the file keeps: the counted and the pending signatures, in file order. */
  kept: OwnerSignature[];
  /** Owners without a signature in the file who approved the safeTxHash on chain (`approveHash`): they count. */
  approvals: Address[];
  /** Owners who have neither signed nor approved yet. */
  missing: Address[];
  /** For a batch: the MultiSendCallOnly release the Safe delegatecalls. */
  multiSendRelease?: string;
}

/**
 * Everything `safe-sign` and `safe-execute` check before touching a proposal: the file
 * is consistent with itself (hash and decoded actions), it is for this chain, the Safe
 * computes the same safeTxHash, a delegatecall goes only to a MultiSendCallOnly release
 * (by code hash), the nonce is not used yet (for execution: is the next one), the gas and
 * refund fields are zero (unless `allowGasRefund`), every timelock operation it schedules
 * has at least the timelock's minimum delay, every signature recovers to (or, for a
 * contract owner, is accepted by) a current owner, and which other owners approved the
 * hash on chain. `notes` carries what the chain adds about the authority changes it makes.
 */
export async function checkProposal(
  client: PublicClient,
  proposal: SafeProposal,
  where: string,
  purpose: "sign" | "execute",
  options: { allowGasRefund?: boolean } = {},
): Promise<CheckedProposal> {
  checkProposalIntegrity(proposal, where);
  const chainId = await client.getChainId().catch((error: unknown) => {
    throw toRpcError(client, "eth_chainId", error);
  });
  if (chainId !== proposal.chainId) throw new WrongChainError(proposal.chainId, chainId);
  const block = await client.getBlock({ blockTag: "latest" }).catch((error: unknown) => {
    throw toRpcError(client, "eth_getBlockByNumber", error);
  });
  const gasRefund = gasRefundOf(proposal, block.gasLimit);
  assertNoGasRefund(gasRefund, where, options.allowGasRefund === true);
  const safe = await readSafe(client, proposal.safe, `${where} (safe)`);
  const tx = proposalTransaction(proposal);
  const onChain = await client.readContract({ address: safe.address, abi: safeAbi, functionName: "getTransactionHash", args: getTransactionHashArgs(tx) }).catch((error: unknown) => {
    throw toRpcError(client, "eth_call", error);
  });
  if (onChain.toLowerCase() !== proposal.safeTxHash.toLowerCase()) {
    throw new ProposalMismatchError(`${where}: Safe ${safe.address} computes safeTxHash ${onChain} for these fields, not ${proposal.safeTxHash}`);
  }
  let multiSendRelease: string | undefined;
  if (tx.operation === 1) multiSendRelease = await assertMultiSendCallOnly(client, tx.to, chainId);
  if (tx.nonce < safe.nonce) {
    throw new SafeNonceError(
      `${where}: nonce ${tx.nonce} was already used (Safe ${safe.address} is at nonce ${safe.nonce}): this proposal was executed or replaced and cannot be ${purpose === "sign" ? "signed" : "executed"}`,
    );
  }
  if (purpose === "execute" && tx.nonce > safe.nonce) {
    throw new SafeNonceError(`${where}: nonce ${tx.nonce} is not next (Safe ${safe.address} is at nonce ${safe.nonce}): execute the proposals with nonces ${safe.nonce}..${tx.nonce - 1n} first`);
  }
  await assertScheduleDelays(client, tx, where);
  const notes = await controlNotes(client, proposal.actions);
  const { valid, pending, kept } = await checkSignatures(client, safe, chainId, safeTxSignedData(chainId, safe.address, tx), proposal.signatures);
  const signed = new Set(valid.map((entry) => getAddress(entry.signer)));
  const approvals = await onChainApprovals(client, safe.address, proposal.safeTxHash, safe.owners.filter((owner) => !signed.has(owner)));
  const counted = new Set([...signed, ...approvals]);
  return {
    safe,
    notes,
    ...(gasRefund === undefined ? {} : { gasRefund }),
    signatures: valid,
    pending,
    kept,
    approvals,
    missing: safe.owners.filter((owner) => !counted.has(owner)),
    ...(multiSendRelease === undefined ? {} : { multiSendRelease }),
  };
}

/**
 * Every timelock operation the transaction schedules (directly or in its batch) has at
 * least the timelock's current minimum delay: the timelock would revert it at execution
 * (TimelockInsufficientDelay), after the owners signed for nothing.
 */
async function assertScheduleDelays(client: PublicClient, tx: SafeTransaction, where: string): Promise<void> {
  const calls = tx.operation === 1 ? decodeMultiSendCall(tx.data) : [tx];
  for (const call of calls) {
    const op = scheduledOperation(call.to, call.data);
    if (op === undefined) continue;
    const minDelay = await readTimelockDelay(client, op.timelock, `${where} (timelock)`);
    if (op.delay < minDelay) {
      throw new OperationStateError(
        `${where}: the proposal schedules operation ${operationId(op)} on timelock ${op.timelock} with a delay of ${formatDuration(op.delay)}, below the timelock's minimum delay of ${formatDuration(minDelay)}: the timelock would refuse it when executed; do not sign it, propose it again`,
      );
    }
  }
}

/**
 * What the chain says about the accounts a proposal gives control to: an account without
 * code is one private key (no multisig, no timelock), a module, guard, handler or
 * implementation without code does nothing a signer can read; an upgrade to the current
 * implementation changes no code and exists only for the call it carries.
 */
export async function controlNotes(client: PublicClient, actions: readonly DecodedAction[]): Promise<string[]> {
  const notes: string[] = [];
  const codeOf = new Map<Address, boolean>();
  const hasCode = async (address: Address): Promise<boolean> => {
    if (!codeOf.has(address)) {
      const code = await client.getCode({ address }).catch((error: unknown) => {
        throw toRpcError(client, "eth_getCode", error);
      });
      codeOf.set(address, code !== undefined && code !== "0x");
    }
    return codeOf.get(address)!;
  };
  for (const action of actions) {
    const authority = action.authority;
    if (authority === undefined) continue;
    const upgrade = action.call.startsWith("upgradeToAndCall(");
    for (const gainer of authority.gains) {
      if (await hasCode(gainer)) continue;
      notes.push(
        upgrade || /^(setAppImplementation|enableModule|setGuard|setFallbackHandler)\(/.test(action.call)
          ? `step ${action.step}: ${gainer} has NO contract code: the call hands control to an address with nothing to run`
          : `step ${action.step}: ${gainer} has no contract code: it is an externally owned account, ONE private key (no multisig, no timelock) would hold this control`,
      );
    }
    if (upgrade && authority.gains[0] !== undefined) {
      const slot = await client.getStorageAt({ address: action.to, slot: ERC1967_IMPLEMENTATION_SLOT }).catch((error: unknown) => {
        throw toRpcError(client, "eth_getStorageAt", error);
      });
      const current = slot === undefined ? undefined : getAddress(`0x${slot.slice(-40)}`);
      if (current === authority.gains[0]) {
        notes.push(`step ${action.step}: ${current} is ALREADY the implementation of ${action.to}: this "upgrade" changes no code; its only effect is the call it carries (step ${action.step}.1)`);
      }
    }
  }
  return notes;
}
