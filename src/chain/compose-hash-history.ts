import { getAddress, type Address } from "viem";
import { getBlock, getBlockNumber } from "viem/actions";

import { dstackAppAbi } from "../abi/dstack-app.js";
import { InvalidInputError } from "../util/errors.js";
import type { Hex } from "../util/hex.js";
import { mapLimit } from "../util/map-limit.js";
import { chainIdOf } from "./app-state.js";
import type { ChainClient } from "./clients.js";
import { findDeploymentBlock } from "./deployment-block.js";
import { withRpcError } from "./errors.js";
import { scanLogs, type ScanProgress } from "./log-scan.js";
import { readContracts } from "./multicall.js";

/**
 * The compose-hash allowlist of a DstackApp is a mapping, which cannot be enumerated on
 * chain; its history only exists as `ComposeHashAdded`/`ComposeHashRemoved` events. This
 * module replays them into a per-hash timeline and the resulting allowlist, then checks the
 * result against `allowedComposeHashes(hash)` at the last scanned block, because a replay
 * is only as good as its range: a hash allowed before `fromBlock` (by the initializer, say)
 * is invisible to the events but still allowed on chain.
 */

const composeHashAdded = eventItem("ComposeHashAdded");
const composeHashRemoved = eventItem("ComposeHashRemoved");
const initialized = eventItem("Initialized");

export interface ComposeHashEvent {
  action: "added" | "removed";
  blockNumber: bigint;
  /** Unix seconds of the block. */
  blockTimestamp: bigint;
  transactionHash: Hex;
  logIndex: number;
}

export interface ComposeHashRecord {
  composeHash: Hex;
  /** Every add/remove in the scanned range, in chain order. */
  events: ComposeHashEvent[];
  /** The state the events lead to (false when the hash has no events in range). */
  allowed: boolean;
  /** `allowedComposeHashes(hash)` at `toBlock`, when cross-checked. */
  allowedOnChain: boolean | undefined;
}

export interface ComposeHashMismatch {
  composeHash: Hex;
  /** What the events say. */
  fromEvents: boolean;
  /** What the contract says at `toBlock`. */
  onChain: boolean;
  /** Why they may differ and what to do. */
  reason: string;
}

export interface ComposeHashHistory {
  address: Address;
  chainId: number;
  fromBlock: bigint;
  toBlock: bigint;
  /** Hashes with events (and any `extraHashes`), ordered by first event; extra hashes without events last. */
  hashes: ComposeHashRecord[];
  /** The allowlist according to the events, in order of the add that (last) allowed each hash. */
  allowed: Hex[];
  /**
   * Whether the range contains the proxy's initialization (`Initialized(1)`). When false
   * the scan started after deployment and hashes allowed earlier are not in `hashes`.
   */
  initializedInRange: boolean;
  crossCheck:
    | {
        blockNumber: bigint;
        via: "multicall3" | "eth_call";
        checked: number;
        mismatches: ComposeHashMismatch[];
      }
    | undefined;
  stats: {
    logRequests: number;
    logChunks: number;
    /** Blocks fetched for timestamps (blocks whose logs already carried one are not fetched). */
    blockRequests: number;
  };
}

export interface ComposeHashHistoryOptions {
  /** First block; default: the contract's deployment block (`findDeploymentBlock`, needs an archive node). */
  fromBlock?: bigint;
  /** Last block; default: the head when the call starts. */
  toBlock?: bigint;
  /**
   * Hashes to cross-check even without events, e.g. the compose hash an attestation
   * reports; this is how an allowance older than `fromBlock` is found.
   */
  extraHashes?: readonly Hex[];
  /** Compare with `allowedComposeHashes` at `toBlock` (default true). */
  crossCheck?: boolean;
  /** Passed to `scanLogs`. */
  initialChunkSize?: number;
  maxChunkSize?: number;
  onProgress?: (progress: ScanProgress) => void;
}

