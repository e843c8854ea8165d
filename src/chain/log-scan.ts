import {
  decodeEventLog,
  formatLog,
  numberToHex,
  toEventSelector,
  type AbiEvent,
  type DecodeEventLogReturnType,
  type RpcLog,
} from "viem";
import { getBlockNumber } from "viem/actions";

import { InvalidInputError, describeError } from "../util/errors.js";
import type { Hex } from "../util/hex.js";
import { exponentialBackoff, retry } from "../util/retry.js";
import type { ChainClient } from "./clients.js";
import { LogScanError, errorText, httpStatus, rpcErrorCode, toRpcError, withRpcError } from "./errors.js";

/**
 * Reading an app's history means `eth_getLogs` from its deployment block to the head,
 * which no hosted RPC serves in one request: each caps the block span (Alchemy 500/2,000,
 * Infura and QuickNode 10,000, public endpoints 50 to 50,000) or the result size (geth and
 * Infura 10,000 logs, Erigon 20,000, Alchemy 150 MB), and says so in its own words. The
 * scanner therefore walks the range in chunks, shrinks a chunk the node refuses as too
 * large, grows it again after successes up to the largest span it has learned is refused,
 * and fails loudly on anything else: a partial history would silently misreport which
 * compose hashes were ever allowed.
 */

/** Where a scan is and what it cost so far; passed to `onProgress` after each chunk. */
export interface ScanProgress {
  /** First block of the chunk just read. */
  fromBlock: bigint;
  /** Last block of the chunk just read. */
  toBlock: bigint;
  /** Blocks read so far, including this chunk. */
  scannedBlocks: bigint;
  /** Blocks in the whole scan. */
  totalBlocks: bigint;
  /** `eth_getLogs` requests sent so far (refused ones included). */
  requests: number;
  /** Logs found so far. */
  logs: number;
}

export interface ScanLogsOptions<TEvents extends readonly AbiEvent[]> extends ScanRawLogsOptions {
  /** The events to collect (non-anonymous); logs of other events are not requested. */
  events: TEvents;
}

/** A scan of every log of the given contracts, whatever its event. */
export interface ScanRawLogsOptions {
  /** The emitting contract(s). */
  address: Hex | readonly Hex[];
  /** First block, inclusive. */
  fromBlock: bigint;
  /** Last block, inclusive; `"latest"` is resolved once at the start so the scan is a fixed range. */
  toBlock?: bigint | "latest";
  /** Span of the first request, in blocks (default 2,000: accepted by most paid plans). */
  initialChunkSize?: number;
  /** Never request more than this many blocks at once (default 100,000). */
  maxChunkSize?: number;
  /** Attempts after the first for failures that look transient (HTTP 429/5xx, timeouts, resets). Default 2. */
  retries?: number;
  /** Delay before the first retry, doubled for each further one. Default 250 ms. */
  retryDelayMs?: number;
  onProgress?: (progress: ScanProgress) => void;
}

/** Position fields of a scanned log (never null: pending logs are rejected). */
export interface LogPosition {
  address: Hex;
  blockHash: Hex;
  blockNumber: bigint;
  /** Present when the node includes it in logs (EDR does; newer clients follow execution-apis); saves a block fetch. */
  blockTimestamp: bigint | undefined;
  transactionHash: Hex;
  transactionIndex: number;
  logIndex: number;
  data: Hex;
  topics: readonly Hex[];
}

/** A decoded log: its position plus `eventName` and typed `args`. */
export type ScannedLog<TEvents extends readonly AbiEvent[]> = LogPosition &
  DecodeEventLogReturnType<TEvents, undefined, Hex[], Hex, true>;

export interface ScanStats {
  /** `eth_getLogs` requests sent, including refused and retried ones. */
  requests: number;
  /** Chunks that succeeded. */
  chunks: number;
  /** Requests refused as too large (each followed by a smaller chunk). */
  rangeErrors: number;
  /** The largest span the node accepted. */
  largestChunk: number;
}

export interface ScanLogsResult<TEvents extends readonly AbiEvent[]> {
  /** In (blockNumber, logIndex) order, each log exactly once. */
  logs: ScannedLog<TEvents>[];
  fromBlock: bigint;
  toBlock: bigint;
  stats: ScanStats;
}

/** How a refused `eth_getLogs` was refused. */
export type RangeErrorKind = "block-range" | "result-size";

export interface RangeErrorInfo {
  kind: RangeErrorKind;
  /** A span (in blocks) the node says it accepts, when its message names one. */
  limitHint: number | undefined;
}

