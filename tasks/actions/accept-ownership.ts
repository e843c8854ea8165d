import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { getAddress, type Address } from "viem";

import { dstackAppAbi } from "../../src/abi/dstack-app.js";
import { planAcceptOwnership } from "../../src/manage/ownership-plan.js";
import type { SendArgs } from "../lib/allowlist-action.js";
import { runPlanAction } from "../lib/plan-action.js";
import { ownershipTarget } from "../lib/ownership-target.js";

export default async function (args: SendArgs & { app: string | undefined; kms: string | undefined }, hre: HardhatRuntimeEnvironment): Promise<void> {
  let expectedOwner: Address | undefined;
  await runPlanAction(args, hre, {
    validate: () => ownershipTarget(args),
    plan: async (client, { kind, target }) => {
      const plan = await planAcceptOwnership(client, kind, target);
      expectedOwner = plan.sender.address;
      return plan;
    },
    confirm: async (client, { target }) => {
      const owner = (await client.readContract({ address: target, abi: dstackAppAbi, functionName: "owner" })) as Address;
      return { ok: getAddress(owner) === expectedOwner, detail: `owner is ${owner}` };
    },
  });
}
