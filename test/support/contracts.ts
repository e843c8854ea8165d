import type { network } from "hardhat";
import { encodeFunctionData, zeroHash, type Address, type Hex } from "viem";

export type HardhatViem = Awaited<ReturnType<typeof network.create>>["viem"];

export interface AppInitOptions {
  owner: Address;
  disableUpgrades?: boolean;
  requireTcbUpToDate?: boolean;
  allowAnyDevice?: boolean;
  initialDeviceId?: Hex;
  initialComposeHash?: Hex;
}

/** Deploys a DstackApp implementation and an ERC1967 proxy initialised through it. */
export async function deployAppProxy(viem: HardhatViem, options: AppInitOptions) {
  const implementation = await viem.deployContract("DstackApp");
  const initData = encodeFunctionData({
    abi: implementation.abi,
    functionName: "initialize",
    args: [
      options.owner,
      options.disableUpgrades ?? false,
      options.requireTcbUpToDate ?? false,
      options.allowAnyDevice ?? false,
      options.initialDeviceId ?? zeroHash,
      options.initialComposeHash ?? zeroHash,
    ],
  });
  const proxy = await viem.deployContract("ERC1967Proxy", [implementation.address, initData]);
  const app = await viem.getContractAt("DstackApp", proxy.address);
  return { implementation, proxy, app };
}

/** Deploys a DstackKms implementation and proxy, optionally with an app implementation for the factory. */
export async function deployKmsProxy(viem: HardhatViem, owner: Address, appImplementation?: Address) {
  const implementation = await viem.deployContract("DstackKms");
  const initData = encodeFunctionData({
    abi: implementation.abi,
    functionName: "initialize",
    args: [owner, appImplementation ?? "0x0000000000000000000000000000000000000000"],
  });
  const proxy = await viem.deployContract("ERC1967Proxy", [implementation.address, initData]);
  const kms = await viem.getContractAt("DstackKms", proxy.address);
  return { implementation, proxy, kms };
}

/** A boot description for `isAppAllowed`, with every field overridable. */
export function bootInfo(overrides: Partial<BootInfo> = {}): BootInfo {
  return {
    appId: "0x0000000000000000000000000000000000000000",
    composeHash: zeroHash,
    instanceId: "0x0000000000000000000000000000000000000000",
    deviceId: zeroHash,
    mrAggregated: zeroHash,
    mrSystem: zeroHash,
    osImageHash: zeroHash,
    tcbStatus: "UpToDate",
    advisoryIds: [],
    ...overrides,
  };
}

export interface BootInfo {
  appId: Address;
  composeHash: Hex;
  instanceId: Address;
  deviceId: Hex;
  mrAggregated: Hex;
  mrSystem: Hex;
  osImageHash: Hex;
  tcbStatus: string;
  advisoryIds: readonly string[];
}
