/**
 * Serves a fork snapshot as JSON-RPC on 127.0.0.1, with the methods a forking node
 * (Hardhat's EDR) asks its remote for: chain id, head, blocks, code, balance, nonce,
 * storage, logs, transactions, receipts, fee history. Only recorded facts are answered;
 * anything else is a JSON-RPC error that names what is missing (the account, the slot,
 * the block), so a test that needs state the snapshot lacks fails loudly instead of
 * reading a zero that was never on the chain.
 *
 * Plain Node (no Hardhat import): the Hardhat plugin in hardhat-plugins/ starts it on
 * demand, tests and the benchmark start it directly.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

import { DstackGovernanceError } from "../util/errors.js";
import type { Hex } from "../util/hex.js";
import { quantity, slotKey, type RawBlock, type RawLog, type Snapshot } from "./snapshot.js";

/** JSON-RPC error codes the server answers with. */
export const SNAPSHOT_ERROR = {
  /** The method is not one a snapshot can answer. */
  methodNotFound: -32601,
  invalidParams: -32602,
  /** The snapshot does not hold the requested state (EIP-1474 "resource not found"). */
  notInSnapshot: -32001,
} as const;

/** A request the snapshot cannot answer; becomes a JSON-RPC error. */
export class SnapshotMissError extends DstackGovernanceError {
  override name = "SnapshotMissError";
  readonly rpcCode: number;
  constructor(message: string, rpcCode: number = SNAPSHOT_ERROR.notInSnapshot) {
    super("NOT_IN_SNAPSHOT", message);
    this.rpcCode = rpcCode;
  }
}

export interface SnapshotServerOptions {
  /** A name for messages (e.g. the file name). */
  label?: string;
  /** Port to listen on (default: any free port). */
  port?: number;
  /** Called for every JSON-RPC request, after it was answered. */
  onRequest?: (method: string, params: unknown[], error: string | undefined) => void;
}

export interface SnapshotServer {
  url: string;
  /** Requests answered so far, per method (errors included). */
  counts(): Record<string, number>;
  /** Requests that were answered with an error, with their message. */
  misses(): Array<{ method: string; message: string }>;
  close(): Promise<void>;
}

const ZERO_WORD: Hex = `0x${"0".repeat(64)}`;

/**
 * Starts the server. It does not keep the process alive (listening socket and accepted
 * connections are unref'd): it stops with the process that started it.
 */
