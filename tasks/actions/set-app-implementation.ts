import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { getAddress } from "viem";

import { dstackKmsAbi } from "../../src/abi/dstack-kms.js";
import { planSetAppImplementation } from "../../src/manage/kms-settings-plan.js";
import type { SendArgs } from "../lib/allowlist-action.js";
import { parseAddress } from "../lib/args.js";
import { runPlanAction } from "../lib/plan-action.js";

export default async function (args: SendArgs & { kms: string | undefined; implementation: string | undefined }, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runPlanAction(args, hre, {
    validate: () => ({ kms: parseAddress(args.kms, "--kms"), implementation: parseAddress(args.implementation, "--implementation") }),
    plan: (client, { kms, implementation }) => planSetAppImplementation(client, kms, implementation),
    confirm: async (client, { kms, implementation }) => {
      const now = await client.readContract({ address: kms, abi: dstackKmsAbi, functionName: "appImplementation" });
      return { ok: getAddress(now) === implementation, detail: `app implementation is ${now}` };
    },
  });
}
