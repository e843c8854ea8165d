/**
 * Records a fork snapshot (./snapshot.ts) from any JSON-RPC endpoint at one block: the
 * fork block header, the listed accounts' balance, nonce, code and storage, the listed
 * contracts' logs with their blocks, transactions and receipts.
 *
 * Storage is recorded completely when the source allows it, otherwise from known slots:
 *  1. `traced` (a local reproduction): every slot any of the given transactions wrote
 *     (SSTORE keys from `debug_traceTransaction` struct logs), read on every account.
 *     Complete when the transactions are every transaction that ever ran on the chain.
 *  2. `debug_storageRangeAt` (geth-style archive nodes with preimages): complete.
 *  3. known slots (any node): ERC-1967 and OpenZeppelin namespaced slots, the low slots
 *     that hold the contracts' variables, long strings/bytes behind them, mapping entries
 *     keyed by any word of the contract's logs (allowlists, registrations, roles,
 *     scheduled operations, approved hashes) and the Safe's owner/module linked lists.
 *     Incomplete: a slot outside these is unknown and the server says so.
 */
import { concat, createPublicClient, custom, http, keccak256, pad, toHex as viemToHex, type Hex as ViemHex } from "viem";

import type { ChainClient } from "../chain/clients.js";
import { findDeploymentBlock } from "../chain/deployment-block.js";
import { withRpcError } from "../chain/errors.js";
import { scanRawLogs } from "../chain/log-scan.js";
import { DstackGovernanceError } from "../util/errors.js";
import type { Hex } from "../util/hex.js";
import { mapLimit } from "../util/map-limit.js";
import {
  SNAPSHOT_FORMAT,
  slotKey,
  type RawBlock,
  type RawLog,
  type Snapshot,
  type SnapshotAccount,
  type SnapshotSource,
  type StorageMethod,
} from "./snapshot.js";

export class RecordError extends DstackGovernanceError {
  override name = "RecordError";
  constructor(message: string, options: { details?: string; cause?: unknown; field?: string } = {}) {
    super("RECORD_FAILED", message, options);
  }
}

export type StorageStrategy =
  /** Slots written by these transactions (plus `extraSlots`): complete. */
  | { kind: "traced"; transactions: Hex[]; extraSlots?: Hex[] }
  /** `debug_storageRangeAt` where the node offers it, otherwise known slots. */
  | { kind: "auto"; extraSlots?: Hex[]; extraMappingKeys?: Hex[] }
  | { kind: "known-slots"; extraSlots?: Hex[]; extraMappingKeys?: Hex[] };

export interface RecordOptions {
  url: string;
  /** The fork block (default: the source's latest block). */
  blockNumber?: bigint;
  /** Accounts whose state is recorded (contracts and EOAs). */
  addresses: Hex[];
  /** Contracts whose logs are recorded (default: every listed account with code). */
  logAddresses?: Hex[];
  storage: StorageStrategy;
  source: Omit<SnapshotSource, "clientVersion">;
  scenario?: Record<string, unknown>;
  /** Progress lines (stderr in the CLI). */
  onProgress?: (line: string) => void;
  /**
   * Blocks at which accounts got their code, when the caller knows them (a reproduction
   * knows its deployments); otherwise found by binary search on `eth_getCode`, which
   * needs an archive node.
   */
  codeSince?: Record<string, number>;
  /**
   * Where to read an account's balance and nonce "at block n" on the source, when block n
   * itself cannot be trusted: Hardhat's simulated chain answers state at blocks made by
   * `hardhat_mine` (except the last of each batch) as empty, so a reproduction maps them to
   * the block where the state last changed. Default: n.
   */
  historicalStateBlock?: (n: number) => number;
  /** Parallel requests to the source (default 8). */
  concurrency?: number;
}

