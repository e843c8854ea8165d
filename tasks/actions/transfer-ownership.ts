import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { getAddress, type Address } from "viem";

import { dstackAppAbi } from "../../src/abi/dstack-app.js";
import { planTransferOwnership } from "../../src/manage/ownership-plan.js";
import type { SendArgs } from "../lib/allowlist-action.js";
import { parseAddress } from "../lib/args.js";
import { runPlanAction } from "../lib/plan-action.js";
import { ownershipTarget } from "../lib/ownership-target.js";

export default async function (args: SendArgs & { app: string | undefined; kms: string | undefined; to: string | undefined; toEoa: boolean }, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runPlanAction(args, hre, {
    validate: () => ({ ...ownershipTarget(args), to: parseAddress(args.to, "--to") }),
    plan: (client, { kind, target, to }) => planTransferOwnership(client, kind, target, to, { allowEoa: args.toEoa }),
    confirm: async (client, { target, to }) => {
      const pending = (await client.readContract({ address: target, abi: dstackAppAbi, functionName: "pendingOwner" })) as Address;
      return { ok: getAddress(pending) === to, detail: `pending owner is ${pending}; it must now run accept-ownership` };
    },
  });
}
