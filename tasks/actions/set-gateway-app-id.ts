import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { dstackKmsAbi } from "../../src/abi/dstack-kms.js";
import { planSetGatewayAppId } from "../../src/manage/kms-settings-plan.js";
import type { SendArgs } from "../lib/allowlist-action.js";
import { parseAddress, requireOption } from "../lib/args.js";
import { runPlanAction } from "../lib/plan-action.js";

export default async function (args: SendArgs & { kms: string | undefined; gatewayAppId: string | undefined }, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runPlanAction(args, hre, {
    validate: () => ({ kms: parseAddress(args.kms, "--kms"), gatewayAppId: requireOption(args.gatewayAppId, "--gateway-app-id", "the gateway's app id") }),
    plan: (client, { kms, gatewayAppId }) => planSetGatewayAppId(client, kms, gatewayAppId),
    confirm: async (client, { kms, gatewayAppId }) => {
      const now = await client.readContract({ address: kms, abi: dstackKmsAbi, functionName: "gatewayAppId" });
      return { ok: now === gatewayAppId, detail: `gateway app id is ${JSON.stringify(now)}` };
    },
  });
}