const ERC1967_SLOTS: Hex[] = [
  "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc", // implementation
  "0xb53127684a568b3173ae13b9f8a6016e243e63b6e8ee1178d6a717850b5d6103", // admin
  "0xa3f0ad74e5423aebfd80d3ef4346578335a9a72aeaee59ff6cb3582b35133d50", // beacon
];
const OPENZEPPELIN_NAMESPACED_SLOTS: Hex[] = [
  "0x9016d09d72d40fdae2fd8ceac6b6234c7706214fd39c1cd1e609a0528c199300", // Ownable
  "0x237e158222e3e6968b72b9db0d8043aacf074ad9f650f0d1606b4d82ee432c00", // Ownable2Step
  "0xf0c57e16840df040f15088dc2f81fe391c3923bec73e23a9662efc9c229c6a00", // Initializable
];
const SAFE_SLOTS: Hex[] = [
  "0x6c9a6c4a39284e37ed1cf53d337577d14212a4870fb976a4366c693b939918d5", // fallback handler
  "0x4a204f620c8c5ccdca3fd54d003badd85ba500436a431f0cbda4f558c93c34c8", // guard
  "0xb104e0b93118902c651344349b610029d694cfdec91c589c91ebafbcd0289947", // module guard (v1.5)
];
/** Slots 0..15 hold the plain variables and mapping/array bases of DstackApp, DstackKms, Safe, TimelockController. */
const LOW_SLOTS = 16;
/** Mapping bases whose keys are event words: app allowlists (0, 2), KMS maps (5..8), Safe (1, 2, 7), timelock (0: roles, 1: timestamps). */
const MAPPING_BASES = [0, 1, 2, 5, 6, 7, 8];
/** Nested mappings keyed by two event words: AccessControl `_roles[role].hasRole[account]` (base 0) and Safe `approvedHashes[owner][hash]` (base 8). */
const NESTED_MAPPING_BASES = [0, 8];
const SAFE_SENTINEL: Hex = slotKey(1n);

