import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { zeroAddress } from "viem";

import { formatActions } from "../../src/governance/decode.js";
import { formatDuration } from "../../src/util/duration.js";
import { decodeOperation } from "../../src/governance/operation-file.js";
import { loadOperation } from "../../src/governance/operation-source.js";
import { operationStatusLine } from "../../src/governance/report.js";
import { serializeOperation } from "../../src/governance/timelock-operation.js";
import { readOperationStatusWithPredecessor, readTimelockDelay, readTimelockHistory } from "../../src/governance/timelock-state.js";
import { InvalidInputError } from "../../src/util/errors.js";
import { parseBytes32 } from "../../src/util/hex.js";
import { parseAddress } from "../lib/args.js";
import { connectChain } from "../lib/connection.js";
import { runCommand } from "../lib/output.js";
import { operationSourceOf } from "../lib/operation-args.js";

interface Args {
  operation: string | undefined;
  timelock: string | undefined;
  id: string | undefined;
  fromBlock: string | undefined;
  json: boolean;
}

/**
 * One operation (`--operation FILE`, or `--timelock` with `--id`): its calls decoded and
 * its state — pending (ready at T), ready, done. A timelock alone (`--timelock`): its
 * minimum delay, role holders and every operation, rebuilt from its events.
 */
export default async function (args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(args.json, async () => {
    const timelock = args.timelock === undefined ? undefined : parseAddress(args.timelock, "--timelock");
    const id = args.id === undefined ? undefined : parseBytes32(args.id, "--id");
    if (args.fromBlock !== undefined && !/^\d+$/.test(args.fromBlock.trim())) throw new InvalidInputError(`--from-block: expected a block number, got ${JSON.stringify(args.fromBlock)}`);
    const fromBlock = args.fromBlock === undefined ? undefined : BigInt(args.fromBlock.trim());
    if (args.operation === undefined && timelock === undefined) throw new InvalidInputError("give --timelock ADDRESS (with --id ID for one operation) or --operation FILE");
    const { publicClient, chainId } = await connectChain(hre);

    if (args.operation !== undefined || id !== undefined) {
      const loaded = await loadOperation(publicClient, operationSourceOf({
        ...(args.operation === undefined ? {} : { operation: args.operation }),
        ...(timelock === undefined ? {} : { timelock }),
        ...(id === undefined ? {} : { id }),
        ...(fromBlock === undefined ? {} : { fromBlock }),
      }));
      const status = await readOperationStatusWithPredecessor(publicClient, loaded.operation, loaded.id);
      const actions = decodeOperation(loaded.operation);
      return {
        ok: true,
        data: { chainId, ...status, operation: serializeOperation(loaded.operation), actions, source: loaded.source },
        lines: [
          `timelock ${loaded.operation.timelock}, operation ${loaded.id} (from ${loaded.source})`,
          `  ${operationStatusLine(status)}`,
          `  delay ${formatDuration(loaded.operation.delay)}, salt ${loaded.operation.salt}, predecessor ${loaded.operation.predecessor}`,
          ...formatActions(actions),
        ],
      };
    }

    const minDelay = await readTimelockDelay(publicClient, timelock!);
    const history = await readTimelockHistory(publicClient, timelock!, fromBlock === undefined ? {} : { fromBlock });
    const operations = [];
    const lines = [
      `timelock ${timelock} (chain ${chainId}): minimum delay ${formatDuration(minDelay)}`,
      `  proposers   ${history.roles.proposer.join(", ") || "none"}`,
      `  executors   ${history.roles.executor.includes(zeroAddress) ? "anyone (open role)" : history.roles.executor.join(", ") || "none"}`,
      `  cancellers  ${history.roles.canceller.join(", ") || "none"}`,
      `  admins      ${history.roles.admin.filter((admin) => admin !== timelock).join(", ") || "the timelock itself only"}`,
      `operations scheduled in blocks ${history.fromBlock}..${history.toBlock}: ${history.operations.length}`,
    ];
    for (const entry of history.operations) {
      const status = await readOperationStatusWithPredecessor(publicClient, entry.operation, entry.id);
      const actions = decodeOperation(entry.operation);
      operations.push({ ...status, scheduledInBlock: entry.scheduledInBlock, scheduledInTx: entry.scheduledInTx, operation: serializeOperation(entry.operation), actions });
      lines.push(`- ${entry.id}: ${entry.cancelled && status.state === "unset" ? "cancelled" : operationStatusLine(status)}`, ...formatActions(actions).map((line) => `  ${line}`));
    }
    return { ok: true, data: { chainId, timelock, minDelay, roles: history.roles, fromBlock: history.fromBlock, toBlock: history.toBlock, operations }, lines };
  });
}
