import { randomBytes } from "node:crypto";

import { toHex, type Address, type Hex, type PublicClient } from "viem";

import type { PlannedCall } from "../manage/planned-call.js";
import { InvalidInputError } from "../util/errors.js";
import { formatDuration } from "../util/duration.js";
import { OperationExistsError, RouteNotAuthorizedError } from "./errors.js";
import type { TimelockRouteOptions } from "./route.js";
import { simulateAs } from "./simulate.js";
import { operationId, scheduleCall, timelockOperation, ZERO_BYTES32, type TimelockOperation } from "./timelock-operation.js";
import { hasTimelockRole, readOperationStatus, readTimelockDelay } from "./timelock-state.js";

export interface PreparedTimelockOperation {
  operation: TimelockOperation;
  id: Hex;
  minDelay: bigint;
  /** The `schedule`/`scheduleBatch` call the proposer sends (directly, or in a Safe proposal). */
  schedule: PlannedCall;
}

/**
 * Wraps a plan's calls into a timelock operation scheduled by `proposer` (the signer on
 * the `timelock` route, the Safe on the `safe,timelock` route). Checked before anything is signed
 * or sent: the address is a TimelockController, the delay is at least its minimum, the
 * proposer holds PROPOSER_ROLE, the operation does not exist yet, the predecessor exists,
 * and every call succeeds when simulated as the timelock.
 */
export async function prepareTimelockOperation(
  client: PublicClient,
  proposer: Address,
  proposerLabel: string,
  calls: readonly PlannedCall[],
  options: TimelockRouteOptions,
): Promise<PreparedTimelockOperation> {
  const timelock = options.timelock;
  const minDelay = await readTimelockDelay(client, timelock);
  const delay = options.delay ?? minDelay;
  if (delay < minDelay) {
    throw new InvalidInputError(`delay: ${formatDuration(delay)} is below the minimum delay of timelock ${timelock} (${formatDuration(minDelay)})`, { field: "delay" });
  }
  if (!(await hasTimelockRole(client, timelock, "proposer", proposer))) {
    throw new RouteNotAuthorizedError(`${proposerLabel} is not a proposer of timelock ${timelock} (no PROPOSER_ROLE): it cannot schedule operations on it`);
  }
  if (options.predecessor !== ZERO_BYTES32) {
    const predecessor = await readOperationStatus(client, timelock, options.predecessor);
    if (predecessor.state === "unset") throw new InvalidInputError(`predecessor: operation ${options.predecessor} is not scheduled on timelock ${timelock}`, { field: "predecessor" });
  }
  const salt = options.salt ?? toHex(randomBytes(32));
  const operation = timelockOperation(timelock, calls, { predecessor: options.predecessor, salt, delay });
  const id = operationId(operation);
  const status = await readOperationStatus(client, timelock, id);
  if (status.state !== "unset") {
    throw new OperationExistsError(`timelock operation ${id} already exists (${status.state})`);
  }
  for (const call of calls) await simulateAs(client, timelock, call, `timelock ${timelock}`);
  return { operation, id, minDelay, schedule: scheduleCall(operation, calls.map((call) => call.summary)) };
}
