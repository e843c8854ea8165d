import { decodeFunctionData, encodeAbiParameters, getAddress, keccak256, type Address, type Hex } from "viem";

import { plannedCall, type PlannedCall } from "../manage/planned-call.js";
import { timelockControllerAbi } from "./abi/timelock-controller.js";
import { formatDuration } from "../util/duration.js";
import type { BatchCall } from "./multisend.js";

/**
 * An OpenZeppelin TimelockController operation: the calls the timelock will make, the
 * predecessor that must be done first (zero: none), a salt that tells equal operations
 * apart, and the delay it was (or will be) scheduled with. One call is scheduled with
 * `schedule`, several with `scheduleBatch`; the operation id is hashed differently.
 */
export interface TimelockOperation {
  timelock: Address;
  calls: BatchCall[];
  predecessor: Hex;
  salt: Hex;
  delay: bigint;
  /** `scheduleBatch`/`executeBatch` (and `hashOperationBatch`), else the single-call functions. */
  batch: boolean;
}

/** `getOperationState` of OpenZeppelin 5: Unset (never scheduled or cancelled), Waiting, Ready, Done. */
export const OPERATION_STATES = ["unset", "waiting", "ready", "done"] as const;
export type OperationState = (typeof OPERATION_STATES)[number];

export const ZERO_BYTES32 = "0x0000000000000000000000000000000000000000000000000000000000000000" as Hex;

/** The operation id, as the timelock computes it (`hashOperation` / `hashOperationBatch`). */
export function operationId(op: Pick<TimelockOperation, "calls" | "predecessor" | "salt" | "batch">): Hex {
  if (!op.batch) {
    const [call] = op.calls;
    if (call === undefined || op.calls.length !== 1) throw new Error("a single-call timelock operation needs exactly one call");
    return keccak256(
      encodeAbiParameters(
        [{ type: "address" }, { type: "uint256" }, { type: "bytes" }, { type: "bytes32" }, { type: "bytes32" }],
        [call.to, call.value, call.data, op.predecessor, op.salt],
      ),
    );
  }
  return keccak256(
    encodeAbiParameters(
      [{ type: "address[]" }, { type: "uint256[]" }, { type: "bytes[]" }, { type: "bytes32" }, { type: "bytes32" }],
      [op.calls.map((call) => call.to), op.calls.map((call) => call.value), op.calls.map((call) => call.data), op.predecessor, op.salt],
    ),
  );
}

/** Builds an operation for `calls`: single-call functions for one call, batch functions otherwise. */
export function timelockOperation(timelock: Address, calls: readonly BatchCall[], options: { predecessor: Hex; salt: Hex; delay: bigint }): TimelockOperation {
  return { timelock: getAddress(timelock), calls: calls.map((call) => ({ ...call, to: getAddress(call.to) })), ...options, batch: calls.length !== 1 };
}

/** The `schedule`/`scheduleBatch` call that queues the operation. */
export function scheduleCall(op: TimelockOperation, summaries: readonly string[] = []): PlannedCall {
  const what = describeInner(op, summaries);
  const summary = `schedule on timelock ${op.timelock} (delay ${formatDuration(op.delay)}, operation ${operationId(op)}): ${what}`;
  if (!op.batch) {
    const call = op.calls[0]!;
    return plannedCall(op.timelock, timelockControllerAbi, "schedule", [call.to, call.value, call.data, op.predecessor, op.salt, op.delay], summary);
  }
  return plannedCall(
    op.timelock,
    timelockControllerAbi,
    "scheduleBatch",
    [op.calls.map((c) => c.to), op.calls.map((c) => c.value), op.calls.map((c) => c.data), op.predecessor, op.salt, op.delay],
    summary,
  );
}

/** The `execute`/`executeBatch` call that runs a ready operation. */
export function executeCall(op: TimelockOperation, summaries: readonly string[] = []): PlannedCall {
  const summary = `execute timelock operation ${operationId(op)} on ${op.timelock}: ${describeInner(op, summaries)}`;
  if (!op.batch) {
    const call = op.calls[0]!;
    return { ...plannedCall(op.timelock, timelockControllerAbi, "execute", [call.to, call.value, call.data, op.predecessor, op.salt], summary), value: call.value };
  }
  const total = op.calls.reduce((sum, call) => sum + call.value, 0n);
  return {
    ...plannedCall(op.timelock, timelockControllerAbi, "executeBatch", [op.calls.map((c) => c.to), op.calls.map((c) => c.value), op.calls.map((c) => c.data), op.predecessor, op.salt], summary),
    value: total,
  };
}

/** The `cancel(id)` call. */
export function cancelCall(op: TimelockOperation, summaries: readonly string[] = []): PlannedCall {
  const id = operationId(op);
  return plannedCall(op.timelock, timelockControllerAbi, "cancel", [id], `cancel timelock operation ${id} on ${op.timelock}: ${describeInner(op, summaries)}`);
}

function describeInner(op: TimelockOperation, summaries: readonly string[]): string {
  if (summaries.length > 0) return summaries.join("; ");
  return `${op.calls.length} call(s) to ${[...new Set(op.calls.map((call) => call.to))].join(", ")}`;
}

/** A timelock operation as files keep it (JSON: numbers as decimal strings). */
export interface SerializedOperation {
  timelock: Address;
  /** The operation id (checked against the fields whenever the file is read). */
  id: Hex;
  calls: Array<{ to: Address; value: string; data: Hex }>;
  predecessor: Hex;
  salt: Hex;
  /** Seconds, decimal. */
  delay: string;
  batch: boolean;
}

export function serializeOperation(op: TimelockOperation): SerializedOperation {
  return {
    timelock: op.timelock,
    id: operationId(op),
    calls: op.calls.map((call) => ({ to: call.to, value: call.value.toString(), data: call.data })),
    predecessor: op.predecessor,
    salt: op.salt,
    delay: op.delay.toString(),
    batch: op.batch,
  };
}

/**
 * The operation a `schedule`/`scheduleBatch` calldata sent to `timelock` queues, or
 * undefined for other calldata.
 */
export function scheduledOperation(timelock: Address, data: Hex): TimelockOperation | undefined {
  let decoded: ReturnType<typeof decodeFunctionData<typeof timelockControllerAbi>>;
  try {
    decoded = decodeFunctionData({ abi: timelockControllerAbi, data });
  } catch {
    return undefined;
  }
  if (decoded.functionName === "schedule") {
    const [target, value, payload, predecessor, salt, delay] = decoded.args;
    return { timelock: getAddress(timelock), calls: [{ to: getAddress(target), value, data: payload }], predecessor, salt, delay, batch: false };
  }
  if (decoded.functionName === "scheduleBatch") {
    const [targets, values, payloads, predecessor, salt, delay] = decoded.args;
    if (targets.length !== values.length || targets.length !== payloads.length) return undefined;
    return {
      timelock: getAddress(timelock),
      calls: targets.map((target, i) => ({ to: getAddress(target), value: values[i]!, data: payloads[i]! })),
      predecessor,
      salt,
      delay,
      batch: true,
    };
  }
  return undefined;
}
