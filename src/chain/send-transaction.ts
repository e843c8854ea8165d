import {
  getAddress,
  TransactionNotFoundError,
  TransactionReceiptNotFoundError,
  WaitForTransactionReceiptTimeoutError,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
} from "viem";

import { intentOf, type PendingTransaction, type TxJournal } from "../deployments/tx-journal.js";
import { InsufficientFundsError, TransactionRevertedError } from "../manage/errors.js";
import type { SignerClient } from "./clients.js";
import { PendingTransactionError, RpcError, isRevertError, rpcErrorCode, errorChain, toRpcError } from "./errors.js";
import { revertReason } from "../governance/simulate.js";


/** One transaction to send: a call (`to`) or a contract creation (no `to`). */
export interface TransactionRequest {
  to?: Address;
  data: Hex;
  value?: bigint;
  /** What it does, in the words printed to the operator ("allow compose hash 0x…"). */
  summary: string;
  /** A gas estimate already made (and the balance already checked) by the caller's pre-flight. */
  gas?: bigint;
}

/** How sends report and remember; set per signer by the task layer (`useSendOptions`). */
export interface SendOptions {
  /** Where pending transactions are remembered; none on a chain that ends with the process. */
  journal?: TxJournal;
  /** Progress lines (the hash the moment it is sent, waits, resumed sends), for stderr. */
  log?: (line: string) => void;
  /** Longest wait for a receipt before giving up (the transaction stays in the journal). Default 10 min. */
  receiptTimeoutMs?: number;
  /** How often a long wait prints that it is still waiting. Default 15 s. */
  progressEveryMs?: number;
  /** The command that waits for a pending transaction, named in messages (given by the front end). */
  statusCommand?: string;
  /** Told when a transaction is sent or starts waiting for its receipt (and, with undefined, when the wait ends): lets a CLI say what Ctrl-C leaves behind. */
  onWaiting?: (tx: SubmittedTransaction | undefined) => void;
}

export interface SubmittedTransaction {
  summary: string;
  hash: Hex;
  from: Address;
  nonce: number;
  /** true when the hash is an earlier run's transaction that this run found in the journal instead of sending. */
  resumed: boolean;
}

export interface ConfirmedTransaction extends SubmittedTransaction {
  blockNumber: bigint;
  gasUsed: bigint;
  /** The created contract, for a contract creation. */
  contractAddress?: Address;
  receipt: TransactionReceipt;
}

const optionsBySigner = new WeakMap<object, SendOptions>();

/**
 * Attaches send options to a signer client. The journal and the progress output belong to
 * the connection the task opened, not to each call site, so every path that sends with this
 * signer (direct changes, deployments, Safe execution) journals and reports alike.
 */
export function useSendOptions(signer: SignerClient, options: SendOptions): void {
  optionsBySigner.set(signer, options);
}

function optionsFor(signer: SignerClient, given: SendOptions | undefined): SendOptions {
  return { ...optionsBySigner.get(signer), ...given };
}

/** The explorer page of a transaction, when the chain has a known explorer. */
export function explorerLink(chain: Chain | undefined, hash: Hex): string | undefined {
  const url = chain?.blockExplorers?.default?.url;
  return url === undefined ? undefined : `${url.replace(/\/$/, "")}/tx/${hash}`;
}

/** Simulates a transaction: its gas estimate, or `TransactionRevertedError` with the reason. Sends nothing. */
export async function simulateTransaction(client: PublicClient, from: Address, tx: TransactionRequest): Promise<bigint> {
  try {
    return await client.estimateGas({ account: from, ...(tx.to === undefined ? {} : { to: tx.to }), data: tx.data, value: tx.value ?? 0n });
  } catch (error) {
    if (isRevertError(error)) throw new TransactionRevertedError(tx.summary, revertReason(error));
    throw toRpcError(client, "eth_estimateGas", error);
  }
}

/** Throws `InsufficientFundsError` unless `from` can pay `gas` at the current max fee per gas. */
export async function assertBalanceCovers(client: PublicClient, from: Address, gas: bigint): Promise<void> {
  const [fees, balance] = await Promise.all([
    client.estimateFeesPerGas().catch((error: unknown) => {
      throw toRpcError(client, "eth_feeHistory", error);
    }),
    client.getBalance({ address: from }).catch((error: unknown) => {
      throw toRpcError(client, "eth_getBalance", error);
    }),
  ]);
  const pricePerGas = fees.maxFeePerGas ?? fees.gasPrice ?? 0n;
  const needed = gas * pricePerGas;
  if (balance < needed) throw new InsufficientFundsError(from, balance, needed);
}

/**
 * Simulates, checks the balance, sends and waits: the one way this toolkit sends a
 * transaction. The hash is reported (and journaled) the moment the node accepts it, so
 * an interrupted wait loses nothing; a re-run of the same change finds the journaled
 * transaction and waits for it instead of sending a second one. A revert (simulated or
 * mined) is `TransactionRevertedError`; a node failure is `RpcError`; a receipt that does
 * not come is `PendingTransactionError`.
 */
