import type { Address, PublicClient } from "viem";

import { IAPP_AUTH_INTERFACE_ID } from "../abi/dstack-app.js";
import { dstackKmsAbi } from "../abi/dstack-kms.js";
import { assertAppContract } from "../chain/app-state.js";
import { isRevertError, NoCodeError, toRpcError } from "../chain/errors.js";
import { DstackGovernanceError, describeError } from "../util/errors.js";

export type TargetKind = "app" | "kms";

/** The address has code but does not behave like a DstackKms. */
export class NotAKmsContractError extends DstackGovernanceError {
  override name = "NotAKmsContractError";
  constructor(address: Address, reason: string) {
    super("NOT_A_KMS_CONTRACT", `${address} is not a DstackKms-compatible contract: ${reason}`);
  }
}

/** Checks, before anything is sent, that the address is the kind of contract a command manages. */
export async function assertTarget(client: PublicClient, kind: TargetKind, address: Address): Promise<{ batchManagement: boolean }> {
  if (kind === "app") return assertAppContract(client, address);
  await assertKmsContract(client, address);
  return { batchManagement: false };
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
