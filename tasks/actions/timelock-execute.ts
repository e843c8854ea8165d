import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { runTimelockAction, type TimelockActionArgs } from "../lib/timelock-action.js";

/** Executes a ready timelock operation: directly (an executor, or anyone when the role is open) or --via safe. */
export default async function (args: TimelockActionArgs, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTimelockAction(args, hre, "execute");
}
