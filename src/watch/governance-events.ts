import { getAddress, type AbiEvent, type Address, type Hex } from "viem";
import { getBlock, getTransaction } from "viem/actions";

import { dstackAppAbi } from "../abi/dstack-app.js";
import { dstackKmsAbi } from "../abi/dstack-kms.js";
import { toRpcError } from "../chain/errors.js";
import { scanLogs, type ScanProgress } from "../chain/log-scan.js";
import { mapLimit } from "../util/map-limit.js";
import { formatTimestamp } from "../util/timestamp.js";
import type { ChainClient } from "../chain/clients.js";

export type GovernedRole = "app" | "kms";

/** One governance decision read from chain: what changed, where, when and by whom. */
export interface GovernanceEvent {
  blockNumber: bigint;
  /** Unix seconds. */
  blockTimestamp: bigint;
  transactionHash: Hex;
  logIndex: number;
  contract: Address;
  role: GovernedRole;
  event: string;
  args: Record<string, string | boolean>;
  /** The account that made the change: `PolicyChanged.actor` where emitted, else the transaction's sender. */
  actor: Address;
  actorSource: "PolicyChanged" | "transaction sender";
}

// Every event of the two contracts except `Initialized` (an implementation detail) and
// `PolicyChanged`, which is not shown on its own but names the actor of its siblings.
const POLICY_CHANGED = dstackAppAbi.find((item) => item.type === "event" && item.name === "PolicyChanged") as AbiEvent;

function eventsOf(abi: readonly unknown[]): AbiEvent[] {
  return (abi as AbiEvent[]).filter((item) => item.type === "event" && item.name !== "Initialized");
}

const EVENTS: Record<GovernedRole, AbiEvent[]> = { app: eventsOf(dstackAppAbi), kms: eventsOf(dstackKmsAbi) };

export interface ReadGovernanceEventsOptions {
  contracts: ReadonlyArray<{ address: Address; role: GovernedRole }>;
  fromBlock: bigint;
  toBlock: bigint;
  onProgress?: (progress: ScanProgress) => void;
}

/**
 * Reads the governance history of app and KMS contracts in `[fromBlock, toBlock]` in chain
 * order, with block times and actors. Uses the adaptive log scan, so it never returns a
 * partial history: it returns everything or throws.
 */
export async function readGovernanceEvents(client: ChainClient, options: ReadGovernanceEventsOptions): Promise<{ events: GovernanceEvent[]; requests: number }> {
  const roles = new Map(options.contracts.map((c) => [getAddress(c.address), c.role]));
  const wanted = new Map<string, AbiEvent>();
  for (const role of new Set(roles.values())) for (const event of EVENTS[role]) wanted.set(`${event.name}/${event.inputs.length}`, event);
  const scan = await scanLogs(client, {
    address: [...roles.keys()],
    events: [...wanted.values()],
    fromBlock: options.fromBlock,
    toBlock: options.toBlock,
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  });
  let requests = scan.stats.requests;

  // PolicyChanged names the actor of the other events of its transaction and contract.
  const actors = new Map<string, Address>();
  for (const log of scan.logs) {
    if (log.eventName === POLICY_CHANGED.name) actors.set(`${log.transactionHash}/${getAddress(log.address)}`, getAddress((log.args as { actor: Address }).actor));
  }
  const shown = scan.logs.filter((log) => log.eventName !== POLICY_CHANGED.name);

  const missingTimes = [...new Set(shown.filter((log) => log.blockTimestamp === undefined).map((log) => log.blockNumber))];
  const times = new Map<bigint, bigint>();
  await mapLimit(missingTimes, 8, async (blockNumber) => {
    const block = await getBlock(client, { blockNumber }).catch((error: unknown) => {
      throw toRpcError(client, "eth_getBlockByNumber", error);
    });
    times.set(blockNumber, block.timestamp);
  });
  requests += missingTimes.length;

  const sendersNeeded = [...new Set(shown.filter((log) => !actors.has(`${log.transactionHash}/${getAddress(log.address)}`)).map((log) => log.transactionHash))];
  const senders = new Map<Hex, Address>();
  await mapLimit(sendersNeeded, 8, async (hash) => {
    const tx = await getTransaction(client, { hash }).catch((error: unknown) => {
      throw toRpcError(client, "eth_getTransactionByHash", error);
    });
    senders.set(hash, getAddress(tx.from));
  });
  requests += sendersNeeded.length;

  const events = shown.map((log): GovernanceEvent => {
    const contract = getAddress(log.address);
    const fromPolicy = actors.get(`${log.transactionHash}/${contract}`);
    return {
      blockNumber: log.blockNumber,
      blockTimestamp: log.blockTimestamp ?? times.get(log.blockNumber)!,
      transactionHash: log.transactionHash,
      logIndex: log.logIndex,
      contract,
      role: roles.get(contract)!,
      event: log.eventName as string,
      args: Object.fromEntries(Object.entries((log.args ?? {}) as Record<string, unknown>).map(([k, v]) => [k, typeof v === "boolean" ? v : String(v)])),
      actor: fromPolicy ?? senders.get(log.transactionHash)!,
      actorSource: fromPolicy === undefined ? "transaction sender" : "PolicyChanged",
    };
  });
  return { events, requests };
}

/** One line a reviewer reads: when, where, what, by whom. */
export function describeGovernanceEvent(event: GovernanceEvent): string {
  const when = formatTimestamp(event.blockTimestamp);
  const args = Object.entries(event.args).map(([k, v]) => `${k}=${v}`).join(" ");
  return `block ${event.blockNumber} ${when} ${event.role} ${event.contract} ${event.event}${args === "" ? "" : ` ${args}`} by ${event.actor} (tx ${event.transactionHash})`;
}