// Messages that mean "too many blocks". Sources (JSON-RPC code, example message):
//  - reth / Base docs (-32602/-32005): "query exceeds max block range 5000"
//  - geth-based public endpoints, publicnode/BSC (-32000): "exceed maximum block range: 50000"
//  - Alchemy (-32600): "You can make eth_getLogs requests with up to a 500 block range. Based on
//    your parameters, this block range should work: [0x123c9b2, 0x123cba5]"
//  - Infura (-32602): "range 1000000 exceeds limit of 10000"
//  - QuickNode (-32614, HTTP 413): "eth_getLogs is limited to a 10,000 range"
//  - Erigon (-32602, rpc.blockrange.limit): "query block range exceeds server limit, narrow your filter: 1000"
//  - cdk-erigon (-32005): "block range too large, max range: 10000"
//  - Tenderly (-32602): "range 9009594 is bigger than range limit 2000"
//  - scroll geth (-32000): "block range is bigger than maxBlockRange"; Morph: "block range is larger
//    than max block range, block range = 5120, max block range = 5000"
//  - Klaytn/Kaia gateways (-32005): "... the block range is limited to 2000."; Candle (-32600): "block range too high"
//  - Hedera relay (-32000): "Exceeded maximum block range: 1000"
// Hardhat/EDR's own node has no limit; behind a forking proxy it passes the upstream's message on.
const BLOCK_RANGE_PATTERNS: readonly RegExp[] = [
  /block range/,
  /exceeds? (?:the )?(?:max|maximum) (?:block )?range/,
  /exceeded (?:the )?(?:max|maximum) block range/,
  /range \d[\d,]* (?:exceeds|is bigger than|is larger than) (?:the )?(?:range )?limit/,
  /limited to a [\d,]+[ -](?:block )?range/,
  /range (?:too large|too wide|too big|is too large|is too wide)/,
  /max(?:imum)? range/,
  /blocks? span/,
];

// Messages that mean "too many results" (the same span may pass where events are sparser):
//  - geth / Infura / Linea (-32005): "query returned more than 10000 results"
//  - Erigon ≥ 3.4 (rpc.logs.maxresults): "query returns too many logs, narrow your filter: 20000"
//  - Alchemy: "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block
//    range and no limit on the response size, or ... this block range should work: [0x…, 0x…]"
//  - Infura (-32005): "query timeout exceeded" (a wide or dense range that took > 10 s)
const RESULT_SIZE_PATTERNS: readonly RegExp[] = [
  /query returned more than [\d,]+ results/,
  /more than [\d,]+ (?:results|logs)/,
  /too many (?:logs|results|events)/,
  /response size (?:exceeded|is larger|too large|limit)/,
  /log response size/,
  /query timeout exceeded/,
];

// Mentions of a range that are not about its size: geth's "invalid block range params"
// (from > to), a bound past the head. Shrinking would not help.
const NOT_A_SIZE_PROBLEM = /invalid block range|beyond (?:the )?(?:current )?head|past (?:the )?head|after last accepted block|from block is greater|fromblock > toblock/;

// Rate limits share words ("limit exceeded", -32005) with range limits; they are transient.
const RATE_LIMIT = /rate limit|too many requests|request limit|requests? per second|\/second|compute units|capacity|credits/;

/**
 * Whether a failed `eth_getLogs` was refused because the range (or its result) is too
 * large, and the span the node hinted at. Recognises the messages listed above; anything
 * else (rate limits, network failures, bad parameters) is not a range error.
 */
export function classifyRangeError(error: unknown): RangeErrorInfo | undefined {
  const text = errorText(error);
  if (text.length === 0 || NOT_A_SIZE_PROBLEM.test(text) || RATE_LIMIT.test(text)) return undefined;
  if (RESULT_SIZE_PATTERNS.some((pattern) => pattern.test(text))) {
    return { kind: "result-size", limitHint: suggestedSpan(text) };
  }
  if (BLOCK_RANGE_PATTERNS.some((pattern) => pattern.test(text))) {
    return { kind: "block-range", limitHint: suggestedSpan(text) ?? blockLimitFromText(text) };
  }
  return undefined;
}

/** Alchemy names a range that works from the requested start: "[0x…, 0x…]". */
function suggestedSpan(text: string): number | undefined {
  const match = /should work: \[\s*(0x[0-9a-f]+)\s*,\s*(0x[0-9a-f]+)\s*\]/.exec(text);
  if (!match?.[1] || !match[2]) return undefined;
  const span = Number(BigInt(match[2]) - BigInt(match[1])) + 1;
  return Number.isSafeInteger(span) && span >= 1 ? span : undefined;
}