export async function startSnapshotServer(snapshot: Snapshot, options: SnapshotServerOptions = {}): Promise<SnapshotServer> {
  const answer = snapshotResponder(snapshot, options.label ?? "fork snapshot");
  const counts: Record<string, number> = {};
  const misses: Array<{ method: string; message: string }> = [];
  const sockets = new Set<Socket>();

  const handleOne = (request: unknown) => {
    const { id = null, method, params = [] } = (request ?? {}) as { id?: unknown; method?: unknown; params?: unknown };
    if (typeof method !== "string") return { jsonrpc: "2.0", id, error: { code: -32600, message: "invalid request: no method" } };
    counts[method] = (counts[method] ?? 0) + 1;
    const list = Array.isArray(params) ? params : [];
    try {
      const result = answer(method, list);
      options.onRequest?.(method, list, undefined);
      return { jsonrpc: "2.0", id, result };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const code = error instanceof SnapshotMissError ? error.rpcCode : -32603;
      misses.push({ method, message });
      options.onRequest?.(method, list, message);
      return { jsonrpc: "2.0", id, error: { code, message } };
    }
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        body = undefined;
      }
      const reply =
        body === undefined
          ? { jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } }
          : Array.isArray(body)
            ? body.map(handleOne)
            : handleOne(body);
      const text = JSON.stringify(reply);
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
      res.end(text);
    });
  });
  server.on("connection", (socket: Socket) => {
    // The forking client keeps connections alive; they must not hold the process open.
    socket.unref();
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts: () => ({ ...counts }),
    misses: () => [...misses],
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * The JSON-RPC logic, without transport: `(method, params) → result`, throwing
 * SnapshotMissError for anything the snapshot does not hold.
 */
export function snapshotResponder(snapshot: Snapshot, label: string): (method: string, params: unknown[]) => unknown {
  const head = snapshot.blockNumber;
  const blocksByHash = new Map<string, RawBlock>();
  const transactions = new Map<string, Record<string, unknown>>();
  for (const block of Object.values(snapshot.blocks)) {
    blocksByHash.set(block.hash.toLowerCase(), block);
    for (const tx of block.transactions) transactions.set(tx.hash.toLowerCase(), tx);
  }
  const covered = new Set(snapshot.logCoverage.addresses.map((a) => a.toLowerCase()));
  const miss = (what: string) => new SnapshotMissError(`${label} (chain ${snapshot.chainId}, block ${head}) does not hold ${what}`);

  const blockNumberOf = (tag: unknown, method: string): number => {
    if (tag === undefined || tag === "latest" || tag === "safe" || tag === "finalized") return head;
    if (tag === "pending") throw miss(`the pending block (${method}): a snapshot has no mempool`);
    if (tag === "earliest") return 0;
    if (typeof tag === "string" && /^0x[0-9a-fA-F]+$/.test(tag)) return Number(BigInt(tag));
    if (typeof tag === "object" && tag !== null) {
      const t = tag as { blockNumber?: unknown; blockHash?: unknown };
      if (typeof t.blockNumber === "string") return blockNumberOf(t.blockNumber, method);
      if (typeof t.blockHash === "string") {
        const block = blocksByHash.get(t.blockHash.toLowerCase());
        if (block === undefined) throw miss(`block ${t.blockHash} (${method})`);
        return Number(BigInt(block.number));
      }
    }
    throw new SnapshotMissError(`${method}: invalid block tag ${JSON.stringify(tag)}`, SNAPSHOT_ERROR.invalidParams);
  };

  const account = (address: unknown, method: string) => {
    if (typeof address !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(address)) {
      throw new SnapshotMissError(`${method}: invalid address ${JSON.stringify(address)}`, SNAPSHOT_ERROR.invalidParams);
    }
    const found = snapshot.accounts[address.toLowerCase() as Hex];
    if (found === undefined) throw miss(`account ${address.toLowerCase()} (${method}): it was not among the recorded addresses`);
    return found;
  };

  /** State is recorded at the fork block only; older state is not known (except code age). */
  const atHead = (tag: unknown, method: string, what: string) => {
    const n = blockNumberOf(tag, method);
    if (n > head) throw miss(`${what} at block ${n}, after its block (${method})`);
    if (n < head) throw miss(`${what} at block ${n}: only state at block ${head} was recorded (${method})`);
  };

  const shapeBlock = (block: RawBlock, full: boolean) =>
    full ? block : { ...block, transactions: block.transactions.map((tx) => tx.hash) };

  const methods: Record<string, (params: unknown[]) => unknown> = {
    eth_chainId: () => quantity(snapshot.chainId),
    net_version: () => String(snapshot.chainId),
    // The snapshot's head is its fork block: nothing later was recorded.
    eth_blockNumber: () => quantity(head),
    web3_clientVersion: () => `dstack-governance-fork-snapshot/1 (${snapshot.source.kind}; ${snapshot.source.clientVersion ?? "unknown client"})`,
    eth_syncing: () => false,

    eth_getBlockByNumber: ([tag, full]) => {
      const n = blockNumberOf(tag, "eth_getBlockByNumber");
      const block = snapshot.blocks[String(n)];
      if (block === undefined) {
        if (n > head) throw miss(`block ${n}: it is after the fork block`);
        throw miss(`block ${n} (eth_getBlockByNumber): only the fork block and the blocks of recorded logs are stored`);
      }
      return shapeBlock(block, full === true);
    },
    eth_getBlockByHash: ([hash, full]) => {
      const block = typeof hash === "string" ? blocksByHash.get(hash.toLowerCase()) : undefined;
      if (block === undefined) throw miss(`block ${String(hash)} (eth_getBlockByHash)`);
      return shapeBlock(block, full === true);
    },
    eth_getBlockTransactionCountByNumber: ([tag]) => {
      const n = blockNumberOf(tag, "eth_getBlockTransactionCountByNumber");
      const block = snapshot.blocks[String(n)];
      if (block === undefined) throw miss(`block ${n} (eth_getBlockTransactionCountByNumber)`);
      return quantity(block.transactions.length);
    },

    eth_getCode: ([address, tag]) => {
      const acct = account(address, "eth_getCode");
      const n = blockNumberOf(tag, "eth_getCode");
      if (n > head) throw miss(`code of ${String(address).toLowerCase()} at block ${n}, after its block`);
      if (n === head) return acct.code;
      // Older blocks: the recorder found when the code appeared (binary search on the
      // source), so before that block there was none and from it on it is this code.
      if (acct.code !== "0x" && acct.codeSinceBlock !== undefined) return n >= acct.codeSinceBlock ? acct.code : "0x";
      throw miss(`code of ${String(address).toLowerCase()} at block ${n}: only state at block ${head} was recorded (eth_getCode)`);
    },
    eth_getBalance: ([address, tag]) => {
      const acct = account(address, "eth_getBalance");
      const past = acct.history?.[String(blockNumberOf(tag, "eth_getBalance"))];
      if (past !== undefined) return past.balance;
      atHead(tag, "eth_getBalance", `the balance of ${String(address).toLowerCase()}`);
      return acct.balance;
    },
    eth_getTransactionCount: ([address, tag]) => {
      const acct = account(address, "eth_getTransactionCount");
      const past = acct.history?.[String(blockNumberOf(tag, "eth_getTransactionCount"))];
      if (past !== undefined) return past.nonce;
      atHead(tag, "eth_getTransactionCount", `the nonce of ${String(address).toLowerCase()}`);
      return acct.nonce;
    },
    eth_getStorageAt: ([address, slot, tag]) => {
      const acct = account(address, "eth_getStorageAt");
      if (typeof slot !== "string" || !/^0x[0-9a-fA-F]{1,64}$/.test(slot)) {
        throw new SnapshotMissError(`eth_getStorageAt: invalid slot ${JSON.stringify(slot)}`, SNAPSHOT_ERROR.invalidParams);
      }
      const key = slotKey(slot);
      const where = `storage slot ${key} of ${String(address).toLowerCase()}`;
      atHead(tag, "eth_getStorageAt", where);
      const value = acct.storage[key];
      if (value !== undefined) return value;
      // A complete recording lists every non-zero slot, so an unlisted one is zero.
      if (acct.storageComplete) return ZERO_WORD;
      throw miss(`${where} (eth_getStorageAt): the account's storage was recorded incompletely (${acct.storageMethod}); re-record with this slot`);
    },

    eth_getLogs: ([filter]) => getLogs(snapshot, covered, blocksByHash, filter, miss),

    eth_getTransactionByHash: ([hash]) => {
      const tx = typeof hash === "string" ? transactions.get(hash.toLowerCase()) : undefined;
      if (tx === undefined) throw miss(`transaction ${String(hash)} (eth_getTransactionByHash)`);
      return tx;
    },
    eth_getTransactionReceipt: ([hash]) => {
      const receipt = typeof hash === "string" ? snapshot.receipts[hash.toLowerCase() as Hex] : undefined;
      if (receipt === undefined) throw miss(`the receipt of ${String(hash)} (eth_getTransactionReceipt)`);
      return receipt;
    },

    eth_feeHistory: ([count, newest, percentiles]) => feeHistory(snapshot, Number(BigInt(String(count))), blockNumberOf(newest, "eth_feeHistory"), percentiles, miss),
  };

  return (method, params) => {
    const handler = methods[method];
    if (handler === undefined) {
      throw new SnapshotMissError(`${label}: method ${method} is not served from a fork snapshot`, SNAPSHOT_ERROR.methodNotFound);
    }
    return handler(params);
  };
}

function getLogs(
  snapshot: Snapshot,
  covered: Set<string>,
  blocksByHash: Map<string, RawBlock>,
  filter: unknown,
  miss: (what: string) => SnapshotMissError,
): RawLog[] {
  const f = (filter ?? {}) as { address?: unknown; topics?: unknown; fromBlock?: unknown; toBlock?: unknown; blockHash?: unknown };
  const head = snapshot.blockNumber;
  const toNumber = (tag: unknown, fallback: number) => {
    if (tag === undefined || tag === "latest" || tag === "safe" || tag === "finalized") return fallback;
    if (tag === "earliest") return 0;
    if (typeof tag === "string" && /^0x[0-9a-fA-F]+$/.test(tag)) return Number(BigInt(tag));
    throw new SnapshotMissError(`eth_getLogs: invalid block ${JSON.stringify(tag)}`, SNAPSHOT_ERROR.invalidParams);
  };
  let from: number;
  let to: number;
  if (typeof f.blockHash === "string") {
    const block = blocksByHash.get(f.blockHash.toLowerCase());
    if (block === undefined) throw miss(`block ${f.blockHash} (eth_getLogs)`);
    from = to = Number(BigInt(block.number));
  } else {
    from = toNumber(f.fromBlock, head);
    to = toNumber(f.toBlock, head);
  }
  if (to > head) throw miss(`logs of blocks after ${head} (eth_getLogs up to ${to})`);
  const addresses = f.address === undefined || f.address === null ? [] : Array.isArray(f.address) ? f.address : [f.address];
  if (addresses.length === 0) throw miss("the logs of every contract (eth_getLogs without an address): only the recorded contracts' logs are stored");
  const wanted = new Set<string>();
  for (const address of addresses) {
    const lower = String(address).toLowerCase();
    if (!covered.has(lower)) throw miss(`the logs of ${lower} (eth_getLogs): its logs were not recorded`);
    wanted.add(lower);
  }
  const topics = Array.isArray(f.topics) ? f.topics : [];
  return snapshot.logs.filter((log) => {
    const n = Number(BigInt(log.blockNumber));
    if (n < from || n > to || !wanted.has(log.address.toLowerCase())) return false;
    return topics.every((want, i) => {
      if (want === null || want === undefined) return true;
      const have = log.topics[i]?.toLowerCase();
      if (have === undefined) return false;
      return Array.isArray(want) ? want.length === 0 || want.some((t) => String(t).toLowerCase() === have) : String(want).toLowerCase() === have;
    });
  });
}

/**
 * `eth_feeHistory` from recorded blocks and receipts, computed the way execution clients
 * do (EIP-1559 next base fee; rewards as gas-weighted percentiles of effective tips).
 */
function feeHistory(snapshot: Snapshot, count: number, newest: number, percentiles: unknown, miss: (what: string) => SnapshotMissError) {
  if (!Number.isSafeInteger(count) || count < 1) throw new SnapshotMissError("eth_feeHistory: block count must be at least 1", SNAPSHOT_ERROR.invalidParams);
  if (newest > snapshot.blockNumber) throw miss(`fee history of block ${newest}, after its block`);
  const oldest = Math.max(0, newest - count + 1);
  const wantRewards = Array.isArray(percentiles) ? percentiles.map(Number) : [];
  const baseFees: Hex[] = [];
  const ratios: number[] = [];
  const rewards: Hex[][] = [];
  let last: RawBlock | undefined;
  for (let n = oldest; n <= newest; n++) {
    const block = snapshot.blocks[String(n)];
    if (block === undefined) throw miss(`block ${n} (eth_feeHistory)`);
    const baseFee = BigInt(String(block.baseFeePerGas ?? "0x0"));
    const gasUsed = BigInt(String(block.gasUsed));
    const gasLimit = BigInt(String(block.gasLimit));
    baseFees.push(quantity(baseFee));
    ratios.push(gasLimit === 0n ? 0 : Number(gasUsed) / Number(gasLimit));
    if (wantRewards.length > 0) {
      const tips = block.transactions
        .map((tx) => {
          const receipt = snapshot.receipts[tx.hash.toLowerCase() as Hex];
          if (receipt === undefined) throw miss(`the receipt of ${tx.hash} (eth_feeHistory rewards)`);
          const tip =
            tx.maxFeePerGas !== undefined
              ? bigMin(BigInt(String(tx.maxPriorityFeePerGas)), BigInt(String(tx.maxFeePerGas)) - baseFee)
              : BigInt(String(tx.gasPrice)) - baseFee;
          return { tip, gas: BigInt(String(receipt.gasUsed)) };
        })
        .sort((a, b) => (a.tip < b.tip ? -1 : a.tip > b.tip ? 1 : 0));
      rewards.push(
        wantRewards.map((p) => {
          if (tips.length === 0) return "0x0";
          const threshold = (Number(gasUsed) * p) / 100;
          let sum = 0;
          for (const t of tips) {
            sum += Number(t.gas);
            if (sum >= threshold) return quantity(t.tip);
          }
          return quantity(tips[tips.length - 1]!.tip);
        }),
      );
    }
    last = block;
  }
  baseFees.push(quantity(nextBaseFee(last!)));
  return { oldestBlock: quantity(oldest), baseFeePerGas: baseFees, gasUsedRatio: ratios, ...(wantRewards.length > 0 ? { reward: rewards } : {}) };
}

/** EIP-1559: the base fee of the block after `block`. */
export function nextBaseFee(block: RawBlock): bigint {
  const baseFee = BigInt(String(block.baseFeePerGas ?? "0x0"));
  const gasUsed = BigInt(String(block.gasUsed));
  const target = BigInt(String(block.gasLimit)) / 2n;
  if (target === 0n || gasUsed === target) return baseFee;
  if (gasUsed > target) {
    const delta = (baseFee * (gasUsed - target)) / target / 8n;
    return baseFee + (delta > 1n ? delta : 1n);
  }
  return baseFee - (baseFee * (target - gasUsed)) / target / 8n;
}

const bigMin = (a: bigint, b: bigint) => (a < b ? a : b);
