import { getAddress, type Address, type Hex, type PublicClient } from "viem";

import { dstackAppAbi } from "../abi/dstack-app.js";
import { readAppInfo } from "../chain/app-state.js";
import { InvalidInputError } from "../util/errors.js";
import { plannedCall, type ChangePlan } from "./planned-call.js";
import { assertTarget } from "./targets.js";
import { assertUupsImplementation } from "./uups-implementation.js";


export type AppFlag = "allowAnyDevice" | "requireTcbUpToDate";

const FLAG_SETTERS: Record<AppFlag, string> = {
  allowAnyDevice: "setAllowAnyDevice",
  requireTcbUpToDate: "setRequireTcbUpToDate",
};

/** Plans switching a flag of the app; nothing to send when it already has that value. */
export async function planAppFlag(client: PublicClient, app: Address, flag: AppFlag, value: boolean): Promise<ChangePlan> {
  await assertTarget(client, "app", app);
  const current = (await client.readContract({ address: app, abi: dstackAppAbi, functionName: flag })) as boolean;
  if (current === value) {
    return { target: app, calls: [], unchanged: [{ item: flag, reason: `${flag} is already ${value}` }], sender: { role: "owner" } };
  }
  return {
    target: app,
    calls: [plannedCall(app, dstackAppAbi, FLAG_SETTERS[flag], [value], `set ${flag} to ${value} on app ${app}`)],
    unchanged: [],
    sender: { role: "owner" },
  };
}

/**
 * Whether upgrades are disabled (storage slot 1, byte 0, so it also works on upstream
 * contracts without a getter). Unknown layouts are an error, not "enabled".
 */
export async function readUpgradesDisabled(client: PublicClient, app: Address): Promise<boolean> {
  const info = await readAppInfo(client, app);
  if (info.upgradesDisabled === null) {
    throw new InvalidInputError(`app: cannot tell whether upgrades of ${app} are disabled`, { details: info.warnings.join("; "), field: "app" });
  }
  return info.upgradesDisabled;
}

/** Plans the irreversible `disableUpgrades()`; the caller must have the user's explicit confirmation. */
export async function planDisableUpgrades(client: PublicClient, app: Address): Promise<ChangePlan> {
  await assertTarget(client, "app", app);
  if (await readUpgradesDisabled(client, app)) {
    return { target: app, calls: [], unchanged: [{ item: "upgrades", reason: "upgrades are already disabled" }], sender: { role: "owner" } };
  }
  return {
    target: app,
    calls: [plannedCall(app, dstackAppAbi, "disableUpgrades", [], `disable upgrades of app ${app} FOR EVER`)],
    unchanged: [],
    sender: { role: "owner" },
  };
}

/** The implementation address in a proxy's ERC-1967 slot. */
export async function readImplementation(client: PublicClient, proxy: Address): Promise<Address> {
  const { implementation } = await readAppInfo(client, proxy);
  if (implementation === null) throw new InvalidInputError(`app: ${proxy} has no ERC-1967 implementation (not a proxy)`, { field: "app" });
  return implementation;
}

/** Throws unless `app` is an app contract whose upgrades are not disabled. */
export async function assertUpgradable(client: PublicClient, app: Address): Promise<void> {
  await assertTarget(client, "app", app);
  if (await readUpgradesDisabled(client, app)) {
    throw new InvalidInputError(`app: upgrades of ${app} are disabled for ever; it cannot be upgraded`, { field: "app" });
  }
}

/**
 * Plans `upgradeToAndCall` of an app proxy. The new implementation must have code and be
 * a UUPS implementation (its `proxiableUUID()` is the ERC-1967 slot), and upgrades must
 * not be disabled: otherwise the transaction would only revert on chain.
 */
export async function planUpgradeApp(
  client: PublicClient,
  app: Address,
  newImplementation: Address,
  callData: Hex = "0x",
): Promise<ChangePlan> {
  await assertUpgradable(client, app);
  await assertUupsImplementation(client, newImplementation);
  const current = await readImplementation(client, app);
  if (current === getAddress(newImplementation)) {
    return { target: app, calls: [], unchanged: [{ item: "implementation", reason: `already at ${current}` }], sender: { role: "owner" } };
  }
  return {
    target: app,
    calls: [plannedCall(app, dstackAppAbi, "upgradeToAndCall", [newImplementation, callData], `upgrade app ${app} from ${current} to ${getAddress(newImplementation)}`)],
    unchanged: [],
    sender: { role: "owner" },
  };
}
