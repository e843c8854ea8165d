import type { Address, PublicClient } from "viem";

import type { PlannedCall } from "../manage/planned-call.js";
import { InvalidInputError } from "../util/errors.js";
import { formatDuration } from "../util/duration.js";
import { formatTimestamp } from "../util/timestamp.js";
import { OperationStateError, RouteNotAuthorizedError } from "./errors.js";
import type { LoadedOperation } from "./operation-file.js";
import { cancelCall, executeCall, ZERO_BYTES32 } from "./timelock-operation.js";
import { hasTimelockRole, readOperationStatus, type OperationStatus } from "./timelock-state.js";

/**
 * The two things one can do to a scheduled operation, as plans for the direct or Safe
 * route: execute it once ready (EXECUTOR_ROLE, or anyone when the role is open), or
 * cancel it while pending (CANCELLER_ROLE).
 */
export type TimelockAction = "execute" | "cancel";

export interface TimelockActionPlan {
  status: OperationStatus;
  /** Undefined when there is nothing to do (already executed). */
  call?: PlannedCall;
  /** Why nothing is sent, when `call` is undefined. */
  unchanged?: string;
}

/** Decides what `timelock-execute`/`timelock-cancel` sends, from the operation's state. */
export async function planTimelockAction(client: PublicClient, loaded: LoadedOperation, action: TimelockAction): Promise<TimelockActionPlan> {
  const { operation, id } = loaded;
  const status = await readOperationStatus(client, operation.timelock, id);
  if (action === "execute") {
    if (status.state === "done") return { status, unchanged: `operation ${id} was already executed` };
    if (status.state === "unset") throw new OperationStateError(`operation ${id} is not scheduled on timelock ${operation.timelock} (never scheduled, or cancelled)`);
    if (status.state === "waiting") {
      throw new OperationStateError(
        `operation ${id} is not ready: it becomes executable at ${formatTimestamp(status.readyAt)} (in ${formatDuration(status.readyAt - status.now)}); the timelock's delay has not passed`,
      );
    }
    if (operation.predecessor !== ZERO_BYTES32) {
      const predecessor = await readOperationStatus(client, operation.timelock, operation.predecessor);
      if (predecessor.state !== "done") {
        throw new OperationStateError(`operation ${id} runs only after its predecessor ${operation.predecessor}, which is ${predecessor.state === "unset" ? "not scheduled" : `not executed yet (${predecessor.state})`}: execute that first`);
      }
    }
    return { status, call: executeCall(operation, loaded.summaries) };
  }
  if (status.state === "done") throw new OperationStateError(`operation ${id} was already executed; it cannot be cancelled`);
  if (status.state === "unset") throw new OperationStateError(`operation ${id} is not pending on timelock ${operation.timelock} (never scheduled, or already cancelled)`);
  return { status, call: cancelCall(operation, loaded.summaries) };
}

/** Throws unless `executor` holds the role the action needs on the timelock. */
export async function assertTimelockRole(client: PublicClient, timelock: Address, action: TimelockAction, executor: Address, label: string): Promise<void> {
  const role = action === "execute" ? "executor" : "canceller";
  if (await hasTimelockRole(client, timelock, role, executor)) return;
  throw new RouteNotAuthorizedError(`${label} ${executor} has no ${role === "executor" ? "EXECUTOR_ROLE" : "CANCELLER_ROLE"} on timelock ${timelock}`, { missingTimelockRole: role });
}

/** Refuses the timelock routes for tasks that act on a timelock themselves. */
export function assertDirectOrSafe(via: string | undefined, task: string): void {
  const normalised = (via ?? "direct").trim().toLowerCase();
  if (normalised !== "direct" && normalised !== "safe") {
    throw new InvalidInputError(`via: ${task} runs directly or through a Safe (direct or safe), not ${JSON.stringify(via)}`, { field: "via" });
  }
}

/** Who can execute a timelock's operations: `signer` (or anyone, when the role is open), the Safe, or someone else. */
export type TimelockExecutor = { kind: "signer" } | { kind: "safe"; safe: Address } | { kind: "other" };

/**
 * Who executes an operation once ready, for next steps: `signer` directly when the executor
 * role is open or held by it, else `safe` when that Safe holds the role.
 */
export async function timelockExecutorOf(client: PublicClient, timelock: Address, options: { signer: Address; safe?: Address }): Promise<TimelockExecutor> {
  if (await hasTimelockRole(client, timelock, "executor", options.signer)) return { kind: "signer" };
  if (options.safe !== undefined && (await hasTimelockRole(client, timelock, "executor", options.safe))) return { kind: "safe", safe: options.safe };
  return { kind: "other" };
}
