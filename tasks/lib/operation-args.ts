import type { Address, Hex } from "viem";

import type { OperationSource } from "../../src/governance/operation-source.js";
import { InvalidInputError } from "../../src/util/errors.js";

/** The operation the timelock commands act on: `--operation FILE`, or `--timelock ADDRESS --id ID`. */
export function operationSourceOf(args: { operation?: string; timelock?: Address; id?: Hex; fromBlock?: bigint }): OperationSource {
  if (args.operation !== undefined) {
    if (args.id !== undefined) throw new InvalidInputError("give either --operation FILE or --timelock ADDRESS --id ID, not both");
    return { file: args.operation, label: `--operation ${args.operation}`, ...(args.timelock === undefined ? {} : { timelock: args.timelock }) };
  }
  if (args.timelock === undefined || args.id === undefined) {
    throw new InvalidInputError("give --operation FILE (written when the operation was scheduled, or the Safe proposal), or --timelock ADDRESS with --id OPERATION_ID");
  }
  return { timelock: args.timelock, id: args.id, ...(args.fromBlock === undefined ? {} : { fromBlock: args.fromBlock }) };
}
