import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import type { PublicClient } from "viem";

import type { ChangePlan } from "../../src/manage/planned-call.js";
import type { SendArgs } from "./allowlist-action.js";
import { applyPlan } from "./apply-plan.js";
import { connectSigner } from "./connection.js";
import { runCommand } from "./output.js";

/**
 * Runs a state-changing task: `validate` parses every flag (before any chain access),
 * `plan` reads the chain and decides the calls, `confirm` re-reads the state after sending.
 */
export async function runPlanAction<V>(
  args: SendArgs,
  hre: HardhatRuntimeEnvironment,
  steps: {
    validate: () => V | Promise<V>;
    plan: (client: PublicClient, input: V) => Promise<ChangePlan>;
    confirm: (client: PublicClient, input: V) => Promise<{ ok: boolean; detail: string }>;
  },
): Promise<void> {
  await runCommand(args.json, async () => {
    const input = await steps.validate();
    const { publicClient, signer } = await connectSigner(hre, args.from);
    const plan = await steps.plan(publicClient, input);
    return applyPlan(publicClient, signer, plan, { dryRun: args.dryRun, confirm: () => steps.confirm(publicClient, input) });
  });
}
