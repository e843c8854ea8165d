import { getAddress, type Address, type Hex, type PublicClient } from "viem";

import { dstackKmsAbi } from "../abi/dstack-kms.js";
import { readKmsInfo } from "../chain/app-state.js";
import { InvalidInputError } from "../util/errors.js";
import { plannedCall, type ChangePlan } from "./planned-call.js";
import { assertTarget } from "./targets.js";
import { assertUupsImplementation } from "./uups-implementation.js";

/** The implementation address in a KMS proxy's ERC-1967 slot. */
export async function readKmsImplementation(client: PublicClient, kms: Address): Promise<Address> {
  const { implementation } = await readKmsInfo(client, kms);
  if (implementation === null) throw new InvalidInputError(`kms: ${kms} has no ERC-1967 implementation (not a proxy)`, { field: "kms" });
  return implementation;
}

/**
 * Plans `upgradeToAndCall` of a KMS proxy (owner only; a KMS cannot disable upgrades).
 * The new implementation must be a UUPS implementation; nothing to send when the proxy
 * already points at it.
 */
export async function planUpgradeKms(client: PublicClient, kms: Address, newImplementation: Address, callData: Hex = "0x"): Promise<ChangePlan> {
  await assertTarget(client, "kms", kms);
  await assertUupsImplementation(client, newImplementation);
  const current = await readKmsImplementation(client, kms);
  if (current === getAddress(newImplementation)) {
    return { target: kms, calls: [], unchanged: [{ item: "implementation", reason: `already at ${current}` }], sender: { role: "owner" } };
  }
  return {
    target: kms,
    calls: [plannedCall(kms, dstackKmsAbi, "upgradeToAndCall", [newImplementation, callData], `upgrade KMS ${kms} from ${current} to ${getAddress(newImplementation)}`)],
    unchanged: [],
    sender: { role: "owner" },
  };
}