export async function recordSnapshot(options: RecordOptions): Promise<Snapshot> {
  // No timeout shorter than a slow trace, and no blind retries: a failure names the method and the redacted URL.
  const client = createPublicClient({ transport: http(options.url, { retryCount: 0, timeout: 120_000 }) });
  const progress = options.onProgress ?? (() => {});
  const limit = options.concurrency ?? 8;

  const chainId = Number(BigInt(await request<string>(client, "eth_chainId", [])));
  const clientVersion = await request<string>(client, "web3_clientVersion", []).catch(() => undefined);
  const forkBlock = options.blockNumber ?? BigInt(await request<string>(client, "eth_blockNumber", []));
  const tag = viemToHex(forkBlock);
  const head = await request<RawBlock | null>(client, "eth_getBlockByNumber", [tag, true]);
  if (head === null) throw new RecordError(`the source has no block ${forkBlock}`);
  progress(`chain ${chainId}, fork block ${forkBlock} (${head.hash})`);

  const addresses = unique(options.addresses.map((a) => a.toLowerCase() as Hex));
  const accounts: Record<Hex, SnapshotAccount> = {};
  await mapLimit(addresses, limit, async (address) => {
    const [balance, nonce, code] = await Promise.all([
      request<Hex>(client, "eth_getBalance", [address, tag]),
      request<Hex>(client, "eth_getTransactionCount", [address, tag]),
      request<Hex>(client, "eth_getCode", [address, tag]),
    ]);
    const account: SnapshotAccount = { balance, nonce, code, storageComplete: false, storageMethod: "known-slots", storage: {} };
    const known = Object.entries(options.codeSince ?? {}).find(([a]) => a.toLowerCase() === address)?.[1];
    if (code !== "0x" && known !== undefined) account.codeSinceBlock = known;
    else if (code !== "0x") {
      const since = await codeSince(client, address, code, forkBlock).catch((error: unknown) => {
        progress(`  ${address}: no code history (${(error as Error).message}); eth_getCode at older blocks will not be served`);
        return undefined;
      });
      if (since !== undefined) account.codeSinceBlock = Number(since);
    }
    accounts[address] = account;
  });
  progress(`${addresses.length} account(s) read`);

  // Logs of the listed contracts, from the first block any of them had code.
  const logAddresses = unique((options.logAddresses ?? addresses.filter((a) => accounts[a]?.code !== "0x")).map((a) => a.toLowerCase() as Hex));
  for (const address of logAddresses) {
    if (accounts[address] === undefined) throw new RecordError(`logAddress: ${address} must also be a recorded address`, { field: "logAddress" });
  }
  const starts = logAddresses.map((a) => accounts[a]!.codeSinceBlock ?? 0);
  const fromBlock = starts.length === 0 ? Number(forkBlock) : Math.min(...starts);
  const logs = logAddresses.length === 0 ? [] : ((await scanRawLogs(client, { address: logAddresses, fromBlock: BigInt(fromBlock), toBlock: forkBlock })).logs as unknown as RawLog[]);
  progress(`${logs.length} log(s) of ${logAddresses.length} contract(s) in blocks ${fromBlock}..${forkBlock}`);

  // Headers: the fork block, the blocks of the logs (their times), and the blocks a search
  // for each logged contract's deployment block visits (list-compose-hashes does that
  // search with eth_getCode at older blocks, and the forking node needs the header of
  // every block it reads state at).
  const blocks: Record<string, RawBlock> = { [String(forkBlock)]: head };
  const probes = await deploymentSearchBlocks(logAddresses.map((a) => ({ address: a, account: accounts[a]! })), forkBlock, chainId);
  // The forking node reads the whole account (balance and nonce too) at each probed block.
  const stateBlock = options.historicalStateBlock ?? ((n: number) => n);
  await mapLimit([...probes.entries()], 2, async ([address, numbers]) => {
    const history: Record<string, { balance: Hex; nonce: Hex }> = {};
    await mapLimit(numbers, limit, async (n) => {
      const at = viemToHex(BigInt(stateBlock(n)));
      const [balance, nonce] = await Promise.all([request<Hex>(client, "eth_getBalance", [address, at]), request<Hex>(client, "eth_getTransactionCount", [address, at])]);
      history[String(n)] = { balance, nonce };
    });
    accounts[address]!.history = history;
  });
  const probeBlocks = [...new Set([...probes.values()].flat())];
  const logBlocks = unique([...logs.map((log) => String(Number(BigInt(log.blockNumber)))), ...probeBlocks.map(String)]).filter((n) => blocks[n] === undefined);
  await mapLimit(logBlocks, limit, async (n) => {
    const block = await request<RawBlock | null>(client, "eth_getBlockByNumber", [viemToHex(BigInt(n)), true]);
    if (block === null) throw new RecordError(`the source has no block ${n}`);
    blocks[n] = block;
  });
  // Receipts of the transactions that emitted the logs and of the fork block (fee history).
  const receiptHashes = unique([...logs.map((log) => log.transactionHash.toLowerCase() as Hex), ...head.transactions.map((tx) => tx.hash.toLowerCase() as Hex)]);
  const receipts: Record<Hex, Record<string, unknown>> = {};
  await mapLimit(receiptHashes, limit, async (hash) => {
    receipts[hash] = await request<Record<string, unknown>>(client, "eth_getTransactionReceipt", [hash]);
  });

  // Storage.
  const contracts = addresses.filter((a) => accounts[a]!.code !== "0x");
  const eoas = addresses.filter((a) => accounts[a]!.code === "0x");
  // An account without code has no storage (EIP-7702 delegated EOAs aside, which have code).
  for (const address of eoas) Object.assign(accounts[address]!, { storageComplete: true, storageMethod: "no-code" satisfies StorageMethod, storage: {} });
  const strategy = options.storage;
  if (strategy.kind === "traced") {
    const slots = await tracedSlots(client, strategy.transactions, limit);
    for (const slot of strategy.extraSlots ?? []) slots.add(slotKey(slot));
    progress(`${slots.size} slot(s) written by ${strategy.transactions.length} traced transaction(s)`);
    await mapLimit(contracts, 2, async (address) => {
      const storage = await readSlots(client, address, [...slots], tag, limit, false);
      Object.assign(accounts[address]!, { storage, storageComplete: true, storageMethod: "traced-sstore" satisfies StorageMethod });
    });
  } else {
    for (const address of contracts) {
      let done = false;
      if (strategy.kind === "auto") {
        const ranged = await storageRange(client, head, address).catch((error: unknown) => {
          progress(`  ${address}: debug_storageRangeAt unavailable (${(error as Error).message}); recording known slots`);
          return undefined;
        });
        if (ranged !== undefined) {
          Object.assign(accounts[address]!, { storage: ranged, storageComplete: true, storageMethod: "debug_storageRangeAt" satisfies StorageMethod });
          done = true;
        }
      }
      if (!done) {
        const contractLogs = logs.filter((log) => log.address.toLowerCase() === address);
        const storage = await knownSlots(client, address, contractLogs, tag, limit, strategy.extraSlots ?? [], strategy.extraMappingKeys ?? []);
        Object.assign(accounts[address]!, { storage, storageComplete: false, storageMethod: "known-slots" satisfies StorageMethod });
      }
    }
  }
  progress("storage recorded");

  return {
    format: SNAPSHOT_FORMAT,
    chainId,
    blockNumber: Number(forkBlock),
    source: { ...options.source, ...(clientVersion === undefined ? {} : { clientVersion }) },
    scenario: options.scenario ?? {},
    blocks,
    receipts,
    accounts,
    logCoverage: { addresses: logAddresses, fromBlock },
    logs,
  };
}

