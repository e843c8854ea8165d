import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { encodeFunctionData, getAddress, parseEventLogs, zeroAddress, zeroHash, type Address, type Hex } from "viem";

import { dstackAppAbi } from "../../src/abi/dstack-app.js";
import { dstackKmsAbi } from "../../src/abi/dstack-kms.js";
import { plannedCall } from "../../src/manage/planned-call.js";
import { executeDirect } from "../../src/manage/send-direct.js";
import { assertKmsContract } from "../../src/chain/contract-checks.js";
import { assertNameFree, deploymentsFile, parseDeploymentName } from "../../src/deployments/deployments-file.js";
import { InvalidInputError } from "../../src/util/errors.js";
import { parseAddress, parseNonZeroBytes32 } from "../lib/args.js";
import { connectSigner, deploymentsDir } from "../lib/connection.js";
import { deployWith } from "../lib/deploy.js";
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
    const initArgs = [owner, args.disableUpgrades, args.requireTcbUpToDate, args.allowAnyDevice, device, composeHash] as const;
    const transactions: Array<{ step: string; transactionHash: `0x${string}`; gasUsed: bigint; blockNumber: bigint }> = [];
    let app: Address;
    let implementation: Address;

    if (kms !== undefined) {
      await assertKmsContract(publicClient, kms);
      implementation = getAddress(await publicClient.readContract({ address: kms, abi: dstackKmsAbi, functionName: "appImplementation" }));
      if (implementation === zeroAddress) {
        throw new InvalidInputError(`--kms: ${kms} has no app implementation; run set-app-implementation first`);
      }
      const call = plannedCall(kms, dstackKmsAbi, "deployAndRegisterApp", initArgs, `deploy and register an app through KMS ${kms}`);
      const [sent] = await executeDirect(publicClient, signer, { target: kms, calls: [call], unchanged: [], sender: { role: "anyone" } });
      const receipt = await publicClient.getTransactionReceipt({ hash: sent!.hash });
      const [event] = parseEventLogs({ abi: dstackKmsAbi, logs: receipt.logs, eventName: "AppDeployedViaFactory" });
      if (event === undefined) throw new Error(`transaction ${sent!.hash} emitted no AppDeployedViaFactory event`);
      app = getAddress(event.args.appId);
      transactions.push({ step: "deployAndRegisterApp", transactionHash: sent!.hash, gasUsed: sent!.gasUsed, blockNumber: sent!.blockNumber });
    } else {
      const impl = await deployWith(hre, connection, publicClient, signer, "DstackApp", []);
      implementation = impl.address;
      transactions.push({ step: "implementation", transactionHash: impl.transactionHash, gasUsed: impl.gasUsed, blockNumber: impl.blockNumber });
      const initData = encodeFunctionData({ abi: dstackAppAbi, functionName: "initialize", args: initArgs });
      const proxy = await deployWith(hre, connection, publicClient, signer, "ERC1967Proxy", [implementation, initData]);
      transactions.push({ step: "proxy", transactionHash: proxy.transactionHash, gasUsed: proxy.gasUsed, blockNumber: proxy.blockNumber });
      app = proxy.address;
    }

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
