/**
 * A recorded slice of a chain at one block: what a forking node (Hardhat's EDR) needs to
 * run a fork of that block offline. Written by `recordSnapshot` (./recorder.ts), served
 * by `startSnapshotServer` (./server.ts). Plain JSON, hex strings throughout, so that a
 * snapshot diff in review reads like the chain it came from.
 *
 * What a snapshot holds is stated, never guessed: an account whose whole storage was
 * recorded says `storageComplete: true` (a slot it does not list is then zero, a fact),
 * otherwise an unlisted slot is unknown and the server answers with an error naming it.
 */
import { readFileSync } from "node:fs";

import { DstackGovernanceError } from "../util/errors.js";
import type { Hex } from "../util/hex.js";

export const SNAPSHOT_FORMAT = "dstack-governance/fork-snapshot@1";

/** How an account's storage was recorded. */
export type StorageMethod =
  /** `debug_storageRangeAt` on the source node: every non-zero slot (complete). */
  | "debug_storageRangeAt"
  /** Every slot written by the traced transactions of a reproduction (complete). */
  | "traced-sstore"
  /** Only known slots: proxy slots, contract variables, mapping keys seen in events (incomplete). */
  | "known-slots"
  /** An account without code has no storage (complete). */
  | "no-code";

export interface SnapshotAccount {
  balance: Hex;
  nonce: Hex;
  code: Hex;
  /**
   * First block at which the account had this code (found by binary search on the
   * source), so that `eth_getCode` at an older block can be answered ("0x" before it).
   * Absent for accounts without code.
   */
  codeSinceBlock?: number;
  /**
   * Balance and nonce at older blocks (decimal block number → values): the blocks a
   * search for the contract's deployment block reads (the forking node loads the whole
   * account for `eth_getCode` at an older block).
   */
  history?: Record<string, { balance: Hex; nonce: Hex }>;
  /** True when `storage` lists every non-zero slot: an unlisted slot is zero. */
  storageComplete: boolean;
  storageMethod: StorageMethod;
  /** 32-byte slot → 32-byte value, both lowercase 0x-hex, non-zero values only unless a slot was checked and is zero. */
  storage: Record<Hex, Hex>;
}

export interface SnapshotLogCoverage {
  /** Contracts whose every log up to `blockNumber` is in `logs`. */
  addresses: Hex[];
  /** The first block scanned (no listed contract had code before it). */
  fromBlock: number;
}

export interface SnapshotSource {
  /** "local-reproduction" (scripts/reproduce-sepolia-snapshot.ts) or "rpc" (scripts/record-snapshot.ts). */
  kind: "local-reproduction" | "rpc";
  /** One line: what was recorded, from where (URL redacted or omitted). */
  description: string;
  /** The source node's `web3_clientVersion`, when it answered. */
  clientVersion?: string;
}

export interface Snapshot {
  format: typeof SNAPSHOT_FORMAT;
  chainId: number;
  /** The fork block: every account and slot is recorded at this block. */
  blockNumber: number;
  source: SnapshotSource;
  /**
   * Producer-defined description of what the recorded addresses are (roles, expected
   * history): the fork tests read their addresses from here, so that a re-recorded
   * snapshot needs no code change.
   */
  scenario: Record<string, unknown>;
  /** Block number (decimal string) → the node's `eth_getBlockByNumber(n, true)` answer. */
  blocks: Record<string, RawBlock>;
  /** Transaction hash → the node's `eth_getTransactionReceipt` answer, for every transaction in `blocks`. */
  receipts: Record<Hex, Record<string, unknown>>;
  /** Lowercase address → state at `blockNumber`. */
  accounts: Record<Hex, SnapshotAccount>;
  logCoverage: SnapshotLogCoverage;
  /** Every log of `logCoverage.addresses` in `logCoverage.fromBlock..blockNumber`, in chain order. */
  logs: RawLog[];
}

