import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { APP_UPGRADE, runUpgrade, type UpgradeArgs } from "../lib/upgrade-action.js";

interface Args extends UpgradeArgs {
  app: string | undefined;
}

export default async function (args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runUpgrade(APP_UPGRADE, args.app, args, hre);
}
