import {
  decodeErrorResult,
  decodeFunctionResult,
  encodeFunctionData,
  type Abi,
  type AbiStateMutability,
  type ContractFunctionParameters,
  type MulticallContracts,
  type MulticallResults,
  type Narrow,
} from "viem";
import { call, getCode } from "viem/actions";

import { MULTICALL3_ADDRESS, multicall3Abi } from "../abi/multicall3.js";
import { InvalidInputError, describeError } from "../util/errors.js";
import type { Hex } from "../util/hex.js";
import { CallRevertedError, isRevertError, revertData, toRpcError } from "./errors.js";
import { mapLimit } from "../util/map-limit.js";
import type { ChainClient } from "./clients.js";

/**
 * Batched reads. Multicall3 turns N `eth_call`s into one (fewer requests against rate
 * limits, and every value read from the same block); chains or local nodes without it get
 * plain calls. Either way each item ends as its own success or `CallRevertedError` (a revert
 * or undecodable answer is the contract's reply, reported per item), while an RPC failure
 * fails the whole read: it is never turned into a `false`.
 */

export interface ReadContractsOptions {
  /** Block to read at (default: latest). */
  blockNumber?: bigint;
  /**
   * `"auto"` (default) uses Multicall3 when code exists at its canonical address at that
   * block; `"off"` always sends plain calls; `"required"` fails when Multicall3 is absent.
   */
  multicall?: "auto" | "off" | "required";
  /** Calls per `aggregate3` request (default 300, far below node gas caps for view reads). */
  batchSize?: number;
  /** Parallel `eth_call`s on the plain path (default 8). */
  concurrency?: number;
}

/** The per-item outcome: `{status: "success", result}` or `{status: "failure", error}`. */
export type ReadContractsResults<contracts extends readonly unknown[]> = MulticallResults<
  Narrow<contracts>,
  true,
  // biome-ignore lint/complexity/noBannedTypes: viem's MulticallResults takes `{}` for "no extra properties" (it is intersected into each result)
  { error: CallRevertedError; extraProperties: {}; mutability: AbiStateMutability }
>;

/** Per-item outcomes and how the reads were sent. */
export type ReadContractsReturn<contracts extends readonly unknown[]> = {
  results: ReadContractsResults<contracts>;
  via: "multicall3" | "eth_call";
};

/** Whether Multicall3 has code at its canonical address (at `blockNumber`, default latest). */
export async function hasMulticall3(client: ChainClient, blockNumber?: bigint): Promise<boolean> {
  try {
    const code = await getCode(client, blockNumber === undefined ? { address: MULTICALL3_ADDRESS } : { address: MULTICALL3_ADDRESS, blockNumber });
    return code !== undefined && code !== "0x";
  } catch (error) {
    throw toRpcError(client, "eth_getCode", error);
  }
}

/**
 * Reads several view functions, typed like viem's `multicall` with `allowFailure: true`.
 * Results come back in the order of `contracts`.
 */
export async function readContracts<const contracts extends readonly unknown[]>(
  client: ChainClient,
  contracts: MulticallContracts<Narrow<contracts>, { mutability: AbiStateMutability }>,
  options: ReadContractsOptions = {},
): Promise<{ results: ReadContractsResults<contracts>; via: "multicall3" | "eth_call" }> {
  const items = contracts as unknown as readonly ContractFunctionParameters[];
  const encoded = items.map((item) => ({
    item,
    data: encodeFunctionData({ abi: item.abi, functionName: item.functionName, args: item.args } as Parameters<typeof encodeFunctionData>[0]),
  }));
  const mode = options.multicall ?? "auto";
  let useMulticall = false;
  if (mode !== "off" && items.length > 0) {
    useMulticall = await hasMulticall3(client, options.blockNumber);
    if (!useMulticall && mode === "required") {
      throw new InvalidInputError(`Multicall3 is not deployed at ${MULTICALL3_ADDRESS} on this chain`);
    }
  }
  const results = useMulticall
    ? await viaMulticall3(client, encoded, options)
    : await viaPlainCalls(client, encoded, options);
  return { results: results as unknown as ReadContractsResults<contracts>, via: useMulticall ? "multicall3" : "eth_call" };
}

