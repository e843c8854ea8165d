import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { dstackAppAbi } from "../../src/abi/dstack-app.js";
import { planAppFlag } from "../../src/manage/app-settings-plan.js";
import type { SendArgs } from "../lib/allowlist-action.js";
import { parseAddress, parseBoolean } from "../lib/args.js";
import { runPlanAction } from "../lib/plan-action.js";

export default async function (args: SendArgs & { app: string | undefined; value: string | undefined }, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runPlanAction(args, hre, {
    validate: () => ({ app: parseAddress(args.app, "--app"), value: parseBoolean(args.value, "--value") }),
    plan: (client, { app, value }) => planAppFlag(client, app, "allowAnyDevice", value),
    confirm: async (client, { app, value }) => {
      const now = await client.readContract({ address: app, abi: dstackAppAbi, functionName: "allowAnyDevice" });
      return { ok: now === value, detail: `allowAnyDevice is ${now}` };
    },
  });
}