export async function sendTransaction(client: PublicClient, signer: SignerClient, tx: TransactionRequest, options?: SendOptions): Promise<ConfirmedTransaction> {
  const submitted = await submitTransaction(client, signer, tx, options);
  return waitForTransaction(client, submitted, optionsFor(signer, options));
}

/** The first half of `sendTransaction`: everything up to the hash (or an earlier run's hash). */
export async function submitTransaction(client: PublicClient, signer: SignerClient, tx: TransactionRequest, given?: SendOptions): Promise<SubmittedTransaction> {
  const options = optionsFor(signer, given);
  const log = options.log ?? (() => {});
  const from = getAddress(signer.account.address);
  const chainId = await client.getChainId().catch((error: unknown) => {
    throw toRpcError(client, "eth_chainId", error);
  });
  const intent = intentOf(chainId, from, tx);
  const journal = options.journal;
  let nonce: number | undefined;

  for (const entry of journal?.list().filter((e) => getAddress(e.from) === from) ?? []) {
    const state = await journaledState(client, entry);
    const mine = entry.intent === intent;
    const what = `${entry.hash === undefined ? "a transaction" : `transaction ${entry.hash}`} (${entry.summary}, nonce ${entry.nonce})`;
    if (state.kind === "mined") {
      if (mine) {
        log(`found ${what} from an earlier run, mined in block ${state.blockNumber}: not sending it again`);
        return { summary: tx.summary, hash: entry.hash!, from, nonce: entry.nonce, resumed: true };
      }
      journal!.remove(from, entry.nonce);
    } else if (state.kind === "pending") {
      if (mine) {
        log(`${what} from an earlier run is still pending: waiting for it, not sending it again`);
        log(`  to replace it instead, send nonce ${entry.nonce} from ${from} with a higher fee`);
        return { summary: tx.summary, hash: entry.hash!, from, nonce: entry.nonce, resumed: true };
      }
      log(`warning: ${what} from an earlier run is still pending; this transaction is mined only after it`);
    } else if (state.kind === "free") {
      // The node has no such transaction and the nonce is unused: it never arrived or was
      // dropped. Re-sending the same change with the same nonce means at most one can land.
      journal!.remove(from, entry.nonce);
      if (mine) {
        nonce = entry.nonce;
        log(`${what} from an earlier run is unknown to the node and nonce ${entry.nonce} is unused: sending again with that nonce`);
      }
    } else {
      journal!.remove(from, entry.nonce);
      if (mine) {
        throw new PendingTransactionError(
          `an earlier run of "${tx.summary}" stopped while sending (nonce ${entry.nonce} of ${from}); that nonce is now used by a transaction this tool cannot identify. Check the chain (the change may already be made), then run the command again`,
        );
      }
    }
  }

  const gas = tx.gas ?? (await simulateAndCheckFunds(client, from, tx));
  nonce ??= await client.getTransactionCount({ address: from, blockTag: "pending" }).catch((error: unknown) => {
    throw toRpcError(client, "eth_getTransactionCount", error);
  });
  const entry: PendingTransaction = { chainId, from, nonce, intent, summary: tx.summary, to: tx.to ?? null, sentAt: new Date().toISOString() };
  // Journaled before the request: if the process dies while the node is receiving it, the
  // next run knows that nonce may be taken by this change.
  journal?.put(entry);
  let hash: Hex;
  try {
    hash = await signer.sendTransaction({
      account: signer.account,
      chain: signer.chain,
      ...(tx.to === undefined ? {} : { to: tx.to }),
      data: tx.data,
      value: tx.value ?? 0n,
      gas: withMargin(gas),
      nonce,
    });
  } catch (error) {
    const rpcError = toRpcError(client, "eth_sendTransaction", error);
    if (nodeRefused(error)) {
      journal?.remove(from, nonce);
      throw rpcError;
    }
    throw new RpcError(
      { method: rpcError.method, url: rpcError.url, reason: rpcError.message.replace(/^RPC \S+ failed(?: at \S+)?: /, "") },
      {
        details: `the transaction (nonce ${nonce} of ${from}) may have reached the node; running the same command again checks that nonce first and sends nothing twice`,
        cause: error,
      },
    );
  }
  journal?.put({ ...entry, hash });
  const submitted = { summary: tx.summary, hash, from, nonce, resumed: false };
  // Before the hash is shown: whoever reads it and presses Ctrl-C gets the explanation.
  options.onWaiting?.(submitted);
  const link = explorerLink(signer.chain, hash);
  log(`sent: ${tx.summary}: tx ${hash} (nonce ${nonce})${link === undefined ? "" : ` ${link}`}`);
  return submitted;
}