type Outcome = { status: "success"; result: unknown; error?: undefined } | { status: "failure"; error: CallRevertedError; result?: undefined };

interface EncodedCall {
  item: ContractFunctionParameters;
  data: Hex;
}

async function viaMulticall3(client: ChainClient, calls: readonly EncodedCall[], options: ReadContractsOptions): Promise<Outcome[]> {
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 300));
  const outcomes: Outcome[] = [];
  for (let start = 0; start < calls.length; start += batchSize) {
    const batch = calls.slice(start, start + batchSize);
    const data = encodeFunctionData({
      abi: multicall3Abi,
      functionName: "aggregate3",
      args: [batch.map((c) => ({ target: c.item.address, allowFailure: true, callData: c.data }))],
    });
    let returned: Hex | undefined;
    try {
      const response = await call(client, { to: MULTICALL3_ADDRESS, data, ...(options.blockNumber === undefined ? {} : { blockNumber: options.blockNumber }) });
      returned = response.data;
    } catch (error) {
      // With allowFailure on every item aggregate3 itself does not revert; a failure here is
      // the node's (or an out-of-gas batch), and fails the whole read.
      throw toRpcError(client, "eth_call", error);
    }
    if (returned === undefined || returned === "0x") {
      throw toRpcError(client, "eth_call", new Error("Multicall3 aggregate3 returned no data"));
    }
    const results = decodeFunctionResult({ abi: multicall3Abi, functionName: "aggregate3", data: returned });
    if (results.length !== batch.length) {
      throw toRpcError(client, "eth_call", new Error(`Multicall3 returned ${results.length} results for ${batch.length} calls`));
    }
    batch.forEach((c, index) => {
      const result = results[index];
      if (result === undefined) return;
      outcomes.push(result.success ? decodeOutcome(c.item, result.returnData) : revertOutcome(c.item, result.returnData));
    });
  }
  return outcomes;
}

async function viaPlainCalls(client: ChainClient, calls: readonly EncodedCall[], options: ReadContractsOptions): Promise<Outcome[]> {
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 8));
  return mapLimit(calls, concurrency, async (c) => {
    try {
      const response = await call(client, {
        to: c.item.address,
        data: c.data,
        ...(options.blockNumber === undefined ? {} : { blockNumber: options.blockNumber }),
      });
      return decodeOutcome(c.item, response.data ?? "0x");
    } catch (error) {
      if (isRevertError(error)) return revertOutcome(c.item, revertData(error), error);
      throw toRpcError(client, "eth_call", error);
    }
  });
}

function decodeOutcome(item: ContractFunctionParameters, data: Hex): Outcome {
  if (data === "0x") {
    return failure(item, "returned no data (no contract code at the address, or it lacks this function)");
  }
  try {
    const result = decodeFunctionResult({ abi: item.abi, functionName: item.functionName, data } as Parameters<typeof decodeFunctionResult>[0]);
    return { status: "success", result };
  } catch (error) {
    return failure(item, `returned data that does not decode: ${describeError(error)}`, undefined, error);
  }
}

function revertOutcome(item: ContractFunctionParameters, data: Hex | undefined, cause?: unknown): Outcome {
  return failure(item, describeRevert(item.abi, data), data, cause);
}

function failure(item: ContractFunctionParameters, reason: string, data?: Hex, cause?: unknown): Outcome {
  return { status: "failure", error: new CallRevertedError(item.address as Hex, item.functionName, reason, data, cause) };
}

/** "reverted with Name(args)" when the ABI knows the error, else the raw selector. */
export function describeRevert(abi: Abi | readonly unknown[], data: Hex | undefined): string {
  if (data === undefined || data === "0x") return "reverted without data";
  try {
    const decoded = decodeErrorResult({ abi: abi as Abi, data });
    const args = decoded.args === undefined ? "" : decoded.args.map((arg) => String(arg)).join(", ");
    return `reverted with ${decoded.errorName}(${args})`;
  } catch {
    return `reverted with data ${data.length > 74 ? `${data.slice(0, 74)}…` : data}`;
  }
}