/**
 * The blocks `findDeploymentBlock` (src/chain/deployment-block.ts) reads code at when
 * run on a fork of this snapshot whose head is the fork block: the very search, answered
 * from the recorded creation blocks.
 */
async function deploymentSearchBlocks(contracts: Array<{ address: Hex; account: SnapshotAccount }>, forkBlock: bigint, chainId: number): Promise<Map<Hex, number[]>> {
  const probes = new Map<Hex, number[]>();
  for (const { address, account } of contracts) {
    const since = account.codeSinceBlock;
    if (since === undefined) continue;
    const visited = new Set<number>();
    const client = createPublicClient({
      transport: custom({
        async request({ method, params }: { method: string; params?: unknown }) {
          const list = (params ?? []) as unknown[];
          if (method === "eth_blockNumber") return viemToHex(forkBlock);
          if (method === "eth_chainId") return viemToHex(chainId);
          if (method === "eth_getCode") {
            const n = Number(BigInt(String(list[1])));
            visited.add(n);
            return n >= since ? account.code : "0x";
          }
          throw new Error(`unexpected ${method} in the deployment search`);
        },
      }),
    });
    await findDeploymentBlock(client, address as `0x${string}`, { toBlock: forkBlock });
    probes.set(address, [...visited].filter((n) => n < Number(forkBlock)).sort((a, b) => a - b));
  }
  return probes;
}

/** The first block at which `address` had `code`, by binary search (needs an archive node). */
async function codeSince(client: ChainClient, address: Hex, code: Hex, forkBlock: bigint): Promise<bigint> {
  let low = 0n;
  let high = forkBlock;
  while (low < high) {
    const mid = (low + high) / 2n;
    const at = await request<Hex>(client, "eth_getCode", [address, viemToHex(mid)]);
    if (at === "0x") low = mid + 1n;
    else if (at === code) high = mid;
    // Different code earlier (an upgrade of a proxy never changes the proxy's own code;
    // this would be a selfdestruct and redeploy): older queries stay unanswered.
    else throw new Error(`its code changed at or before block ${mid}`);
  }
  return low;
}

/** Every storage key an SSTORE wrote in the given transactions (any account: the reads sort them out). */
async function tracedSlots(client: ChainClient, transactions: Hex[], limit: number): Promise<Set<Hex>> {
  const slots = new Set<Hex>();
  await mapLimit(transactions, limit, async (hash) => {
    const trace = await request<{ structLogs?: Array<{ op: string; stack?: string[] }> }>(client, "debug_traceTransaction", [
      hash,
      { disableMemory: true, disableStorage: true, disableStack: false },
    ]);
    if (!Array.isArray(trace.structLogs)) throw new RecordError(`debug_traceTransaction ${hash} returned no struct logs`);
    for (const step of trace.structLogs) {
      if (step.op !== "SSTORE") continue;
      const key = step.stack?.[step.stack.length - 1];
      if (key === undefined) throw new RecordError(`debug_traceTransaction ${hash}: SSTORE without a stack`);
      slots.add(slotKey(key));
    }
  });
  return slots;
}

/** Reads slots; keeps non-zero values (`keepZeros`: every value read, as known facts). */
async function readSlots(client: ChainClient, address: Hex, slots: Hex[], tag: Hex, limit: number, keepZeros: boolean): Promise<Record<Hex, Hex>> {
  const values = await mapLimit(slots, limit, (slot) => request<Hex>(client, "eth_getStorageAt", [address, slot, tag]));
  const storage: Record<Hex, Hex> = {};
  slots.forEach((slot, i) => {
    const value = slotKey(values[i]!);
    if (keepZeros || BigInt(value) !== 0n) storage[slot] = value;
  });
  return storage;
}

