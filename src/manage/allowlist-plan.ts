import type { Address, Hex, PublicClient } from "viem";

import { dstackAppAbi } from "../abi/dstack-app.js";
import { dstackKmsAbi } from "../abi/dstack-kms.js";
import { plannedCall, type ChangePlan, type PlannedCall } from "./planned-call.js";
import { assertTarget, type TargetKind } from "./targets.js";

/** A bytes32 allowlist of an app or KMS contract and the functions that manage it. */
interface AllowlistDescriptor {
  kind: TargetKind;
  noun: string;
  read: string;
  add: string;
  remove: string;
  /** Batch functions, present only on contracts that implement IAppAuthBatchManagement. */
  batch?: { add: string; remove: string; plural: string };
}

export const ALLOWLISTS = {
  "compose-hash": {
    kind: "app",
    noun: "compose hash",
    read: "allowedComposeHashes",
    add: "addComposeHash",
    remove: "removeComposeHash",
    batch: { add: "addComposeHashes", remove: "removeComposeHashes", plural: "compose hashes" },
  },
  device: { kind: "app", noun: "device", read: "allowedDeviceIds", add: "addDevice", remove: "removeDevice" },
  "os-image": { kind: "kms", noun: "OS image", read: "allowedOsImages", add: "addOsImageHash", remove: "removeOsImageHash" },
  "kms-mr": {
    kind: "kms",
    noun: "KMS aggregated MR",
    read: "kmsAllowedAggregatedMrs",
    add: "addKmsAggregatedMr",
    remove: "removeKmsAggregatedMr",
  },
  "kms-device": { kind: "kms", noun: "KMS device", read: "kmsAllowedDeviceIds", add: "addKmsDevice", remove: "removeKmsDevice" },
} as const satisfies Record<string, AllowlistDescriptor>;

export type AllowlistName = keyof typeof ALLOWLISTS;

/** Reads whether each value is in the allowlist (one eth_call each, in parallel). */
export async function readAllowlist(
  client: PublicClient,
  list: AllowlistName,
  target: Address,
  values: readonly Hex[],
): Promise<boolean[]> {
  const descriptor: AllowlistDescriptor = ALLOWLISTS[list];
  const abi = descriptor.kind === "app" ? dstackAppAbi : dstackKmsAbi;
  return Promise.all(
    values.map(
      (value) => client.readContract({ address: target, abi, functionName: descriptor.read, args: [value] } as never) as Promise<boolean>,
    ),
  );
}

/**
 * Plans adding values to (or removing them from) an allowlist. Values already in the
 * wanted state are left out and reported as unchanged, so a repeated command sends
 * nothing. Several values on a contract with batch support become one call.
 */
export async function planAllowlistChange(
  client: PublicClient,
  list: AllowlistName,
  target: Address,
  values: readonly Hex[],
  action: "add" | "remove",
): Promise<ChangePlan> {
  const descriptor: AllowlistDescriptor = ALLOWLISTS[list];
  const abi = descriptor.kind === "app" ? dstackAppAbi : dstackKmsAbi;
  const { batchManagement } = await assertTarget(client, descriptor.kind, target);

  const unique = [...new Set(values.map((value) => value.toLowerCase() as Hex))];
  const present = await readAllowlist(client, list, target, unique);
  const wanted = action === "add";
  const toChange = unique.filter((_, i) => present[i] !== wanted);
  const unchanged = unique
    .filter((_, i) => present[i] === wanted)
    .map((value) => ({ item: value, reason: wanted ? `${descriptor.noun} already allowed` : `${descriptor.noun} not allowed` }));

  const verb = wanted ? "allow" : "remove";
  const where = `${descriptor.kind === "app" ? "app" : "KMS"} ${target}`;
  let calls: PlannedCall[];
  if (toChange.length > 1 && descriptor.batch !== undefined && batchManagement) {
    calls = [
      plannedCall(target, abi, wanted ? descriptor.batch.add : descriptor.batch.remove, [toChange], `${verb} ${toChange.length} ${descriptor.batch.plural} on ${where}: ${toChange.join(", ")}`),
    ];
  } else {
    calls = toChange.map((value) =>
      plannedCall(target, abi, wanted ? descriptor.add : descriptor.remove, [value], `${verb} ${descriptor.noun} ${value} on ${where}`),
    );
  }
  return { target, calls, unchanged, sender: { role: "owner" } };
}
