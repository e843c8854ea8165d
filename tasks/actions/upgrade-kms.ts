import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { KMS_UPGRADE, runUpgrade, type UpgradeArgs } from "../lib/upgrade-action.js";

interface Args extends UpgradeArgs {
  kms: string | undefined;
}

export default async function (args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runUpgrade(KMS_UPGRADE, args.kms, args, hre);
}
