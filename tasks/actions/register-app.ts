import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { dstackKmsAbi } from "../../src/abi/dstack-kms.js";
import { planRegisterApp } from "../../src/manage/kms-settings-plan.js";
import type { SendArgs } from "../lib/allowlist-action.js";
import { parseAddress } from "../lib/args.js";
import { runPlanAction } from "../lib/plan-action.js";

export default async function (args: SendArgs & { kms: string | undefined; app: string | undefined }, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runPlanAction(args, hre, {
    validate: () => ({ kms: parseAddress(args.kms, "--kms"), app: parseAddress(args.app, "--app") }),
    plan: (client, { kms, app }) => planRegisterApp(client, kms, app),
    confirm: async (client, { kms, app }) => {
      const registered = await client.readContract({ address: kms, abi: dstackKmsAbi, functionName: "registeredApps", args: [app] });
      return { ok: registered, detail: registered ? `app ${app} is registered` : `app ${app} is not registered` };
    },
  });
}
