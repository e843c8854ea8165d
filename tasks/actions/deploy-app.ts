import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { getAddress, zeroHash, type Abi, type Hex } from "viem";

import { deployAppViaKms, deployAppWithProxy, type ContractCode } from "../../src/manage/deploy-app.js";
import { assertNameFree, deploymentsFile, parseDeploymentName } from "../../src/deployments/deployments-file.js";
import { InvalidInputError } from "../../src/util/errors.js";
import { parseAddress, parseNonZeroBytes32 } from "../lib/args.js";
import { connectSigner, deploymentsDir } from "../lib/connection.js";
import { parseContractRef, recordDeploymentFor, resolveContractRef } from "../lib/deployments.js";
import { runCommand } from "../lib/output.js";

interface Args {
  kms: string | undefined;
  owner: string | undefined;
  composeHash: string | undefined;
  device: string | undefined;
  allowAnyDevice: boolean;
  requireTcbUpToDate: boolean;
  disableUpgrades: boolean;
  yes: boolean;
  saveAs: string | undefined;
  json: boolean;
  from: string | undefined;
}

export default async function (args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(args.json, async () => {
    const kmsRef = args.kms === undefined ? undefined : parseContractRef(args.kms, "--kms");
    const saveAs = args.saveAs === undefined ? undefined : parseDeploymentName(args.saveAs, "--save-as");
    const givenOwner = args.owner === undefined ? undefined : parseAddress(args.owner, "--owner");
    const composeHash: Hex = args.composeHash === undefined ? zeroHash : parseNonZeroBytes32(args.composeHash, "--compose-hash");
    const device: Hex = args.device === undefined ? zeroHash : parseNonZeroBytes32(args.device, "--device");
    if (args.disableUpgrades && !args.yes) {
      throw new InvalidInputError("--disable-upgrades is irreversible: the app could never be upgraded; add --yes to confirm");
    }
    if (args.allowAnyDevice && args.device !== undefined) {
      throw new InvalidInputError("--device has no effect with --allow-any-device; give one of them");
    }

    const { connection, publicClient, signer, chainId } = await connectSigner(hre, args.from);
    const persistent = connection.networkConfig.type === "http";
    if (saveAs !== undefined && persistent) assertNameFree(deploymentsDir(hre), chainId, saveAs);
    const kms = kmsRef === undefined ? undefined : resolveContractRef(hre, kmsRef, "--kms", chainId);
    const owner = givenOwner ?? getAddress(signer.account.address);
    const init = { owner, disableUpgrades: args.disableUpgrades, requireTcbUpToDate: args.requireTcbUpToDate, allowAnyDevice: args.allowAnyDevice, device, composeHash };
    const { app, implementation, transactions } =
      kms !== undefined
        ? await deployAppViaKms(publicClient, signer, kms, init)
        : await deployAppWithProxy(publicClient, signer, { app: await contractCode(hre, "DstackApp"), proxy: await contractCode(hre, "ERC1967Proxy") }, init);

    const last = transactions[transactions.length - 1]!;
    const savedAs = recordDeploymentFor(
      hre,
      connection.networkConfig.type,
      chainId,
      { kind: "DstackApp", address: app, transactionHash: last.transactionHash, blockNumber: last.blockNumber.toString(), implementation, owner, ...(kms === undefined ? {} : { kms }) },
      saveAs,
      "app",
    );
    return {
      ok: true,
      data: { chainId, app, implementation, kms: kms ?? null, owner, composeHash: composeHash === zeroHash ? null : composeHash, transactions, savedAs: savedAs ?? null },
      lines: [
        `app deployed at ${app} (chain ${chainId})${kms === undefined ? "" : `, registered with KMS ${kms}`}`,
        `  owner           ${owner}`,
        `  implementation  ${implementation}`,
        `  compose hash    ${composeHash === zeroHash ? "none yet (add-compose-hash)" : composeHash}`,
        `  devices         ${args.allowAnyDevice ? "any" : device === zeroHash ? "none allowed yet (add-device or set-allow-any-device)" : device}`,
        `  TCB up to date  ${args.requireTcbUpToDate ? "required" : "not required"}`,
        `  upgrades        ${args.disableUpgrades ? "DISABLED for ever" : "owner may upgrade"}`,
        ...transactions.map((t) => `  ${t.step}: tx ${t.transactionHash}, gas used ${t.gasUsed}`),
        ...(savedAs === undefined ? [] : [`recorded as ${savedAs} in ${deploymentsFile(deploymentsDir(hre), chainId)} (later: --app ${savedAs})`]),
      ],
    };
  });
}

async function contractCode(hre: HardhatRuntimeEnvironment, name: "DstackApp" | "ERC1967Proxy"): Promise<ContractCode> {
  const artifact = await hre.artifacts.readArtifact(name);
  return { abi: artifact.abi as Abi, bytecode: artifact.bytecode as Hex };
}
