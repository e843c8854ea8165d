import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { encodeFunctionData, getAddress, zeroAddress, type Address } from "viem";

import { dstackKmsAbi } from "../../src/abi/dstack-kms.js";
import { assertNameFree, deploymentsFile, parseDeploymentName } from "../../src/deployments/deployments-file.js";
import { InvalidInputError } from "../../src/util/errors.js";
import { parseAddress } from "../lib/args.js";
import { connectSigner, deploymentsDir } from "../lib/connection.js";
import { runCommand } from "../lib/output.js";
import { deployWith } from "../lib/deploy.js";
import { recordDeploymentFor } from "../lib/deployments.js";

interface Args {
  owner: string | undefined;
  appImplementation: string | undefined;
  noAppImplementation: boolean;
  saveAs: string | undefined;
  json: boolean;
  from: string | undefined;
}

export default async function (args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(args.json, async () => {
    if (args.appImplementation !== undefined && args.noAppImplementation) {
      throw new InvalidInputError("--app-implementation and --no-app-implementation exclude each other");
    }
    const givenOwner = args.owner === undefined ? undefined : parseAddress(args.owner, "--owner");
    const givenImplementation = args.appImplementation === undefined ? undefined : parseAddress(args.appImplementation, "--app-implementation");
    const saveAs = args.saveAs === undefined ? undefined : parseDeploymentName(args.saveAs, "--save-as");
    const { connection, publicClient, signer, chainId } = await connectSigner(hre, args.from);
    if (saveAs !== undefined && connection.networkConfig.type === "http") assertNameFree(deploymentsDir(hre), chainId, saveAs);
    const owner = givenOwner ?? getAddress(signer.account.address);
    if (givenImplementation !== undefined) {
      const code = await publicClient.getCode({ address: givenImplementation });
      if (code === undefined || code === "0x") throw new InvalidInputError(`--app-implementation: no contract at ${givenImplementation}`);
    }

    const deployed: Record<string, { address: Address; transactionHash: `0x${string}`; gasUsed: bigint; blockNumber: bigint }> = {};
    let appImplementation: Address = givenImplementation ?? zeroAddress;
    if (givenImplementation === undefined && !args.noAppImplementation) {
      deployed.appImplementation = await deployWith(hre, connection, publicClient, signer, "DstackApp", []);
      appImplementation = deployed.appImplementation.address;
    }
    deployed.kmsImplementation = await deployWith(hre, connection, publicClient, signer, "DstackKms", []);
    const initData = encodeFunctionData({ abi: dstackKmsAbi, functionName: "initialize", args: [owner, appImplementation] });
    deployed.kms = await deployWith(hre, connection, publicClient, signer, "ERC1967Proxy", [deployed.kmsImplementation.address, initData]);

    const kms = deployed.kms.address;
    const savedAs = recordDeploymentFor(
      hre,
      connection.networkConfig.type,
      chainId,
      { kind: "DstackKms", address: kms, transactionHash: deployed.kms.transactionHash, blockNumber: deployed.kms.blockNumber.toString(), implementation: deployed.kmsImplementation.address, owner },
      saveAs,
      "kms",
    );
    return {
      ok: true,
      data: { chainId, kms, owner, appImplementation, deployed, savedAs: savedAs ?? null },
      lines: [
        `KMS deployed at ${kms} (chain ${chainId})`,
        `  owner               ${owner}`,
        `  implementation      ${deployed.kmsImplementation.address}`,
        `  app implementation  ${appImplementation === zeroAddress ? "none (set it with set-app-implementation)" : appImplementation}`,
        ...Object.entries(deployed).map(([name, d]) => `  ${name}: tx ${d.transactionHash}, gas used ${d.gasUsed}`),
        ...(savedAs === undefined ? [] : [`recorded as ${savedAs} in ${deploymentsFile(deploymentsDir(hre), chainId)} (later: --kms ${savedAs})`]),
      ],
    };
  });
}
