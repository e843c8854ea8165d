import type { Address, Hex, PublicClient } from "viem";

import { dstackAppAbi } from "../abi/dstack-app.js";
import { ERC1967_IMPLEMENTATION_SLOT } from "../chain/app-state.js";
import { isRevertError, toRpcError } from "../chain/errors.js";
import { InvalidInputError } from "../util/errors.js";

/**
 * Throws unless `implementation` has code and is a UUPS implementation (its
 * `proxiableUUID()` is the ERC-1967 slot): otherwise `upgradeToAndCall` would only revert
 * on chain.
 */
export async function assertUupsImplementation(client: PublicClient, implementation: Address): Promise<void> {
  const code = await client.getCode({ address: implementation });
  if (code === undefined || code === "0x") {
    throw new InvalidInputError(`implementation: no contract at ${implementation}`, { field: "implementation" });
  }
  let uuid: Hex;
  try {
    uuid = (await client.readContract({ address: implementation, abi: dstackAppAbi, functionName: "proxiableUUID" })) as Hex;
  } catch (error) {
    if (!isRevertError(error)) throw toRpcError(client, "eth_call", error);
    throw new InvalidInputError(`implementation: ${implementation} is not a UUPS implementation (no proxiableUUID())`, { field: "implementation" });
  }
  if (uuid.toLowerCase() !== ERC1967_IMPLEMENTATION_SLOT) {
    throw new InvalidInputError(`implementation: ${implementation} reports proxiableUUID ${uuid}, not the ERC-1967 slot`, { field: "implementation" });
  }
}
