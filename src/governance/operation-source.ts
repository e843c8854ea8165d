import { getAddress, type Address, type Hex, type PublicClient } from "viem";

import { toRpcError } from "../chain/errors.js";
import { WrongChainError } from "../manage/errors.js";
import { InvalidInputError } from "../util/errors.js";
import { timelockControllerAbi } from "./abi/timelock-controller.js";
import { ProposalMismatchError } from "./errors.js";
import { readTextFile } from "../util/files.js";
import { parseOperationSource, type LoadedOperation } from "./operation-file.js";
import { operationId } from "./timelock-operation.js";
import { readTimelockDelay, readTimelockHistory } from "./timelock-state.js";

/**
 * Where an operation comes from: a file (an operation file, or the `safe,timelock` route's
 * proposal that scheduled it; `timelock`, when given, must be its timelock), or the
 * timelock's events for operation `id`.
 */
export type OperationSource =
  | { file: string; /** How messages name the file (default: its path). */ label?: string; timelock?: Address }
  | { timelock: Address; id: Hex; /** First block searched for its events. */ fromBlock?: bigint };

/**
 * Loads a timelock operation for `timelock-execute`/`timelock-cancel`/`timelock-status`:
 * from a file (an operation file, or the Safe proposal that scheduled it), or rebuilt from
 * the timelock's `CallScheduled`/`CallSalt` events. Either way the timelock itself must
 * compute the same id from the calls.
 */
export async function loadOperation(client: PublicClient, source: OperationSource): Promise<LoadedOperation> {
  let loaded: LoadedOperation;
  const chainId = await client.getChainId().catch((error: unknown) => {
    throw toRpcError(client, "eth_chainId", error);
  });
  if ("file" in source) {
    const where = source.label ?? source.file;
    const text = await readTextFile(source.file, "operation");
    loaded = parseOperationSource(text, where);
    if (loaded.chainId !== chainId) throw new WrongChainError(loaded.chainId, chainId);
    if (source.timelock !== undefined && getAddress(source.timelock) !== loaded.operation.timelock) {
      throw new InvalidInputError(`timelock: ${source.timelock} is not the timelock of ${where} (${loaded.operation.timelock})`, { field: "timelock" });
    }
  } else {
    await readTimelockDelay(client, source.timelock);
    const history = await readTimelockHistory(client, source.timelock, source.fromBlock === undefined ? {} : { fromBlock: source.fromBlock });
    const found = history.operations.find((entry) => entry.id === source.id.toLowerCase());
    if (found === undefined) {
      throw new InvalidInputError(`id: no operation ${source.id} was scheduled on timelock ${source.timelock} in blocks ${history.fromBlock}..${history.toBlock}`, { field: "id" });
    }
    loaded = { chainId, operation: found.operation, id: found.id, summaries: [], source: `CallScheduled events (block ${found.scheduledInBlock})` };
  }
  await readTimelockDelay(client, loaded.operation.timelock, "operation (timelock)");
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