export interface RawBlock {
  number: Hex;
  hash: Hex;
  timestamp: Hex;
  transactions: Array<Record<string, unknown> & { hash: Hex }>;
  [field: string]: unknown;
}

export interface RawLog {
  address: Hex;
  topics: Hex[];
  data: Hex;
  blockNumber: Hex;
  blockHash: Hex;
  transactionHash: Hex;
  transactionIndex: Hex;
  logIndex: Hex;
  removed?: boolean;
  [field: string]: unknown;
}

/** A snapshot file that cannot be used: missing, not JSON, or not of this format. */
export class SnapshotFormatError extends DstackGovernanceError {
  override name = "SnapshotFormatError";
  constructor(message: string, options: { details?: string; cause?: unknown } = {}) {
    super("SNAPSHOT_FORMAT", message, options);
  }
}

/** Reads and checks a snapshot file. */
export function loadSnapshot(path: string): Snapshot {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new SnapshotFormatError(`cannot read fork snapshot ${path}: ${(error as Error).message}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SnapshotFormatError(`fork snapshot ${path} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  return checkSnapshot(parsed, path);
}

/** Checks the shape of a parsed snapshot (enough to serve it without undefined lookups). */
export function checkSnapshot(value: unknown, where = "fork snapshot"): Snapshot {
  const fail = (what: string): never => {
    throw new SnapshotFormatError(`${where}: ${what}`);
  };
  if (typeof value !== "object" || value === null) fail("not a JSON object");
  const s = value as Partial<Snapshot>;
  if (s.format !== SNAPSHOT_FORMAT) fail(`format is ${JSON.stringify(s.format)}, expected ${JSON.stringify(SNAPSHOT_FORMAT)}`);
  if (!Number.isSafeInteger(s.chainId) || s.chainId! <= 0) fail("chainId must be a positive integer");
  if (!Number.isSafeInteger(s.blockNumber) || s.blockNumber! < 0) fail("blockNumber must be a non-negative integer");
  for (const key of ["blocks", "receipts", "accounts", "scenario", "logCoverage", "source"] as const) {
    if (typeof s[key] !== "object" || s[key] === null) fail(`${key} must be an object`);
  }
  if (!Array.isArray(s.logs)) fail("logs must be an array");
  if (s.blocks![String(s.blockNumber)] === undefined) fail(`the fork block ${s.blockNumber} is not among the recorded blocks`);
  for (const [address, account] of Object.entries(s.accounts!)) {
    if (address !== address.toLowerCase()) fail(`account ${address} must be lowercase`);
    if (typeof account.storageComplete !== "boolean") fail(`account ${address}: storageComplete must be true or false`);
    for (const key of ["balance", "nonce", "code"] as const) {
      if (typeof account[key] !== "string" || !account[key].startsWith("0x")) fail(`account ${address}: ${key} must be 0x-hex`);
    }
    if (typeof account.storage !== "object" || account.storage === null) fail(`account ${address}: storage must be an object`);
  }
  return s as Snapshot;
}

/** A 32-byte slot key in the snapshot's form: lowercase, 0x + 64 hex digits. */
export function slotKey(slot: string | bigint): Hex {
  const n = typeof slot === "bigint" ? slot : BigInt(slot);
  return `0x${n.toString(16).padStart(64, "0")}`;
}

/** Canonical quantity hex (no leading zeros), as JSON-RPC answers it. */
export function quantity(n: bigint | number): Hex {
  return `0x${BigInt(n).toString(16)}`;
}

/** The snapshot as pretty-printed JSON with keys in a stable order, so re-recording diffs cleanly. */
export function serializeSnapshot(snapshot: Snapshot): string {
  return `${JSON.stringify(sortKeys(snapshot), null, 1)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== "object" || value === null) return value;
  const entries = Object.entries(value as Record<string, unknown>);
  const numeric = entries.every(([key]) => /^\d+$/.test(key));
  entries.sort(([a], [b]) => (numeric ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([key, item]) => [key, sortKeys(item)]));
}
