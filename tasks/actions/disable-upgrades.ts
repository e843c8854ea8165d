import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { planDisableUpgrades, readUpgradesDisabled } from "../../src/manage/app-settings-plan.js";
import { InvalidInputError } from "../../src/util/errors.js";
import type { SendArgs } from "../lib/allowlist-action.js";
import { parseAddress } from "../lib/args.js";
import { runPlanAction } from "../lib/plan-action.js";

export default async function (args: SendArgs & { app: string | undefined; yes: boolean }, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runPlanAction(args, hre, {
    validate: () => {
      const app = parseAddress(args.app, "--app");
      // Irreversible: a dry run may go ahead, a real send only with explicit confirmation.
      if (!args.yes && !args.dryRun) {
        throw new InvalidInputError(`disable-upgrades is irreversible: no one can ever upgrade ${app} again; re-run with --yes to confirm`);
      }
      return app;
    },
    plan: (client, app) => planDisableUpgrades(client, app),
    confirm: async (client, app) => {
      const disabled = await readUpgradesDisabled(client, app);
      return { ok: disabled, detail: disabled ? "upgrades are disabled for ever" : "upgrades are still enabled" };
    },
  });
}
