import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { readKmsInfo } from "../../src/chain/app-state.js";
import { assertKmsContract } from "../../src/chain/contract-checks.js";
import { connectChain } from "../lib/connection.js";
import { parseContractRef, resolveContractRef } from "../lib/deployments.js";
import { runCommand } from "../lib/output.js";

const short = (hex: string) => (hex.length > 42 ? `${hex.slice(0, 42)}… (${(hex.length - 2) / 2} bytes)` : hex === "0x" ? "empty" : hex);

export default async function (args: { kms: string | undefined; json: boolean }, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(args.json, async () => {
    const kmsRef = parseContractRef(args.kms, "--kms");
    const { publicClient, chainId } = await connectChain(hre, { readOnly: true });
    const kms = resolveContractRef(hre, kmsRef, "--kms", chainId);
    await assertKmsContract(publicClient, kms);
    const info = await readKmsInfo(publicClient, kms);
    return {
      ok: true,
      data: { ...info },
      lines: [
        `KMS ${info.address} on chain ${info.chainId} at block ${info.blockNumber}`,
        `  owner               ${info.owner}`,
        `  pending owner       ${info.pendingOwner === null || /^0x0{40}$/.test(info.pendingOwner) ? "none" : info.pendingOwner}`,
        `  implementation      ${info.implementation ?? "none (not a proxy)"}`,
        `  app implementation  ${/^0x0{40}$/.test(info.appImplementation) ? "none" : info.appImplementation}`,
        `  gateway app id      ${info.gatewayAppId === "" ? "none" : info.gatewayAppId}`,
        `  k256 public key     ${short(info.kmsInfo.k256Pubkey)}`,
        `  CA public key       ${short(info.kmsInfo.caPubkey)}`,
        `  quote               ${short(info.kmsInfo.quote)}`,
        `  event log           ${short(info.kmsInfo.eventlog)}`,
      ],
    };
  });
}
