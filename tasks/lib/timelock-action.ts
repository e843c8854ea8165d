import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { getAddress } from "viem";

import { formatActions } from "../../src/governance/decode.js";
import { decodeOperation } from "../../src/governance/operation-file.js";
import { loadOperation } from "../../src/governance/operation-source.js";
import { operationStatusLine } from "../../src/governance/report.js";
import { parseRoute } from "./route-args.js";
import { assertDirectOrSafe, assertTimelockRole, planTimelockAction, type TimelockAction } from "../../src/governance/timelock-action.js";
import { readOperationStatus } from "../../src/governance/timelock-state.js";
import type { ChangePlan } from "../../src/manage/planned-call.js";
import { InvalidInputError } from "../../src/util/errors.js";
import { parseBytes32 } from "../../src/util/hex.js";
import { applyPlan } from "./apply-plan.js";
import { parseAddress } from "./args.js";
import type { SendingDirectOrSafeArgs } from "./builders.js";
import { connectSigner } from "./connection.js";
import { runCommand } from "./output.js";
import { operationSourceOf } from "./operation-args.js";

export interface TimelockActionArgs extends SendingDirectOrSafeArgs {
  operation: string | undefined;
  timelock: string | undefined;
  id: string | undefined;
  fromBlock: string | undefined;
}

/**
 * `timelock-execute` and `timelock-cancel`: load the operation (file or events; the
 * timelock must compute the same id), show what it does, check its state and the role of
 * whoever sends (the signer, or the Safe with --via safe), then send or propose.
 */
export async function runTimelockAction(args: TimelockActionArgs, hre: HardhatRuntimeEnvironment, action: TimelockAction): Promise<void> {
  await runCommand(args.json, async () => {
    const task = `timelock-${action}`;
    assertDirectOrSafe(args.via, task);
    const route = parseRoute({ ...args, timelock: undefined });
    const timelock = args.timelock === undefined ? undefined : parseAddress(args.timelock, "--timelock");
    const id = args.id === undefined ? undefined : parseBytes32(args.id, "--id");
    if (args.fromBlock !== undefined && !/^\d+$/.test(args.fromBlock.trim())) throw new InvalidInputError(`--from-block: expected a block number, got ${JSON.stringify(args.fromBlock)}`);
    const { publicClient, signer, networkName } = await connectSigner(hre, args.from);
    const loaded = await loadOperation(publicClient, operationSourceOf({
      ...(args.operation === undefined ? {} : { operation: args.operation }),
      ...(timelock === undefined ? {} : { timelock }),
      ...(id === undefined ? {} : { id }),
      ...(args.fromBlock === undefined ? {} : { fromBlock: BigInt(args.fromBlock.trim()) }),
    }));
    const decided = await planTimelockAction(publicClient, loaded, action);
    const op = loaded.operation;
    const shown = [
      `timelock ${op.timelock}, operation ${loaded.id} (from ${loaded.source}): ${operationStatusLine(decided.status)}`,
      "what it does (decoded from the calls):",
      ...formatActions(decodeOperation(op)),
    ];
    const plan: ChangePlan = {
      target: op.timelock,
      calls: decided.call === undefined ? [] : [decided.call],
      unchanged: decided.unchanged === undefined ? [] : [{ item: loaded.id, reason: decided.unchanged }],
      sender: { role: "anyone" },
    };
    const result = await applyPlan(publicClient, signer, plan, {
      dryRun: args.dryRun,
      route,
      networkName,
      authorize: (executor) => assertTimelockRole(publicClient, op.timelock, action, executor, route.kind === "safe" ? "Safe" : "signer"),
      confirm: async () => {
        const after = await readOperationStatus(publicClient, op.timelock, loaded.id);
        const wanted = action === "execute" ? "done" : "unset";
        return { ok: after.state === wanted, detail: `operation ${loaded.id}: ${operationStatusLine(after)}` };
      },
    });
    return {
      ...result,
      data: { timelock: op.timelock, operationId: loaded.id, state: decided.status.state, readyAt: decided.status.readyAt, signer: getAddress(signer.account.address), ...result.data },
      lines: [...shown, ...result.lines],
    };
  });
}
