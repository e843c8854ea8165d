import { getAddress, type Address, type PublicClient } from "viem";

import {
  IAPP_AUTH_BASIC_MANAGEMENT_INTERFACE_ID,
  IAPP_AUTH_BATCH_MANAGEMENT_INTERFACE_ID,
  IAPP_AUTH_INTERFACE_ID,
  dstackAppAbi,
} from "../abi/dstack-app.js";
import { dstackKmsAbi } from "../abi/dstack-kms.js";
import { describeError } from "../util/errors.js";
import { chainIdOf, requireCode, type AppInterfaceSupport, type ReadOptions } from "./app-state.js";
import type { ChainClient } from "./clients.js";
import { NoCodeError, NotAKmsContractError, NotAnAppContractError, isRevertError, toRpcError } from "./errors.js";
import { readContracts } from "./multicall.js";

/*
 * Whether an address is the kind of contract a command is about to read or change, asked
 * before anything is sent: an app (DstackApp-compatible) or a KMS (DstackKms-compatible).
 */

/**
 * Fails unless `address` holds a contract that answers ERC-165 for IAppAuth and
 * IAppAuthBasicManagement: `NoCodeError` for an EOA or undeployed address,
 * `NotAnAppContractError` for another contract, `RpcError` when the node fails.
 */
export async function assertAppContract(client: ChainClient, address: Address, options: ReadOptions = {}): Promise<AppInterfaceSupport> {
  const app = getAddress(address);
  const chainId = await chainIdOf(client);
  await requireCode(client, app, chainId, options.blockNumber);
  const contract = { address: app, abi: dstackAppAbi, functionName: "supportsInterface" } as const;
  const { results } = await readContracts(
    client,
    [
      { ...contract, args: [IAPP_AUTH_INTERFACE_ID] },
      { ...contract, args: [IAPP_AUTH_BASIC_MANAGEMENT_INTERFACE_ID] },
      { ...contract, args: [IAPP_AUTH_BATCH_MANAGEMENT_INTERFACE_ID] },
    ],
    options.blockNumber === undefined ? {} : { blockNumber: options.blockNumber },
  );
  const [appAuth, basic, batch] = results;
  if (appAuth.status === "failure") {
    throw new NotAnAppContractError(app, chainId, `supportsInterface(${IAPP_AUTH_INTERFACE_ID}) failed: ${appAuth.error.message}`);
  }
  const missing = [
    appAuth.result ? undefined : `IAppAuth (${IAPP_AUTH_INTERFACE_ID})`,
    basic.status === "success" && basic.result ? undefined : `IAppAuthBasicManagement (${IAPP_AUTH_BASIC_MANAGEMENT_INTERFACE_ID})`,
  ].filter((name): name is string => name !== undefined);
  if (missing.length > 0) {
    throw new NotAnAppContractError(app, chainId, `ERC-165 does not report ${missing.join(" and ")}`);
  }
  return { appAuth: true, basicManagement: true, batchManagement: batch.status === "success" && batch.result };
}

/** A KMS has code, answers ERC-165 for IAppAuth, and has the KMS-only `appImplementation()`. */
export async function assertKmsContract(client: PublicClient, address: Address): Promise<void> {
  const code = await client.getCode({ address }).catch((error: unknown) => {
    throw toRpcError(client, "eth_getCode", error);
  });
  if (code === undefined || code === "0x") {
    throw new NoCodeError(address, await client.getChainId());
  }
  let supportsAppAuth: boolean;
  try {
    supportsAppAuth = await client.readContract({ address, abi: dstackKmsAbi, functionName: "supportsInterface", args: [IAPP_AUTH_INTERFACE_ID] });
  } catch (error) {
    if (!isRevertError(error)) throw toRpcError(client, "eth_call", error);
    throw new NotAKmsContractError(address, `supportsInterface reverted (${describeError(error)})`);
  }
  if (!supportsAppAuth) throw new NotAKmsContractError(address, "it does not support IAppAuth (ERC-165 0x1e079198)");
  try {
    await client.readContract({ address, abi: dstackKmsAbi, functionName: "appImplementation" });
  } catch (error) {
    if (!isRevertError(error)) throw toRpcError(client, "eth_call", error);
    throw new NotAKmsContractError(address, "it has no appImplementation(); is it an app contract?");
  }
}
