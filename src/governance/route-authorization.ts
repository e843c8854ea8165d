import { getAddress, type Address, type PublicClient } from "viem";

import { dstackAppAbi } from "../abi/dstack-app.js";
import { toRpcError } from "../chain/errors.js";
import type { ChangePlan } from "../manage/planned-call.js";
import { formatDuration } from "../util/duration.js";
import { RouteNotAuthorizedError } from "./errors.js";
import { classifyController } from "./control.js";
import type { Route } from "./route.js";
import { readSafe } from "./safe-state.js";
import { readTimelockDelay } from "./timelock-state.js";

/**
 * The address that must make a plan's calls at the target: its owner, its pending owner,
 * or anyone (undefined). Read before anything is sent.
 */
export async function requiredSender(client: PublicClient, target: Address, sender: ChangePlan["sender"]): Promise<{ address: Address; role: string } | undefined> {
  if (sender.role === "anyone") return undefined;
  if (sender.role === "pendingOwner" && sender.address !== undefined) return { address: getAddress(sender.address), role: "pending owner" };
  const owner = await client.readContract({ address: target, abi: dstackAppAbi, functionName: "owner" }).catch((error: unknown) => {
    throw toRpcError(client, "eth_call", error);
  });
  return { address: getAddress(owner as Address), role: "owner" };
}

/**
 * Checks that the route's executor is who the plan needs (the owner, or the pending owner
 * for accept-ownership): the Safe on the `safe` route, the timelock on the timelock routes.
 * When it is not, the error names who is, and carries what it is so that a front end can
 * suggest the route that reaches it (an app owned by a Safe: propose through that Safe).
 *
 * On the direct route only contract owners that are a Safe or a timelock are handled
 * here; every other mismatch is left to the direct pre-flight (`NotOwnerError`).
 */
export async function assertRouteAuthorized(client: PublicClient, plan: ChangePlan, route: Route, signer: Address): Promise<void> {
  if (plan.calls.length === 0) return;
  await assertRouteSender(client, plan.target, plan.sender, route, signer);
}

/** `assertRouteAuthorized` for a change that is not planned yet (e.g. before deploying an implementation). */
export async function assertRouteSender(client: PublicClient, target: Address, sender: ChangePlan["sender"], route: Route, signer: Address): Promise<void> {
  const required = await requiredSender(client, target, sender);
  if (required === undefined) return;
  const executor = route.kind === "direct" ? getAddress(signer) : route.kind === "safe" ? route.safe.safe : route.timelock.timelock;
  if (required.address === executor) return;
  const kind = await classifyController(client, required.address);
  // Direct route, owner an EOA or an unknown contract: the direct pre-flight names the owner.
  if (route.kind === "direct" && (kind === "eoa" || kind === "contract")) return;
  const who = await describeController(client, required.address, kind);
  const subject = route.kind === "direct" ? `signer ${executor}` : `${route.kind === "safe" ? "Safe" : "timelock"} ${executor}`;
  throw new RouteNotAuthorizedError(`${subject} is not the ${required.role} of ${target}; the ${required.role} is ${who}`, {
    route: route.kind,
    required: { address: required.address, kind },
  });
}

async function describeController(client: PublicClient, address: Address, kind: string): Promise<string> {
  if (kind === "safe") {
    const safe = await readSafe(client, address);
    return `${address}, a Safe (${safe.threshold} of ${safe.owners.length} owners)`;
  }
  if (kind === "timelock") return `${address}, a timelock (minimum delay ${formatDuration(await readTimelockDelay(client, address))})`;
  if (kind === "eoa") return `${address} (an EOA)`;
  return `${address} (a contract)`;
}

