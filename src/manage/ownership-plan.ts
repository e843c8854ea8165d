import { getAddress, zeroAddress, type Address, type PublicClient } from "viem";

import { dstackAppAbi } from "../abi/dstack-app.js";
import { InvalidInputError } from "../util/errors.js";
import { OwnerWithoutCodeError } from "./errors.js";
import { plannedCall, type ChangePlan } from "./planned-call.js";
import { assertTarget, type TargetKind } from "./targets.js";

/**
 * Plans the first step of a two-step ownership transfer. An address without code is
 * refused unless `allowEoa`: production apps are owned by a Safe or a timelock, and a
 * typo'd EOA would lock the app the moment it accepted.
 */
export async function planTransferOwnership(
  client: PublicClient,
  kind: TargetKind,
  target: Address,
  newOwner: Address,
  options: { allowEoa: boolean },
): Promise<ChangePlan> {
  await assertTarget(client, kind, target);
  if (getAddress(newOwner) === zeroAddress) {
    throw new InvalidInputError("to: the zero address cannot own a contract (renouncing is not offered here)", { field: "to" });
  }
  const code = await client.getCode({ address: newOwner });
  if ((code === undefined || code === "0x") && !options.allowEoa) {
    throw new OwnerWithoutCodeError(newOwner);
  }
  const [owner, pending] = await Promise.all([
    client.readContract({ address: target, abi: dstackAppAbi, functionName: "owner" }) as Promise<Address>,
    client.readContract({ address: target, abi: dstackAppAbi, functionName: "pendingOwner" }) as Promise<Address>,
  ]);
  if (getAddress(owner) === getAddress(newOwner)) {
    return { target, calls: [], unchanged: [{ item: "owner", reason: `${newOwner} already owns ${target}` }], sender: { role: "owner" } };
  }
  if (getAddress(pending) === getAddress(newOwner)) {
    return { target, calls: [], unchanged: [{ item: "pendingOwner", reason: `${newOwner} is already the pending owner; it must call accept-ownership` }], sender: { role: "owner" } };
  }
  return {
    target,
    calls: [plannedCall(target, dstackAppAbi, "transferOwnership", [newOwner], `propose ${getAddress(newOwner)} as the new owner of ${target} (it must accept)`)],
    unchanged: [],
    sender: { role: "owner" },
  };
}

/** Plans the second step: the pending owner accepts. */
export async function planAcceptOwnership(client: PublicClient, kind: TargetKind, target: Address): Promise<ChangePlan> {
  await assertTarget(client, kind, target);
  const pending = (await client.readContract({ address: target, abi: dstackAppAbi, functionName: "pendingOwner" })) as Address;
  if (getAddress(pending) === zeroAddress) {
    throw new InvalidInputError(`${kind}: ${target} has no pending owner; run transfer-ownership first`, { field: kind });
  }
  return {
    target,
    calls: [plannedCall(target, dstackAppAbi, "acceptOwnership", [], `accept ownership of ${target} as ${getAddress(pending)}`)],
    unchanged: [],
    sender: { role: "pendingOwner", address: getAddress(pending) },
  };
}