/** The block cap a message states ("max block range 2000", "limited to a 10,000 range", ...). */
function blockLimitFromText(text: string): number | undefined {
  const patterns = [
    /up to an? (\d[\d,]*)[ -]block range/,
    /max(?:imum)? block range(?: is| of| =)?:? ?(\d[\d,]*)/,
    /block range is limited to (\d[\d,]*)/,
    /limited to an? (\d[\d,]*)[ -](?:block )?range/,
    /exceeds (?:the )?limit of (\d[\d,]*)/,
    /range limit (?:of )?(\d[\d,]*)/,
    /max range:? ?(\d[\d,]*)/,
    /block range exceeds server limit, narrow your filter: (\d[\d,]*)/,
  ];
  for (const pattern of patterns) {
    const digits = pattern.exec(text)?.[1];
    if (digits === undefined) continue;
    const value = Number(digits.replace(/,/g, ""));
    // Read as a count of blocks; where a node means to - from <= N this under-uses one block.
    if (Number.isSafeInteger(value) && value >= 1) return value;
  }
  return undefined;
}

/** Failures worth repeating as is: HTTP 408/425/429/5xx, connection resets, timeouts, rate limits. */
function isTransient(error: unknown): boolean {
  const status = httpStatus(error);
  if (status !== undefined) return status === 408 || status === 425 || status === 429 || status >= 500;
  const code = rpcErrorCode(error);
  const text = errorText(error);
  if (code === 429 || code === -32007 || RATE_LIMIT.test(text)) return true;
  if (code === -32603 || code === -32002) return true;
  return /fetch failed|socket|econnreset|econnrefused|etimedout|timed out|timeout|network/.test(text);
}

const DEFAULT_INITIAL_CHUNK = 2_000;
const DEFAULT_MAX_CHUNK = 100_000;

/**
 * Collects the logs of `events` emitted by `address` in `[fromBlock, toBlock]`, adapting
 * the chunk span to the node's limits. Returns every log exactly once, in (blockNumber,
 * logIndex) order, or throws: `RpcError` (endpoint failure, after retries), `LogScanError`
 * (refused even for a single block, or an answer that does not match the request),
 * `InvalidInputError` (bad range). It never returns a partial result.
 */
export async function scanLogs<const TEvents extends readonly AbiEvent[]>(
  client: ChainClient,
  options: ScanLogsOptions<TEvents>,
): Promise<ScanLogsResult<TEvents>> {
  const events = options.events;
  if (events.length === 0) throw new InvalidInputError("scanLogs: no events given");
  const anonymous = events.find((event) => event.anonymous === true);
  if (anonymous !== undefined) {
    throw new InvalidInputError(`scanLogs: event ${anonymous.name} is anonymous and cannot be filtered by topic`);
  }
  const selectors = [...new Set(events.map((event) => toEventSelector(event).toLowerCase() as Hex))];
  return scanChunks(client, options, selectors, (checked) => checked.map((log) => decode(log, events)));
}

/**
 * `scanLogs` without an event filter or decoding: every log of the contracts, as the node
 * sent it (hex fields), checked the same way. For recording a chain's logs verbatim.
 */
export async function scanRawLogs(client: ChainClient, options: ScanRawLogsOptions): Promise<{ logs: RpcLog[]; fromBlock: bigint; toBlock: bigint; stats: ScanStats }> {
  const scanned = await scanChunks(client, options, undefined, (checked) => checked);
  return { ...scanned, logs: scanned.logs.map((log) => log.raw) };
}

/** A log of a node's answer, checked against the request: the node's object and its parsed position. */
interface CheckedLog {
  raw: RpcLog;
  position: LogPosition;
  blockNumber: bigint;
  logIndex: number;
}

