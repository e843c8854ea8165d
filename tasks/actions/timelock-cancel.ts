import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { runTimelockAction, type TimelockActionArgs } from "../lib/timelock-action.js";

/** Cancels a pending timelock operation (CANCELLER_ROLE): directly or --via safe. */
export default async function (args: TimelockActionArgs, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTimelockAction(args, hre, "cancel");
}