/** Rebuilds an app's compose-hash history and allowlist from its events, then cross-checks it. */
export async function readComposeHashHistory(
  client: ChainClient,
  address: Address,
  options: ComposeHashHistoryOptions = {},
): Promise<ComposeHashHistory> {
  const app = getAddress(address);
  const chainId = await chainIdOf(client);
  const toBlock = options.toBlock ?? (await withRpcError(client, "eth_blockNumber", () => getBlockNumber(client, { cacheTime: 0 })));
  const fromBlock = options.fromBlock ?? (await findDeploymentBlock(client, app, { toBlock }));

  const scan = await scanLogs(client, {
    address: app,
    events: [composeHashAdded, composeHashRemoved, initialized] as const,
    fromBlock,
    toBlock,
    ...(options.initialChunkSize === undefined ? {} : { initialChunkSize: options.initialChunkSize }),
    ...(options.maxChunkSize === undefined ? {} : { maxChunkSize: options.maxChunkSize }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  });

  // Timestamps: nodes that put `blockTimestamp` in logs need no extra request; otherwise one
  // block header per distinct block (events of one transaction share it).
  const timestamps = new Map<bigint, bigint>();
  for (const log of scan.logs) if (log.blockTimestamp !== undefined) timestamps.set(log.blockNumber, log.blockTimestamp);
  const missing = [...new Set(scan.logs.map((log) => log.blockNumber))].filter((block) => !timestamps.has(block));
  const fetched = await mapLimit(missing, 8, async (blockNumber) => {
    const block = await withRpcError(client, "eth_getBlockByNumber", () => getBlock(client, { blockNumber, includeTransactions: false }));
    return [blockNumber, block.timestamp] as const;
  });
  for (const [blockNumber, timestamp] of fetched) timestamps.set(blockNumber, timestamp);

  const records = new Map<Hex, ComposeHashRecord>();
  let initializedInRange = false;
  for (const log of scan.logs) {
    if (log.eventName === "Initialized") {
      if (log.args.version === 1n) initializedInRange = true;
      continue;
    }
    const composeHash = log.args.composeHash.toLowerCase() as Hex;
    let record = records.get(composeHash);
    if (record === undefined) {
      record = { composeHash, events: [], allowed: false, allowedOnChain: undefined };
      records.set(composeHash, record);
    }
    const action = log.eventName === "ComposeHashAdded" ? "added" : "removed";
    const blockTimestamp = timestamps.get(log.blockNumber);
    if (blockTimestamp === undefined) throw new Error(`internal: no timestamp fetched for block ${log.blockNumber}`);
    record.events.push({
      action,
      blockNumber: log.blockNumber,
      blockTimestamp,
      transactionHash: log.transactionHash,
      logIndex: log.logIndex,
    });
    record.allowed = action === "added";
  }
  for (const extra of options.extraHashes ?? []) {
    if (!/^0x[0-9a-fA-F]{64}$/.test(extra)) throw new InvalidInputError(`extra compose hash ${extra} is not 32 bytes of hex`);
    const composeHash = extra.toLowerCase() as Hex;
    if (!records.has(composeHash)) records.set(composeHash, { composeHash, events: [], allowed: false, allowedOnChain: undefined });
  }

  const hashes = [...records.values()];
  const lastAdd = (record: ComposeHashRecord): ComposeHashEvent | undefined =>
    [...record.events].reverse().find((event) => event.action === "added");
  const allowed = hashes
    .filter((record) => record.allowed)
    .sort((a, b) => compareEvents(lastAdd(a), lastAdd(b)))
    .map((record) => record.composeHash);

  let crossCheck: ComposeHashHistory["crossCheck"];
  if (options.crossCheck !== false && hashes.length > 0) {
    const { results, via } = await readContracts(
      client,
      hashes.map((record) => ({
        address: app,
        abi: dstackAppAbi,
        functionName: "allowedComposeHashes",
        args: [record.composeHash],
      }) as const),
      { blockNumber: toBlock },
    );
    const mismatches: ComposeHashMismatch[] = [];
    results.forEach((outcome, index) => {
      const record = hashes[index];
      if (record === undefined) return;
      if (outcome.status === "failure") throw outcome.error;
      const onChain = outcome.result as boolean;
      record.allowedOnChain = onChain;
      if (onChain !== record.allowed) {
        mismatches.push({
          composeHash: record.composeHash,
          fromEvents: record.allowed,
          onChain,
          reason: mismatchReason(record, onChain, { fromBlock, toBlock, initializedInRange }),
        });
      }
    });
    crossCheck = { blockNumber: toBlock, via, checked: hashes.length, mismatches };
  } else if (options.crossCheck !== false) {
    crossCheck = { blockNumber: toBlock, via: "eth_call", checked: 0, mismatches: [] };
  }

  return {
    address: app,
    chainId,
    fromBlock,
    toBlock,
    hashes,
    allowed,
    initializedInRange,
    crossCheck,
    stats: { logRequests: scan.stats.requests, logChunks: scan.stats.chunks, blockRequests: missing.length },
  };
}

function mismatchReason(
  record: ComposeHashRecord,
  onChain: boolean,
  range: { fromBlock: bigint; toBlock: bigint; initializedInRange: boolean },
): string {
  const blocks = `blocks ${range.fromBlock}..${range.toBlock}`;
  if (onChain && record.events.length === 0) {
    return range.initializedInRange
      ? `allowed on chain but no ComposeHashAdded in ${blocks}, which include the initialization: the contract's storage changed without events (an upgrade?)`
      : `allowed on chain but no ComposeHashAdded in ${blocks}: it was probably allowed before block ${range.fromBlock} (by the initializer?); scan from the deployment block (findDeploymentBlock)`;
  }
  if (onChain) {
    return `the events in ${blocks} end with a removal but the contract allows it at block ${range.toBlock}: the contract's storage changed without events, or the node's logs are incomplete`;
  }
  return `the events in ${blocks} end with an add but the contract does not allow it at block ${range.toBlock}: the contract's storage changed without events, or the node's logs are incomplete`;
}

function compareEvents(a: ComposeHashEvent | undefined, b: ComposeHashEvent | undefined): number {
  if (a === undefined || b === undefined) return 0;
  if (a.blockNumber !== b.blockNumber) return a.blockNumber < b.blockNumber ? -1 : 1;
  return a.logIndex - b.logIndex;
}

type DstackAppEvent<N extends string> = Extract<(typeof dstackAppAbi)[number], { type: "event"; name: N }>;

function eventItem<const N extends string>(name: N): DstackAppEvent<N> {
  const item = dstackAppAbi.find((entry) => entry.type === "event" && entry.name === name);
  if (item === undefined) throw new Error(`DstackApp ABI has no event ${name}`);
  return item as DstackAppEvent<N>;
}
