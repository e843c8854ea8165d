import { encodeFunctionData, getAddress, parseEventLogs, zeroAddress, type Abi, type Address, type Hex, type PublicClient } from "viem";

import { dstackAppAbi } from "../abi/dstack-app.js";
import { dstackKmsAbi } from "../abi/dstack-kms.js";
import { DstackGovernanceError, InvalidInputError } from "../util/errors.js";
import { deployBytecode } from "../governance/deploy.js";
import { plannedCall } from "./planned-call.js";
import type { SignerClient } from "../chain/clients.js";
import { assertKmsContract } from "../chain/contract-checks.js";
import { executeDirect } from "./send-direct.js";

/** The settings a new app starts with (`DstackApp.initialize`). */
export interface AppInitialization {
  owner: Address;
  disableUpgrades: boolean;
  requireTcbUpToDate: boolean;
  allowAnyDevice: boolean;
  /** A device to allow from the start, or the zero hash for none. */
  device: Hex;
  /** A compose hash to allow from the start, or the zero hash for none. */
  composeHash: Hex;
}

/** One transaction of a deployment. */
export interface DeploymentStep {
  step: "deployAndRegisterApp" | "implementation" | "proxy";
  transactionHash: Hex;
  gasUsed: bigint;
  blockNumber: bigint;
}

export interface DeployedApp {
  app: Address;
  implementation: Address;
  transactions: DeploymentStep[];
}

/** Compiled contract code, as read from a build's artifacts. */
export interface ContractCode {
  abi: Abi;
  bytecode: Hex;
}

function initArgs(init: AppInitialization) {
  return [init.owner, init.disableUpgrades, init.requireTcbUpToDate, init.allowAnyDevice, init.device, init.composeHash] as const;
}

/**
 * Deploys an app through a KMS's factory (`deployAndRegisterApp`): a proxy of the KMS's
 * app implementation, registered in the same transaction. The app's address is read from
 * the factory's `AppDeployedViaFactory` event.
 */
export async function deployAppViaKms(client: PublicClient, signer: SignerClient, kms: Address, init: AppInitialization): Promise<DeployedApp> {
  await assertKmsContract(client, kms);
  const implementation = getAddress(await client.readContract({ address: kms, abi: dstackKmsAbi, functionName: "appImplementation" }));
  if (implementation === zeroAddress) throw new InvalidInputError(`kms: ${kms} has no app implementation; run set-app-implementation first`, { field: "kms" });
  const call = plannedCall(kms, dstackKmsAbi, "deployAndRegisterApp", initArgs(init), `deploy and register an app through KMS ${kms}`);
  const [sent] = await executeDirect(client, signer, { target: kms, calls: [call], unchanged: [], sender: { role: "anyone" } });
  const receipt = await client.getTransactionReceipt({ hash: sent!.hash });
  const [event] = parseEventLogs({ abi: dstackKmsAbi, logs: receipt.logs, eventName: "AppDeployedViaFactory" });
  if (event === undefined) throw new DstackGovernanceError("NO_DEPLOY_EVENT", `transaction ${sent!.hash} emitted no AppDeployedViaFactory event`);
  return {
    app: getAddress(event.args.appId),
    implementation,
    transactions: [{ step: "deployAndRegisterApp", transactionHash: sent!.hash, gasUsed: sent!.gasUsed, blockNumber: sent!.blockNumber }],
  };
}

/** Deploys an app on its own: a DstackApp implementation, then an ERC-1967 proxy initialised with `init`. */
export async function deployAppWithProxy(client: PublicClient, signer: SignerClient, code: { app: ContractCode; proxy: ContractCode }, init: AppInitialization): Promise<DeployedApp> {
  const impl = await deployBytecode(client, signer, { label: "DstackApp", ...code.app });
  const initData = encodeFunctionData({ abi: dstackAppAbi, functionName: "initialize", args: initArgs(init) });
  const proxy = await deployBytecode(client, signer, { label: "ERC1967Proxy", ...code.proxy, args: [impl.address, initData] });
  return {
    app: proxy.address,
    implementation: impl.address,
    transactions: [
      { step: "implementation", transactionHash: impl.transactionHash, gasUsed: impl.gasUsed, blockNumber: impl.blockNumber },
      { step: "proxy", transactionHash: proxy.transactionHash, gasUsed: proxy.gasUsed, blockNumber: proxy.blockNumber },
    ],
  };
}