/** The adaptive chunked walk shared by `scanLogs` and `scanRawLogs` (`selectors`: topic0 filter). */
async function scanChunks<T extends { blockNumber: bigint; logIndex: number }>(
  client: ChainClient,
  options: ScanRawLogsOptions,
  selectors: readonly Hex[] | undefined,
  convert: (checked: CheckedLog[]) => T[],
): Promise<{ logs: T[]; fromBlock: bigint; toBlock: bigint; stats: ScanStats }> {
  const addresses = (typeof options.address === "string" ? [options.address] : [...options.address]).map(
    (address) => address.toLowerCase() as Hex,
  );
  if (addresses.length === 0) throw new InvalidInputError("scanLogs: no address given");

  const head = await withRpcError(client, "eth_blockNumber", () => getBlockNumber(client, { cacheTime: 0 }));
  const fromBlock = options.fromBlock;
  const toBlock = options.toBlock === undefined || options.toBlock === "latest" ? head : options.toBlock;
  if (fromBlock < 0n) throw new InvalidInputError(`scanLogs: fromBlock ${fromBlock} is negative`);
  if (toBlock > head) {
    throw new InvalidInputError(`scanLogs: toBlock ${toBlock} is after the chain head ${head}`);
  }
  if (fromBlock > toBlock) {
    throw new InvalidInputError(`scanLogs: fromBlock ${fromBlock} is after toBlock ${toBlock}`);
  }

  const maxChunk = positiveInteger(options.maxChunkSize ?? DEFAULT_MAX_CHUNK, "maxChunkSize");
  const retries = Math.max(0, Math.floor(options.retries ?? 2));
  const retryDelayMs = Math.max(0, options.retryDelayMs ?? 250);
  const totalBlocks = toBlock - fromBlock + 1n;

  // Chunk-size search. A block-range refusal is a property of the node: `refused` keeps the
  // smallest span refused that way (a ceiling never reached again) and `accepted` the
  // largest span served, and the next span is the node's stated cap or the midpoint between
  // them, so the limit is found in a few requests and probing stops once the two are within
  // one eighth. A result-size refusal is a property of the blocks (dense events): the span
  // is halved (or set to the node's suggestion) for this stretch only, and growth pauses for
  // two chunks so a dense stretch does not alternate between failing and passing spans.
  let refused = maxChunk + 1;
  let accepted = 0;
  let holdGrowth = 0;
  let size = Math.min(positiveInteger(options.initialChunkSize ?? DEFAULT_INITIAL_CHUNK, "initialChunkSize"), maxChunk);

  const stats: ScanStats = { requests: 0, chunks: 0, rangeErrors: 0, largestChunk: 0 };
  const collected: T[] = [];
  let cursor = fromBlock;

  while (cursor <= toBlock) {
    const end = minBigInt(cursor + BigInt(size) - 1n, toBlock);
    const span = Number(end - cursor + 1n);
    const filter = {
      address: addresses.length === 1 ? addresses[0] : addresses,
      fromBlock: numberToHex(cursor),
      toBlock: numberToHex(end),
      ...(selectors === undefined ? {} : { topics: [selectors] }),
    };

    let raw: unknown;
    let rangeInfo: RangeErrorInfo | undefined;
    try {
      raw = await retry(
        () => {
          stats.requests += 1;
          // retryCount 0: viem's transport would retry -32005 ("more than 10000 results") three
          // times with backoff; we shrink instead, and retry transient failures ourselves.
          return (client.request as (args: { method: string; params: unknown[] }, options: { retryCount: number }) => Promise<unknown>)(
            { method: "eth_getLogs", params: [filter] },
            { retryCount: 0 },
          );
        },
        // A refused range is not retried as is: the span shrinks below.
        { retries, delayMs: exponentialBackoff(retryDelayMs), shouldRetry: (error) => classifyRangeError(error) === undefined && isTransient(error) },
      );
    } catch (error) {
      rangeInfo = classifyRangeError(error);
      if (rangeInfo === undefined) throw toRpcError(client, "eth_getLogs", error);
      if (span === 1) {
        throw new LogScanError(`the RPC refuses eth_getLogs even for the single block ${cursor}`, {
          details: describeError(toRpcError(client, "eth_getLogs", error)),
          cause: error,
        });
      }
    }

    if (rangeInfo !== undefined) {
      stats.rangeErrors += 1;
      const hint = rangeInfo.limitHint !== undefined && rangeInfo.limitHint < span ? rangeInfo.limitHint : undefined;
      if (rangeInfo.kind === "result-size") {
        holdGrowth = 2;
        size = hint ?? Math.max(1, Math.floor(span / 2));
      } else {
        refused = Math.min(refused, span);
        if (hint !== undefined) {
          // A stated cap is believed; the next chunk tests it, and a wrong one is refused again.
          refused = Math.min(refused, hint + 1);
          size = hint;
        } else {
          const low = accepted > 0 && accepted < span ? accepted : 0;
          size = low > 0 && span - low <= tolerance(low) ? low : Math.max(1, Math.floor((low + span) / 2));
        }
      }
      continue;
    }

    const logs = convert(checkChunk(raw, { addresses, selectors, from: cursor, to: end }));
    collected.push(...logs);
    stats.chunks += 1;
    stats.largestChunk = Math.max(stats.largestChunk, span);
    accepted = Math.max(accepted, span);
    options.onProgress?.({
      fromBlock: cursor,
      toBlock: end,
      scannedBlocks: end - fromBlock + 1n,
      totalBlocks,
      requests: stats.requests,
      logs: collected.length,
    });
    cursor = end + 1n;
    if (span === size) {
      if (holdGrowth > 0) holdGrowth -= 1;
      else if (refused > maxChunk) size = Math.min(size * 2, maxChunk);
      else if (refused - 1 - size > tolerance(size)) size = Math.floor((size + refused) / 2);
    }
  }

  collected.sort((a, b) => (a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1));
  for (let i = 1; i < collected.length; i += 1) {
    const previous = collected[i - 1];
    const current = collected[i];
    if (previous && current && previous.blockNumber === current.blockNumber && previous.logIndex === current.logIndex) {
      throw new LogScanError(`the RPC returned the log at block ${current.blockNumber} index ${current.logIndex} twice`);
    }
  }
  return { logs: collected, fromBlock, toBlock, stats };
}

