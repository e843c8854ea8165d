import { getAddress, zeroAddress, type Address, type Hex, type PublicClient } from "viem";

import { findDeploymentBlock } from "../chain/deployment-block.js";
import { NoCodeError, toRpcError } from "../chain/errors.js";
import { scanLogs, type ScanProgress } from "../chain/log-scan.js";
import { readContracts } from "../chain/multicall.js";
import { timelockControllerAbi } from "./abi/timelock-controller.js";
import { NotGovernanceContractError } from "./errors.js";
import { OPERATION_STATES, operationId, type OperationState, type TimelockOperation } from "./timelock-operation.js";

export const ROLE_IDS = {
  admin: "0x0000000000000000000000000000000000000000000000000000000000000000",
  proposer: "0xb09aa5aeb3702cfd50b6b62bc4532604938f21248a27a1d5ca736082b6819cc1",
  executor: "0xd8aa0f3194971a2a116679f7c2090f6939c8d4e01a2a8d7e41d55e5351469e63",
  canceller: "0xfd643c72710c63c0180259aba6b2d05451e3591a24e58b62239378085726f783",
} as const satisfies Record<string, Hex>;
export type TimelockRole = keyof typeof ROLE_IDS;

/** The minimum delay of a timelock; throws (naming `flag`) when the address is not a TimelockController. */
export async function readTimelockDelay(client: PublicClient, address: Address, flag = "timelock"): Promise<bigint> {
  const timelock = getAddress(address);
  const code = await client.getCode({ address: timelock }).catch((error: unknown) => {
    throw toRpcError(client, "eth_getCode", error);
  });
  if (code === undefined || code === "0x") throw new NoCodeError(timelock, await client.getChainId());
  const { results } = await readContracts(client, [
    { address: timelock, abi: timelockControllerAbi, functionName: "getMinDelay" },
    { address: timelock, abi: timelockControllerAbi, functionName: "PROPOSER_ROLE" },
    { address: timelock, abi: timelockControllerAbi, functionName: "EXECUTOR_ROLE" },
  ]);
  const [delay, proposer, executor] = results;
  if (delay.status !== "success" || proposer.status !== "success" || executor.status !== "success" || proposer.result !== ROLE_IDS.proposer || executor.result !== ROLE_IDS.executor) {
    throw new NotGovernanceContractError(`${flag}: ${timelock} is not an OpenZeppelin TimelockController (getMinDelay/PROPOSER_ROLE/EXECUTOR_ROLE do not answer as one)`, undefined, flag.startsWith("-") ? undefined : flag);
  }
  return delay.result;
}

/** Whether the address answers as a TimelockController (for classifying owners; never throws for "no"). */
export async function isTimelock(client: PublicClient, address: Address): Promise<boolean> {
  const { results } = await readContracts(client, [
    { address, abi: timelockControllerAbi, functionName: "getMinDelay" },
    { address, abi: timelockControllerAbi, functionName: "PROPOSER_ROLE" },
  ]);
  return results[0].status === "success" && results[1].status === "success" && results[1].result === ROLE_IDS.proposer;
}

/** Whether `account` holds `role` (for the executor role, also true when the role is open to anyone). */
export async function hasTimelockRole(client: PublicClient, timelock: Address, role: TimelockRole, account: Address): Promise<boolean> {
  const accounts = role === "executor" ? [account, zeroAddress] : [account];
  const answers = await Promise.all(
    accounts.map((who) =>
      client.readContract({ address: timelock, abi: timelockControllerAbi, functionName: "hasRole", args: [ROLE_IDS[role], who] }).catch((error: unknown) => {
        throw toRpcError(client, "eth_call", error);
      }),
    ),
  );
  return answers.some(Boolean);
}

export interface OperationStatus {
  id: Hex;
  state: OperationState;
  /** When it is (or was) ready: unix seconds; 0 when unset, 1 when done (OpenZeppelin's marker). */
  readyAt: bigint;
  /** The head block's timestamp when read. */
  now: bigint;
  /** Set when the operation has a predecessor that is not executed: it cannot run, whatever its own time says. */
  blockedBy?: { id: Hex; state: OperationState };
}

/**
 * The state of an operation whose calls are known, with its predecessor: OpenZeppelin
 * calls an operation "ready" once its time has passed, but `execute` still reverts until
 * the predecessor is done (for ever, when the predecessor was cancelled).
 */
export async function readOperationStatusWithPredecessor(client: PublicClient, operation: TimelockOperation, id: Hex): Promise<OperationStatus> {
  const status = await readOperationStatus(client, operation.timelock, id);
  if (status.state === "done" || /^0x0{64}$/.test(operation.predecessor)) return status;
  const predecessor = await readOperationStatus(client, operation.timelock, operation.predecessor);
  return predecessor.state === "done" ? status : { ...status, blockedBy: { id: operation.predecessor, state: predecessor.state } };
}

/** The state of an operation and when it becomes ready. */
export async function readOperationStatus(client: PublicClient, timelock: Address, id: Hex): Promise<OperationStatus> {
  const read = async <T>(functionName: "getOperationState" | "getTimestamp"): Promise<T> =>
    (await client.readContract({ address: timelock, abi: timelockControllerAbi, functionName, args: [id] }).catch((error: unknown) => {
      throw toRpcError(client, "eth_call", error);
    })) as T;
  const [state, readyAt, block] = await Promise.all([
    read<number>("getOperationState"),
    read<bigint>("getTimestamp"),
    client.getBlock({ blockTag: "latest" }).catch((error: unknown) => {
      throw toRpcError(client, "eth_getBlockByNumber", error);
    }),
  ]);
  return { id, state: OPERATION_STATES[state] ?? "unset", readyAt, now: block.timestamp };
}

