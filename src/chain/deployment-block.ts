import { getAddress, type Address } from "viem";
import { getBlockNumber, getCode } from "viem/actions";

import { chainIdOf } from "./app-state.js";
import type { ChainClient } from "./clients.js";
import { NoCodeError, RpcError, toRpcError, withRpcError } from "./errors.js";

/**
 * The block in which `address` got its code, by a search on `eth_getCode` over
 * `[0, toBlock]` (about log2(head) requests). Needs historical state, i.e. an archive node
 * for old blocks. Assumes the code was not removed and redeployed in between.
 *
 * The search descends by powers of two from the last block known to have no code, so the
 * blocks it reads depend on the deployment block and the head's bit length only, not on
 * the head itself: on a fork whose head has moved on (blocks mined locally), it reads the
 * same historical blocks as at the fork block, which a recorded snapshot holds.
 */
export async function findDeploymentBlock(
  client: ChainClient,
  address: Address,
  options: { toBlock?: bigint; fromBlock?: bigint } = {},
): Promise<bigint> {
  const target = getAddress(address);
  const head = options.toBlock ?? (await withRpcError(client, "eth_blockNumber", () => getBlockNumber(client, { cacheTime: 0 })));
  const hasCode = async (blockNumber: bigint): Promise<boolean> => {
    try {
      const code = await getCode(client, { address: target, blockNumber });
      return code !== undefined && code !== "0x";
    } catch (error) {
      const rpcError = toRpcError(client, "eth_getCode", error);
      throw new RpcError(
        {
          method: rpcError.method,
          url: rpcError.url,
          ...(rpcError.rpcCode === undefined ? {} : { rpcCode: rpcError.rpcCode }),
          ...(rpcError.httpStatus === undefined ? {} : { httpStatus: rpcError.httpStatus }),
          reason: `${rpcError.message.replace(/^RPC eth_getCode failed(?: at \S+)?: /, "")} (at block ${blockNumber})`,
        },
        {
          details: "finding the deployment block reads historical state, which needs an archive node; pass fromBlock explicitly otherwise",
          cause: error,
        },
      );
    }
  };
  if (!(await hasCode(head))) throw new NoCodeError(target, await chainIdOf(client), head);
  let empty = options.fromBlock ?? 0n;
  if (await hasCode(empty)) return empty;
  // Invariant: no code at `empty`, code at `head` (so at every block from the deployment on).
  // A probe at or past the head is known to have code and is not sent.
  for (let step = 1n << BigInt(Math.max(head.toString(2).length - 1, 0)); step > 0n; step >>= 1n) {
    const probe = empty + step;
    if (probe < head && !(await hasCode(probe))) empty = probe;
  }
  return empty + 1n;
}