/**
 * Checks that a node's answer is what was asked (a provider that ignores part of the
 * filter would otherwise inject foreign logs).
 */
function checkChunk(raw: unknown, request: { addresses: readonly Hex[]; selectors: readonly Hex[] | undefined; from: bigint; to: bigint }): CheckedLog[] {
  if (!Array.isArray(raw)) {
    throw new LogScanError(`eth_getLogs for blocks ${request.from}..${request.to} did not return a list`);
  }
  return (raw as RpcLog[]).map((rpcLog) => {
    const log = formatLog(rpcLog);
    const where = `blocks ${request.from}..${request.to}`;
    if (log.removed) throw new LogScanError(`eth_getLogs for ${where} returned a removed (reorged) log`);
    if (log.blockNumber === null || log.logIndex === null || log.blockHash === null || log.transactionHash === null || log.transactionIndex === null) {
      throw new LogScanError(`eth_getLogs for ${where} returned a pending log`);
    }
    if (log.blockNumber < request.from || log.blockNumber > request.to) {
      throw new LogScanError(`eth_getLogs for ${where} returned a log of block ${log.blockNumber}`);
    }
    const address = log.address.toLowerCase() as Hex;
    const topic0 = log.topics[0]?.toLowerCase() as Hex | undefined;
    if (!request.addresses.includes(address) || (request.selectors !== undefined && (topic0 === undefined || !request.selectors.includes(topic0)))) {
      throw new LogScanError(`eth_getLogs for ${where} returned a log that does not match the filter`, {
        details: `address ${log.address}, topic0 ${topic0 ?? "none"}`,
      });
    }
    const position: LogPosition = {
      address: log.address,
      blockHash: log.blockHash,
      blockNumber: log.blockNumber,
      blockTimestamp: typeof log.blockTimestamp === "bigint" ? log.blockTimestamp : undefined,
      transactionHash: log.transactionHash,
      transactionIndex: log.transactionIndex,
      logIndex: log.logIndex,
      data: log.data,
      topics: log.topics,
    };
    return { raw: rpcLog, position, blockNumber: log.blockNumber, logIndex: log.logIndex };
  });
}

/** Decodes a checked log; a log that matches a requested topic but does not decode is an error, not something to skip. */
function decode<TEvents extends readonly AbiEvent[]>(checked: CheckedLog, events: TEvents): ScannedLog<TEvents> {
  const log = checked.position;
  let decoded: DecodeEventLogReturnType<TEvents, undefined, Hex[], Hex, true>;
  try {
    decoded = decodeEventLog({
      abi: events as readonly AbiEvent[],
      data: log.data,
      topics: log.topics as [Hex, ...Hex[]],
      strict: true,
    }) as DecodeEventLogReturnType<TEvents, undefined, Hex[], Hex, true>;
  } catch (error) {
    throw new LogScanError(`cannot decode the log at block ${log.blockNumber} index ${log.logIndex}`, {
      details: `${describeError(error)} (does the contract declare the event with other indexed arguments?)`,
      cause: error,
    });
  }
  return { ...log, ...decoded } as ScannedLog<TEvents>;
}

function tolerance(span: number): number {
  return Math.max(1, Math.floor(span / 8));
}

function positiveInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidInputError(`scanLogs: ${what} must be a positive integer, got ${value}`);
  return value;
}

function minBigInt(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