/** The second half of `sendTransaction`: waits for the receipt (with progress), clears the journal entry. */
export async function waitForTransaction(client: PublicClient, submitted: SubmittedTransaction, options: SendOptions = {}): Promise<ConfirmedTransaction> {
  const log = options.log ?? (() => {});
  const timeoutMs = options.receiptTimeoutMs ?? 600_000;
  const started = Date.now();
  options.onWaiting?.(submitted);
  const progress = setInterval(() => log(`still waiting for ${submitted.hash} (${submitted.summary}) to be mined: ${Math.round((Date.now() - started) / 1000)} s`), options.progressEveryMs ?? 15_000);
  progress.unref();
  let replacedBy: string | undefined;
  let receipt: TransactionReceipt;
  try {
    receipt = await client.waitForTransactionReceipt({
      hash: submitted.hash,
      timeout: timeoutMs,
      onReplaced: (replacement) => {
        if (replacement.reason !== "repriced") replacedBy = `${replacement.reason} by ${replacement.transaction.hash}`;
      },
    });
  } catch (error) {
    if (error instanceof WaitForTransactionReceiptTimeoutError) {
      const hint = options.statusCommand === undefined ? "" : ` or \`${options.statusCommand}\``;
      throw new PendingTransactionError(
        `transaction ${submitted.hash} (${submitted.summary}) is not mined after ${Math.round(timeoutMs / 1000)} s; it is still pending`,
        {
          details:
            `${options.journal === undefined ? "" : `it is recorded in ${options.journal.file}: `}run the same command again to keep waiting (nothing is sent twice)${hint}; ` +
            `to replace it, send nonce ${submitted.nonce} from ${submitted.from} with a higher fee`,
        },
      );
    }
    throw toRpcError(client, "eth_getTransactionReceipt", error);
  } finally {
    clearInterval(progress);
    options.onWaiting?.(undefined);
  }
  options.journal?.remove(submitted.from, submitted.nonce);
  if (replacedBy !== undefined) {
    throw new TransactionRevertedError(submitted.summary, `transaction ${submitted.hash} was ${replacedBy} (block ${receipt.blockNumber})`);
  }
  if (receipt.status !== "success") {
    throw new TransactionRevertedError(submitted.summary, `transaction ${submitted.hash} reverted in block ${receipt.blockNumber}`);
  }
  return {
    ...submitted,
    blockNumber: receipt.blockNumber,
    gasUsed: receipt.gasUsed,
    ...(receipt.contractAddress == null ? {} : { contractAddress: getAddress(receipt.contractAddress) }),
    receipt,
  };
}

/** What became of a journaled transaction. */
export type JournaledState =
  | { kind: "mined"; blockNumber: bigint; status: "success" | "reverted" }
  | { kind: "pending" }
  /** Unknown to the node and its nonce unused: never arrived, or dropped. */
  | { kind: "free" }
  /** Its nonce is used, by a transaction other than the journaled hash (or the hash was never learnt). */
  | { kind: "nonce-used" };

/** Reads the chain for one journal entry. */
export async function journaledState(client: PublicClient, entry: Pick<PendingTransaction, "hash" | "from" | "nonce">): Promise<JournaledState> {
  const receipt = async () =>
    entry.hash === undefined
      ? undefined
      : client.getTransactionReceipt({ hash: entry.hash }).catch((error: unknown) => {
          if (error instanceof TransactionReceiptNotFoundError) return undefined;
          throw toRpcError(client, "eth_getTransactionReceipt", error);
        });
  const first = await receipt();
  if (first !== undefined) return { kind: "mined", blockNumber: first.blockNumber, status: first.status };
  if (entry.hash !== undefined) {
    const known = await client.getTransaction({ hash: entry.hash }).catch((error: unknown) => {
      if (error instanceof TransactionNotFoundError) return undefined;
      throw toRpcError(client, "eth_getTransactionByHash", error);
    });
    if (known !== undefined && known !== null) return { kind: "pending" };
  }
  const used = await client.getTransactionCount({ address: entry.from, blockTag: "latest" }).catch((error: unknown) => {
    throw toRpcError(client, "eth_getTransactionCount", error);
  });
  if (used <= entry.nonce) return { kind: "free" };
  // Mined between the two reads?
  const second = await receipt();
  if (second !== undefined) return { kind: "mined", blockNumber: second.blockNumber, status: second.status };
  return { kind: "nonce-used" };
}

async function simulateAndCheckFunds(client: PublicClient, from: Address, tx: TransactionRequest): Promise<bigint> {
  const gas = await simulateTransaction(client, from, tx);
  await assertBalanceCovers(client, from, gas);
  return gas;
}

/**
 * Whether a failed send was answered by the node (a JSON-RPC error: nonce too low, fee
 * too low, …), so nothing is pending. A timeout, a dropped connection or a gateway error
 * leaves the question open.
 */
function nodeRefused(error: unknown): boolean {
  if (error instanceof RpcError && rpcErrorCode(error) === undefined) return false;
  const transport = errorChain(error).some((item) => {
    const name = (item as { name?: unknown }).name;
    return name === "UnknownError" || name === "HttpRequestError" || name === "TimeoutError" || name === "RpcError";
  });
  return !transport && rpcErrorCode(error) !== undefined;
}

// Estimates are exact on the simulated chain but a state change between estimate and
// inclusion (another batch landing first) can raise the cost; 20% keeps such sends alive.
const withMargin = (gas: bigint): bigint => (gas * 12n) / 10n;
