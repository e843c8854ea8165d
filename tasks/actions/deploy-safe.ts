import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { deploySafe } from "../../src/governance/deploy.js";
import { resolveSafeContracts } from "../../src/governance/safe-contracts.js";
import { readSafe } from "../../src/governance/safe-state.js";
import { deploymentsFile } from "../../src/deployments/deployments-file.js";
import { InvalidInputError } from "../../src/util/errors.js";
import { parseAddress, requireOption } from "../lib/args.js";
import { connectSigner, deploymentsDir } from "../lib/connection.js";
import { recordDeploymentFor } from "../lib/deployments.js";
import { runCommand } from "../lib/output.js";

interface Args {
  owners: string | undefined;
  threshold: string | undefined;
  saltNonce: string | undefined;
  safeContracts: string | undefined;
  from: string | undefined;
  json: boolean;
}

/** Creates a Safe through the v1.4.1 proxy factory (canonical, or from --safe-contracts). */
export default async function (args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(args.json, async () => {
    const owners = requireOption(args.owners, "--owners", "owner addresses, comma-separated")
      .split(",")
      .map((part) => part.trim())
      .filter((part) => part.length > 0)
      .map((part) => parseAddress(part, "--owners"));
    const thresholdText = requireOption(args.threshold, "--threshold", "how many owners must sign").trim();
    if (!/^\d+$/.test(thresholdText)) throw new InvalidInputError(`--threshold: expected a whole number, got ${JSON.stringify(thresholdText)}`);
    const saltText = (args.saltNonce ?? "0").trim();
    if (!/^\d+$/.test(saltText)) throw new InvalidInputError(`--salt-nonce: expected a whole number, got ${JSON.stringify(saltText)}`);
    const threshold = BigInt(thresholdText);
    if (threshold < 1n || threshold > BigInt(owners.length)) throw new InvalidInputError(`--threshold: must be between 1 and the number of owners (${owners.length})`);
    const { publicClient, signer, chainId, connection } = await connectSigner(hre, args.from);
    const contracts = await resolveSafeContracts(chainId, args.safeContracts);
    const deployed = await deploySafe(publicClient, signer, contracts, owners, threshold, BigInt(saltText));
    const safe = await readSafe(publicClient, deployed.address);
    const savedAs = recordDeploymentFor(
      hre,
      connection.networkConfig.type,
      chainId,
      { kind: "Safe", address: safe.address, transactionHash: deployed.transactionHash, blockNumber: deployed.blockNumber.toString() },
      undefined,
      "safe",
    );
    return {
      ok: true,
      data: { chainId, safe: safe.address, owners: safe.owners, threshold: safe.threshold, version: safe.version, transaction: deployed, savedAs: savedAs ?? null },
      lines: [
        `Safe ${safe.address} created on chain ${chainId}: ${safe.threshold} of ${safe.owners.length} owners, v${safe.version}`,
        ...safe.owners.map((owner) => `  owner ${owner}`),
        `  tx ${deployed.transactionHash}, gas used ${deployed.gasUsed}`,
        ...(threshold === 1n ? [`⚠ 1-of-${owners.length}: any single owner key can act alone`] : []),
        ...(savedAs === undefined ? [] : [`recorded as ${savedAs} in ${deploymentsFile(deploymentsDir(hre), chainId)}`]),
      ],
    };
  });
}
