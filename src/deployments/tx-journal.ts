import path from "node:path";

import { keccak256, toHex, type Address, type Hex } from "viem";

import { InvalidInputError } from "../util/errors.js";
import { chainStateDir, readStateFile, writeStateFile } from "./state-file.js";

/** A transaction this tool sent (or was sending) whose receipt it has not seen yet. */
export interface PendingTransaction {
  chainId: number;
  from: Address;
  nonce: number;
  /** Absent while the send request itself is in flight: the node may or may not have it. */
  hash?: Hex;
  /** What the transaction does (see `intentOf`): a re-run of the same command has the same intent. */
  intent: Hex;
  summary: string;
  to: Address | null;
  sentAt: string;
}

/**
 * The per-chain journal of sends not yet seen mined. An entry is written the moment a
 * transaction is sent and removed when its receipt is read, so an entry left behind
 * means a run was interrupted (Ctrl-C, a kill, a lost connection): the next run with the
 * same intent waits for that transaction instead of sending a second one.
 */
export interface TxJournal {
  readonly file: string;
  list(): PendingTransaction[];
  /** Adds the entry, replacing one with the same sender and nonce. */
  put(entry: PendingTransaction): void;
  remove(from: Address, nonce: number): void;
}

/** The identity of a send: chain, sender, target, calldata, value. The same command re-run has the same intent. */
export function intentOf(chainId: number, from: Address, tx: { to?: Address | null; data: Hex; value?: bigint }): Hex {
  return keccak256(toHex(`${chainId}|${from.toLowerCase()}|${(tx.to ?? "create").toLowerCase()}|${tx.data.toLowerCase()}|${tx.value ?? 0n}`));
}

/** The journal file of one chain under a state folder: `<dir>/chain-<id>/pending-transactions.json`. */
export function fileJournal(dir: string, chainId: number): TxJournal {
  const file = path.join(chainStateDir(dir, chainId), "pending-transactions.json");
  const read = (): PendingTransaction[] => {
    const value = readStateFile(file) as { transactions?: unknown } | undefined;
    if (value === undefined) return [];
    if (!Array.isArray(value.transactions)) throw new InvalidInputError(`${file}: expected {"transactions": [...]}; fix it or move it away`);
    return value.transactions as PendingTransaction[];
  };
  const write = (entries: PendingTransaction[]) => writeStateFile(file, { transactions: entries });
  const same = (entry: PendingTransaction, from: Address, nonce: number) => entry.from.toLowerCase() === from.toLowerCase() && entry.nonce === nonce;
  return {
    file,
    list: () => read().filter((entry) => entry.chainId === chainId),
    put(entry) {
      write([...read().filter((other) => !same(other, entry.from, entry.nonce)), entry]);
    },
    remove(from, nonce) {
      const entries = read();
      const kept = entries.filter((entry) => !same(entry, from, nonce));
      if (kept.length !== entries.length) write(kept);
    },
  };
}

/** A journal in memory: for chains that do not outlive the process (Hardhat's in-process network). */
export function memoryJournal(): TxJournal {
  let entries: PendingTransaction[] = [];
  return {
    file: "(memory)",
    list: () => [...entries],
    put(entry) {
      entries = [...entries.filter((other) => !(other.from === entry.from && other.nonce === entry.nonce)), entry];
    },
    remove(from, nonce) {
      entries = entries.filter((entry) => !(entry.from === from && entry.nonce === nonce));
    },
  };
}
