import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import type { PublicClient } from "viem";

import { parseRoute } from "./route-args.js";
import type { ChangePlan } from "../../src/manage/planned-call.js";
import type { SendArgs } from "./allowlist-action.js";
import { applyPlan } from "./apply-plan.js";
import { connectSigner } from "./connection.js";
import { runCommand } from "./output.js";

/**
 * Runs a state-changing task: `validate` parses every flag (before any chain access, as
 * are the route options), `plan` reads the chain and decides the calls, `confirm`
 * re-reads the state after sending. The route (`--via`) decides who makes the calls.
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
    const route = parseRoute(args);
    const { publicClient, signer, networkName } = await connectSigner(hre, args.from);
    const plan = await steps.plan(publicClient, input);
    return applyPlan(publicClient, signer, plan, { dryRun: args.dryRun, route, networkName, confirm: () => steps.confirm(publicClient, input) });
  });
}
