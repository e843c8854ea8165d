import { getAddress, keccak256, zeroAddress, type Address, type Hex, type PublicClient } from "viem";

import { dstackKmsAbi } from "../abi/dstack-kms.js";
import { assertAppContract } from "../chain/contract-checks.js";
import { InvalidInputError } from "../util/errors.js";
import { plannedCall, type ChangePlan } from "./planned-call.js";
import { assertTarget } from "./targets.js";

const unchangedPlan = (target: Address, item: string, reason: string): ChangePlan => ({
  target,
  calls: [],
  unchanged: [{ item, reason }],
  sender: { role: "owner" },
});

/** Plans registering an app with the KMS (permissionless); the app must be an app contract. */
export async function planRegisterApp(client: PublicClient, kms: Address, app: Address): Promise<ChangePlan> {
  await assertTarget(client, "kms", kms);
  await assertAppContract(client, app);
  const registered = (await client.readContract({ address: kms, abi: dstackKmsAbi, functionName: "registeredApps", args: [app] })) as boolean;
  if (registered) return { ...unchangedPlan(kms, app, "app already registered"), sender: { role: "anyone" } };
  return {
    target: kms,
    calls: [plannedCall(kms, dstackKmsAbi, "registerApp", [app], `register app ${getAddress(app)} with KMS ${kms}`)],
    unchanged: [],
    sender: { role: "anyone" },
  };
}

/** Plans setting the DstackApp implementation used by the KMS factory. */
export async function planSetAppImplementation(client: PublicClient, kms: Address, implementation: Address): Promise<ChangePlan> {
  await assertTarget(client, "kms", kms);
  if (getAddress(implementation) === zeroAddress) throw new InvalidInputError("implementation: must not be the zero address", { field: "implementation" });
  const code = await client.getCode({ address: implementation });
  if (code === undefined || code === "0x") throw new InvalidInputError(`implementation: no contract at ${implementation}`, { field: "implementation" });
  const current = (await client.readContract({ address: kms, abi: dstackKmsAbi, functionName: "appImplementation" })) as Address;
  if (getAddress(current) === getAddress(implementation)) return unchangedPlan(kms, "appImplementation", `already ${current}`);
  return {
    target: kms,
    calls: [plannedCall(kms, dstackKmsAbi, "setAppImplementation", [implementation], `set the app implementation of KMS ${kms} to ${getAddress(implementation)}`)],
    unchanged: [],
    sender: { role: "owner" },
  };
}

/** Plans setting the gateway app id. */
export async function planSetGatewayAppId(client: PublicClient, kms: Address, gatewayAppId: string): Promise<ChangePlan> {
  await assertTarget(client, "kms", kms);
  const current = (await client.readContract({ address: kms, abi: dstackKmsAbi, functionName: "gatewayAppId" })) as string;
  if (current === gatewayAppId) return unchangedPlan(kms, "gatewayAppId", `already ${JSON.stringify(gatewayAppId)}`);
  return {
    target: kms,
    calls: [plannedCall(kms, dstackKmsAbi, "setGatewayAppId", [gatewayAppId], `set the gateway app id of KMS ${kms} to ${JSON.stringify(gatewayAppId)}`)],
    unchanged: [],
    sender: { role: "owner" },
  };
}

export interface KmsInfoInput {
  k256Pubkey: Hex;
  caPubkey: Hex;
  quote: Hex;
  eventlog: Hex;
}

/** Plans replacing the KMS info (keys, quote, event log). */
export async function planSetKmsInfo(client: PublicClient, kms: Address, info: KmsInfoInput): Promise<ChangePlan> {
  await assertTarget(client, "kms", kms);
  const current = (await client.readContract({ address: kms, abi: dstackKmsAbi, functionName: "kmsInfo" })) as readonly Hex[];
  const wanted = [info.k256Pubkey, info.caPubkey, info.quote, info.eventlog].map((value) => value.toLowerCase());
  if (current.every((value, i) => value.toLowerCase() === wanted[i])) return unchangedPlan(kms, "kmsInfo", "KMS info already has these values");
  return {
    target: kms,
    calls: [
      plannedCall(kms, dstackKmsAbi, "setKmsInfo", [info], `set the KMS info of ${kms} (k256 key ${info.k256Pubkey.slice(0, 18)}…, quote keccak ${keccak256(info.quote).slice(0, 18)}…)`),
    ],
    unchanged: [],
    sender: { role: "owner" },
  };
}
