import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { zeroAddress, type Abi, type Address, type Hex } from "viem";

import { deployBytecode } from "../../src/governance/deploy.js";
import { formatDuration, parseDuration } from "../../src/util/duration.js";
import { readTimelockDelay } from "../../src/governance/timelock-state.js";
import { deploymentsFile } from "../../src/deployments/deployments-file.js";
import { InvalidInputError } from "../../src/util/errors.js";
import { parseAddress, requireOption } from "../lib/args.js";
import { connectSigner, deploymentsDir } from "../lib/connection.js";
import { recordDeploymentFor } from "../lib/deployments.js";
import { runCommand } from "../lib/output.js";

interface Args {
  minDelay: string | undefined;
  proposers: string | undefined;
  executors: string | undefined;
  admin: string | undefined;
  from: string | undefined;
  json: boolean;
}

const addressList = (value: string | undefined, flag: string, expected: string): Address[] =>
  requireOption(value, flag, expected)
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part) => parseAddress(part, flag));

/**
 * Deploys OpenZeppelin's TimelockController: proposers (who also become cancellers),
 * executors (`anyone` opens the role), an optional admin. Without an admin the timelock
 * administers itself, so role changes go through the delay too.
 */
export default async function (args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(args.json, async () => {
    const minDelay = parseDuration(requireOption(args.minDelay, "--min-delay", "seconds, or a duration such as 1d"), "--min-delay");
    const proposers = addressList(args.proposers, "--proposers", "proposer addresses, comma-separated (e.g. the Safe)");
    if (proposers.length === 0) throw new InvalidInputError("--proposers: at least one proposer is needed, or nothing can ever be scheduled");
    const executorsText = requireOption(args.executors, "--executors", "executor addresses, comma-separated, or `anyone`").trim();
    const executors = executorsText.toLowerCase() === "anyone" ? [zeroAddress as Address] : addressList(executorsText, "--executors", "executor addresses");
    if (executors.length === 0) throw new InvalidInputError("--executors: at least one executor (or `anyone`) is needed");
    const admin = args.admin === undefined ? (zeroAddress as Address) : parseAddress(args.admin, "--admin");
    const { publicClient, signer, chainId, connection } = await connectSigner(hre, args.from);
    const artifact = await hre.artifacts.readArtifact("TimelockController");
    const deployed = await deployBytecode(publicClient, signer, {
      label: "TimelockController",
      abi: artifact.abi as Abi,
      bytecode: artifact.bytecode as Hex,
      args: [minDelay, proposers, executors, admin],
    });
    await readTimelockDelay(publicClient, deployed.address);
    const warnings: string[] = [];
    if (minDelay === 0n) warnings.push("zero minimum delay: the timelock gives no time to review or react");
    if (admin !== zeroAddress) warnings.push(`${admin} holds DEFAULT_ADMIN_ROLE: it can change roles without the delay; renounce it once set up`);
    for (const proposer of proposers) {
      const code = await publicClient.getCode({ address: proposer });
      if (code === undefined || code === "0x") warnings.push(`proposer ${proposer} is an EOA: one key can schedule any change`);
    }
    const savedAs = recordDeploymentFor(
      hre,
      connection.networkConfig.type,
      chainId,
      { kind: "TimelockController", address: deployed.address, transactionHash: deployed.transactionHash, blockNumber: deployed.blockNumber.toString() },
      undefined,
      "timelock",
    );
    return {
      ok: true,
      data: { chainId, timelock: deployed.address, minDelay, proposers, executors, admin: admin === zeroAddress ? null : admin, transaction: deployed, warnings, savedAs: savedAs ?? null },
      lines: [
        `TimelockController ${deployed.address} deployed on chain ${chainId}`,
        `  minimum delay ${formatDuration(minDelay)}`,
        `  proposers     ${proposers.join(", ")} (also cancellers)`,
        `  executors     ${executors[0] === zeroAddress ? "anyone" : executors.join(", ")}`,
        `  admin         ${admin === zeroAddress ? "none (the timelock administers itself)" : admin}`,
        `  tx ${deployed.transactionHash}, gas used ${deployed.gasUsed}`,
        ...warnings.map((warning) => `⚠ ${warning}`),
        ...(savedAs === undefined ? [] : [`recorded as ${savedAs} in ${deploymentsFile(deploymentsDir(hre), chainId)}`]),
      ],
    };
  });
}
