import { decodeEventLog, getAddress, type Abi, type Address, type Hex, type Log, type PublicClient } from "viem";

import { dstackAppAbi } from "../abi/dstack-app.js";
import { dstackKmsAbi } from "../abi/dstack-kms.js";
import { toRpcError } from "../chain/errors.js";
import { TransactionRevertedError } from "../manage/errors.js";
import type { SignerClient } from "../chain/clients.js";
import { safeAbi } from "./abi/safe.js";
import { timelockControllerAbi } from "./abi/timelock-controller.js";
import { ThresholdNotMetError } from "./errors.js";
import { proposalTransaction, type SafeProposal } from "./proposal.js";
import type { CheckedProposal } from "./safe-proposal-check.js";
import { encodeExecTransaction } from "./safe-tx.js";
import { sendChecked } from "./deploy.js";
import { approvedHashSignature, packSignatures } from "./signatures.js";
import { simulateAs } from "./simulate.js";

export interface ExecutedProposal {
  transactionHash: Hex;
  blockNumber: bigint;
  gasUsed: bigint;
  /** The events the execution emitted, decoded where the toolkit knows the contract. */
  events: Array<{ address: Address; event: string }>;
}

/** Who counts towards the threshold: owners with a valid signature in the file, then owners who approved on chain. */
export function countedSigners(checked: CheckedProposal): Address[] {
  return [...checked.signatures.map((entry) => entry.signer), ...checked.approvals];
}

/** Throws `ThresholdNotMetError` (naming who signed and who still can, and how) unless enough owners signed or approved. */
export function assertThreshold(checked: CheckedProposal, where: string): void {
  const signed = countedSigners(checked);
  const have = BigInt(signed.length);
  if (have >= checked.safe.threshold) return;
  const pending = checked.pending.map((entry) => `${entry.signer} (a Safe: ${entry.have} of its ${entry.need} owner signatures)`);
  throw new ThresholdNotMetError(
    `${where}: threshold not met: ${have} of the ${checked.safe.threshold} required signatures of Safe ${checked.safe.address}` +
      `${signed.length === 0 ? "" : ` (signed by ${signed.join(", ")})`}; ${checked.safe.threshold - have} more needed from ${[...checked.missing.filter((owner) => !checked.pending.some((entry) => entry.signer === owner)), ...pending].join(", ")}`,
    where,
  );
}

/** The `signatures` argument: the file's counted signatures and the on-chain approvals, packed as Safe 1.4.1 reads them. */
export function executionSignatures(checked: CheckedProposal): Hex {
  return packSignatures([...checked.signatures, ...checked.approvals.map((owner) => approvedHashSignature(owner))]);
}

/** Packs the signatures and simulates `execTransaction` from the executing account; returns the calldata and gas. */
export async function simulateExecution(client: PublicClient, executor: Address, proposal: SafeProposal, checked: CheckedProposal): Promise<{ data: Hex; gas: bigint }> {
  const data = encodeExecTransaction(proposalTransaction(proposal), executionSignatures(checked));
  const gas = await simulateAs(client, executor, { to: checked.safe.address, data, value: 0n, summary: `execute Safe transaction ${proposal.safeTxHash}` }, `the executing account ${executor}`);
  return { data, gas };
}

/**
 * Executes a checked proposal whose signatures meet the threshold: anyone may send
 * `execTransaction` (the signatures authorise it, the sender only pays the gas). The
 * Safe's `ExecutionSuccess` event for this safeTxHash is required in the receipt.
 */
export async function executeProposal(client: PublicClient, signer: SignerClient, proposal: SafeProposal, checked: CheckedProposal, where: string): Promise<ExecutedProposal> {
  assertThreshold(checked, where);
  const { data } = await simulateExecution(client, getAddress(signer.account.address), proposal, checked);
  const summary = `execute Safe transaction ${proposal.safeTxHash}`;
  const hash = await sendChecked(client, signer, { to: checked.safe.address, data, summary });
  const receipt = await client.waitForTransactionReceipt({ hash }).catch((error: unknown) => {
    throw toRpcError(client, "eth_getTransactionReceipt", error);
  });
  if (receipt.status !== "success") throw new TransactionRevertedError(summary, `transaction ${hash} reverted in block ${receipt.blockNumber}`);
  const events = decodeEvents(receipt.logs);
  const outcome = events.find((entry) => entry.address === checked.safe.address && /^Execution(Success|Failure)\(/.test(entry.event) && entry.event.includes(proposal.safeTxHash));
  if (outcome === undefined || outcome.event.startsWith("ExecutionFailure")) {
    throw new TransactionRevertedError(summary, `the Safe reported ${outcome === undefined ? "no ExecutionSuccess" : "ExecutionFailure"} in transaction ${hash}`);
  }
  return { transactionHash: hash, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed, events };
}

const EVENTS_ABI = [...dstackAppAbi, ...dstackKmsAbi, ...timelockControllerAbi, ...safeAbi].filter((item) => item.type === "event") as unknown as Abi;

/** Logs as `Name(arg=value, …)` lines, raw topic when unknown. */
export function decodeEvents(logs: readonly Log[]): Array<{ address: Address; event: string }> {
  return logs.map((log) => {
    const address = getAddress(log.address);
    try {
      const decoded = decodeEventLog({ abi: EVENTS_ABI, data: log.data, topics: log.topics as [Hex, ...Hex[]] });
      const args = decoded.args === undefined ? "" : Object.entries(decoded.args as unknown as Record<string, unknown>).map(([key, value]) => `${key}=${typeof value === "bigint" ? value.toString() : String(value)}`).join(", ");
      return { address, event: `${decoded.eventName}(${args})` };
    } catch {
      return { address, event: `unknown event ${log.topics[0] ?? "(anonymous)"}` };
    }
  });
}
