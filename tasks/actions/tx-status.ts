import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { getAddress, TransactionNotFoundError, type Hex, type PublicClient } from "viem";

import { PendingTransactionError, toRpcError } from "../../src/chain/errors.js";
import { journaledState, waitForTransaction, type JournaledState } from "../../src/chain/send-transaction.js";
import { fileJournal, type PendingTransaction } from "../../src/deployments/tx-journal.js";
import { DstackGovernanceError } from "../../src/util/errors.js";
import { parseBytes32 } from "../../src/util/hex.js";
import { connectChain, deploymentsDir, receiptTimeoutFromEnv } from "../lib/connection.js";
import { runCommand } from "../lib/output.js";

interface Args {
  hash: string | undefined;
  wait: boolean;
  json: boolean;
}

/**
 * The transactions this tool sent on the chain and has not seen mined (the journal left by
 * an interrupted run), or one transaction by hash: their state now, and with `--wait` the
 * outcome. Exit 0 when everything listed is mined successfully (or nothing is pending), 1
 * when one reverted or was replaced, 3 when one is still pending after the wait limit.
 */
export default async function (args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(args.json, async () => {
    const wanted = args.hash === undefined ? undefined : (parseBytes32(args.hash, "--hash") as Hex);
    const { publicClient, chainId, connection } = await connectChain(hre, { readOnly: true });
    const journal = connection.networkConfig.type === "http" ? fileJournal(deploymentsDir(hre), chainId) : undefined;
    let entries: Array<Pick<PendingTransaction, "hash" | "from" | "nonce" | "summary">> = journal?.list() ?? [];
    if (wanted !== undefined) {
      const journaled = entries.find((entry) => entry.hash?.toLowerCase() === wanted.toLowerCase());
      entries = [journaled ?? (await describeByHash(publicClient, wanted))];
    }
    const results: Array<{ hash: Hex | null; from: string; nonce: number; summary: string; state: string; blockNumber?: bigint; status?: string; error?: string }> = [];
    let ok = true;
    for (const entry of entries) {
      let state: JournaledState = await journaledState(publicClient, entry);
      const base = { hash: entry.hash ?? null, from: entry.from, nonce: entry.nonce, summary: entry.summary };
      if (state.kind === "pending" && args.wait && entry.hash !== undefined) {
        try {
          const confirmed = await waitForTransaction(
            publicClient,
            { summary: entry.summary, hash: entry.hash, from: getAddress(entry.from), nonce: entry.nonce, resumed: true },
            { ...(journal === undefined ? {} : { journal }), log: (line) => console.error(line), receiptTimeoutMs: receiptTimeoutFromEnv() },
          );
          state = { kind: "mined", blockNumber: confirmed.blockNumber, status: "success" };
        } catch (error) {
          if (error instanceof PendingTransactionError || !(error instanceof DstackGovernanceError) || error.code === "RPC_ERROR") throw error;
          results.push({ ...base, state: "failed", error: error.message });
          ok = false;
          continue;
        }
      }
      // A mined or vanished entry is settled: the journal only keeps what may still land.
      if (state.kind !== "pending") journal?.remove(getAddress(entry.from), entry.nonce);
      if (state.kind === "mined" && state.status !== "success") ok = false;
      results.push({ ...base, state: state.kind, ...(state.kind === "mined" ? { blockNumber: state.blockNumber, status: state.status } : {}) });
    }
    const describe = (r: (typeof results)[number]): string => {
      const what = `${r.hash ?? "(hash unknown)"} ${r.summary} (from ${r.from}, nonce ${r.nonce})`;
      if (r.state === "mined") return `${r.status === "success" ? "MINED   " : "REVERTED"} ${what} in block ${r.blockNumber}`;
      if (r.state === "pending") return `PENDING  ${what}: wait with --wait, or replace it by sending nonce ${r.nonce} with a higher fee`;
      if (r.state === "failed") return `FAILED   ${what}: ${r.error}`;
      if (r.state === "free") return `DROPPED  ${what}: unknown to the node, nonce unused; re-run the command that sent it`;
      return `REPLACED ${what}: its nonce was used by another transaction`;
    };
    return {
      ok,
      data: { chainId, journal: journal?.file ?? null, transactions: results },
      lines: results.length === 0 ? [`no pending transactions on chain ${chainId}${journal === undefined ? "" : ` (${journal.file})`}`] : results.map(describe),
    };
  });
}

async function describeByHash(client: PublicClient, hash: Hex): Promise<Pick<PendingTransaction, "hash" | "from" | "nonce" | "summary">> {
  const tx = await client.getTransaction({ hash }).catch((error: unknown) => {
    if (error instanceof TransactionNotFoundError) return undefined;
    throw toRpcError(client, "eth_getTransactionByHash", error);
  });
  if (tx === undefined) throw new DstackGovernanceError("TX_UNKNOWN", `--hash: transaction ${hash} is unknown to the node (never sent, dropped, or another chain)`);
  return { hash, from: getAddress(tx.from), nonce: tx.nonce, summary: tx.to === null ? "contract creation" : `call to ${getAddress(tx.to)}` };
}
