import { getAddress, type Address, type Hex, type PublicClient } from "viem";

import { toRpcError } from "../chain/errors.js";
import { WrongChainError } from "../manage/errors.js";
import { InvalidInputError } from "../util/errors.js";
import { timelockControllerAbi } from "./abi/timelock-controller.js";
import { ProposalMismatchError } from "./errors.js";
import { readTextFile } from "./files.js";
import { parseOperationSource, type LoadedOperation } from "./operation-file.js";
import { operationId } from "./timelock-operation.js";
import { readTimelockDelay, readTimelockHistory } from "./timelock-state.js";

export interface OperationSourceArgs {
  /** An operation file or a `safe,timelock` route's proposal. */
  operation?: string;
  timelock?: Address;
  id?: Hex;
  fromBlock?: bigint;
}

/**
 * Loads a timelock operation for `timelock-execute`/`timelock-cancel`/`timelock-status`:
 * from `--operation FILE` (an operation file, or the Safe proposal that scheduled it), or
 * rebuilt from the timelock's `CallScheduled`/`CallSalt` events with `--timelock` and
 * `--id`. Either way the timelock itself must compute the same id from the calls.
 */
export async function loadOperation(client: PublicClient, args: OperationSourceArgs): Promise<LoadedOperation> {
  let loaded: LoadedOperation;
  const chainId = await client.getChainId().catch((error: unknown) => {
    throw toRpcError(client, "eth_chainId", error);
  });
  if (args.operation !== undefined) {
    if (args.id !== undefined) throw new InvalidInputError("give either --operation FILE or --timelock ADDRESS --id ID, not both");
    const where = `--operation ${args.operation}`;
    const text = await readTextFile(args.operation, "--operation");
    loaded = parseOperationSource(text, where);
    if (loaded.chainId !== chainId) throw new WrongChainError(loaded.chainId, chainId);
    if (args.timelock !== undefined && getAddress(args.timelock) !== loaded.operation.timelock) {
      throw new InvalidInputError(`--timelock: ${args.timelock} is not the timelock of ${where} (${loaded.operation.timelock})`);
    }
  } else {
    if (args.timelock === undefined || args.id === undefined) {
      throw new InvalidInputError("give --operation FILE (written when the operation was scheduled, or the Safe proposal), or --timelock ADDRESS with --id OPERATION_ID");
    }
    await readTimelockDelay(client, args.timelock);
    const history = await readTimelockHistory(client, args.timelock, args.fromBlock === undefined ? {} : { fromBlock: args.fromBlock });
    const found = history.operations.find((entry) => entry.id === args.id!.toLowerCase());
    if (found === undefined) {
      throw new InvalidInputError(`--id: no operation ${args.id} was scheduled on timelock ${args.timelock} in blocks ${history.fromBlock}..${history.toBlock}`);
    }
    loaded = { chainId, operation: found.operation, id: found.id, summaries: [], source: `CallScheduled events (block ${found.scheduledInBlock})` };
  }
  await readTimelockDelay(client, loaded.operation.timelock, "--operation (timelock)");
  const op = loaded.operation;
  const onChain = (await (
    op.batch
      ? client.readContract({
          address: op.timelock,
          abi: timelockControllerAbi,
          functionName: "hashOperationBatch",
          args: [op.calls.map((c) => c.to), op.calls.map((c) => c.value), op.calls.map((c) => c.data), op.predecessor, op.salt],
        })
      : client.readContract({ address: op.timelock, abi: timelockControllerAbi, functionName: "hashOperation", args: [op.calls[0]!.to, op.calls[0]!.value, op.calls[0]!.data, op.predecessor, op.salt] })
  ).catch((error: unknown) => {
    throw toRpcError(client, "eth_call", error);
  })) as Hex;
  if (onChain.toLowerCase() !== operationId(op)) {
    throw new ProposalMismatchError(`timelock ${op.timelock} computes operation id ${onChain} for these calls, not ${operationId(op)}`);
  }
  return loaded;
}