/** `debug_storageRangeAt` at the end of the fork block; undefined when the node lacks key preimages. */
async function storageRange(client: ChainClient, head: RawBlock, address: Hex): Promise<Record<Hex, Hex> | undefined> {
  const storage: Record<Hex, Hex> = {};
  let next: Hex | null = slotKey(0n);
  while (next !== null) {
    const page: { storage: Record<string, { key: Hex | null; value: Hex }>; nextKey: Hex | null } = await request(client, "debug_storageRangeAt", [
      head.hash,
      head.transactions.length,
      address,
      next,
      1024,
    ]);
    for (const entry of Object.values(page.storage)) {
      if (entry.key === null) throw new Error("the node has no preimages of the storage keys");
      if (BigInt(entry.value) !== 0n) storage[slotKey(entry.key)] = slotKey(entry.value);
    }
    next = page.nextKey;
  }
  return storage;
}

async function knownSlots(
  client: ChainClient,
  address: Hex,
  logs: RawLog[],
  tag: Hex,
  limit: number,
  extraSlots: Hex[],
  extraMappingKeys: Hex[],
): Promise<Record<Hex, Hex>> {
  const words = unique([
    ...extraMappingKeys.map((k) => slotKey(k)),
    ...logs.flatMap((log) => [...log.topics.slice(1), ...chunkWords(log.data)]).map((w) => slotKey(w)),
  ]);
  const mapping = (key: Hex, base: Hex) => keccak256(concat([pad(key as ViemHex, { size: 32 }), pad(base as ViemHex, { size: 32 })])) as Hex;
  const candidates = new Set<Hex>([...ERC1967_SLOTS, ...OPENZEPPELIN_NAMESPACED_SLOTS, ...SAFE_SLOTS, ...extraSlots.map((s) => slotKey(s))]);
  for (let i = 0; i < LOW_SLOTS; i++) candidates.add(slotKey(BigInt(i)));
  for (const base of MAPPING_BASES) for (const word of words) candidates.add(mapping(word, slotKey(BigInt(base))));
  // Pairs of words are many and mostly empty: only their non-zero entries are kept.
  const nested = new Set<Hex>();
  for (const base of NESTED_MAPPING_BASES) {
    for (const outer of words) {
      const inner = mapping(outer, slotKey(BigInt(base)));
      candidates.add(slotKey(BigInt(inner) + 1n)); // AccessControl RoleData.adminRole
      for (const key of words) nested.add(mapping(key, inner));
    }
  }
  const storage = await readSlots(client, address, [...candidates], tag, limit, true);
  Object.assign(storage, await readSlots(client, address, [...nested].filter((slot) => !candidates.has(slot)), tag, limit, false));

  // Long strings/bytes (value = 2·length + 1) keep their data at keccak256(slot).
  const more: Hex[] = [];
  for (let i = 0; i < LOW_SLOTS; i++) {
    const value = BigInt(storage[slotKey(BigInt(i))] ?? "0x0");
    if (value % 2n === 1n && value < 1n << 24n) {
      const start = BigInt(keccak256(slotKey(BigInt(i)) as ViemHex));
      for (let j = 0n; j < (value / 2n + 31n) / 32n; j++) more.push(slotKey(start + j));
    }
  }
  Object.assign(storage, await readSlots(client, address, more, tag, limit, true));

  // The Safe's owners (base 2) and modules (base 1) are linked lists from the sentinel 0x1.
  for (const base of [1n, 2n]) {
    let key: Hex = SAFE_SENTINEL;
    for (let steps = 0; steps < 256; steps++) {
      const slot = mapping(key, slotKey(base));
      const value = storage[slot] ?? slotKey(await request<Hex>(client, "eth_getStorageAt", [address, slot, tag]));
      storage[slot] = value;
      if (BigInt(value) === 0n || value === SAFE_SENTINEL) break;
      key = value;
    }
  }
  return storage;
}

function chunkWords(data: Hex): Hex[] {
  const body = data.slice(2);
  const words: Hex[] = [];
  for (let i = 0; i + 64 <= body.length; i += 64) words.push(`0x${body.slice(i, i + 64)}`);
  return words;
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

/** One JSON-RPC request, its raw result; a failure is the `RpcError` naming the method and the redacted URL. */
function request<T>(client: ChainClient, method: string, params: unknown[]): Promise<T> {
  return withRpcError(client, method, () => (client.request as (args: { method: string; params: unknown[] }) => Promise<T>)({ method, params }));
}