export interface RoleMembers {
  admin: Address[];
  proposer: Address[];
  executor: Address[];
  canceller: Address[];
}

export interface ScannedOperation {
  operation: TimelockOperation;
  id: Hex;
  scheduledInBlock: bigint;
  scheduledInTx: Hex;
  cancelled: boolean;
}

export interface TimelockHistory {
  fromBlock: bigint;
  toBlock: bigint;
  /** Current holders of each role (granted by events, confirmed with `hasRole`). */
  roles: RoleMembers;
  /** Every operation scheduled in the range, the latest scheduling of each id. */
  operations: ScannedOperation[];
}

const EVENTS = timelockControllerAbi.filter(
  (item) => item.type === "event" && ["RoleGranted", "RoleRevoked", "CallScheduled", "CallSalt", "Cancelled"].includes(item.name),
);

/**
 * Rebuilds a timelock's role holders and operations from its events (AccessControl does
 * not enumerate members, and operations are only stored as hashes). Scans from the
 * deployment block (binary search, needs historical state) unless `fromBlock` is given.
 */
export async function readTimelockHistory(
  client: PublicClient,
  timelock: Address,
  options: { fromBlock?: bigint; onProgress?: (progress: ScanProgress) => void } = {},
): Promise<TimelockHistory> {
  const address = getAddress(timelock);
  const fromBlock = options.fromBlock ?? (await findDeploymentBlock(client, address));
  const scan = await scanLogs(client, { address, events: EVENTS as never, fromBlock, ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }) });
  const candidates: Record<TimelockRole, Set<Address>> = { admin: new Set(), proposer: new Set(), executor: new Set(), canceller: new Set() };
  const scheduled = new Map<Hex, { calls: Map<bigint, { to: Address; value: bigint; data: Hex }>; predecessor: Hex; delay: bigint; block: bigint; tx: Hex }>();
  const salts = new Map<Hex, Hex>();
  const cancelled = new Set<Hex>();
  for (const log of scan.logs as unknown as Array<{ eventName: string; args: Record<string, unknown>; blockNumber: bigint; transactionHash: Hex }>) {
    const args = log.args;
    if (log.eventName === "RoleGranted" || log.eventName === "RoleRevoked") {
      const role = (Object.entries(ROLE_IDS) as Array<[TimelockRole, Hex]>).find(([, id]) => id === String(args.role).toLowerCase())?.[0];
      if (role !== undefined) candidates[role].add(getAddress(args.account as string));
    } else if (log.eventName === "CallScheduled") {
      const id = String(args.id).toLowerCase() as Hex;
      let entry = scheduled.get(id);
      // A cancelled id can be scheduled again: the latest scheduling transaction wins.
      if (entry === undefined || entry.tx !== log.transactionHash) {
        entry = { calls: new Map(), predecessor: args.predecessor as Hex, delay: args.delay as bigint, block: log.blockNumber, tx: log.transactionHash };
        scheduled.set(id, entry);
        cancelled.delete(id);
      }
      entry.calls.set(args.index as bigint, { to: getAddress(args.target as string), value: args.value as bigint, data: args.data as Hex });
    } else if (log.eventName === "CallSalt") {
      salts.set(String(args.id).toLowerCase() as Hex, args.salt as Hex);
    } else if (log.eventName === "Cancelled") {
      cancelled.add(String(args.id).toLowerCase() as Hex);
    }
  }
  const roles: RoleMembers = { admin: [], proposer: [], executor: [], canceller: [] };
  for (const role of Object.keys(candidates) as TimelockRole[]) {
    const members = [...candidates[role]];
    const held = await Promise.all(
      members.map((member) =>
        client.readContract({ address, abi: timelockControllerAbi, functionName: "hasRole", args: [ROLE_IDS[role], member] }).catch((error: unknown) => {
          throw toRpcError(client, "eth_call", error);
        }),
      ),
    );
    roles[role] = members.filter((_, i) => held[i]);
  }
  const operations: ScannedOperation[] = [];
  for (const [id, entry] of scheduled) {
    const calls = [...entry.calls.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, call]) => call);
    const salt = salts.get(id) ?? (`0x${"0".repeat(64)}`) as Hex;
    const base = { timelock: address, calls, predecessor: entry.predecessor, salt, delay: entry.delay };
    // One call may have been scheduled with schedule() or scheduleBatch(); the id tells which.
    const single = calls.length === 1 && operationId({ ...base, batch: false }) === id;
    const operation: TimelockOperation = { ...base, batch: !single };
    operations.push({ operation, id, scheduledInBlock: entry.block, scheduledInTx: entry.tx, cancelled: cancelled.has(id) });
  }
  operations.sort((a, b) => (a.scheduledInBlock < b.scheduledInBlock ? -1 : a.scheduledInBlock > b.scheduledInBlock ? 1 : 0));
  return { fromBlock: scan.fromBlock, toBlock: scan.toBlock, roles, operations };
}
