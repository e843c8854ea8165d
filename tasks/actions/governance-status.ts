import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { getAddress, zeroAddress, type Address } from "viem";

import { dstackAppAbi } from "../../src/abi/dstack-app.js";
import { toRpcError } from "../../src/chain/errors.js";
import { controlWarnings, formatControl, walkControl } from "../../src/governance/control.js";
import { assertTarget } from "../../src/manage/targets.js";
import { InvalidInputError } from "../../src/util/errors.js";
import { connectChain } from "../lib/connection.js";
import { runCommand } from "../lib/output.js";
import { ownershipTarget } from "../lib/ownership-target.js";

interface Args {
  app: string | undefined;
  kms: string | undefined;
  fromBlock: string | undefined;
  failOnWarning: boolean;
  json: boolean;
}

/**
 * Walks who controls an app (or KMS): the owner — an EOA, a Safe (owners, threshold), a
 * timelock (delay, proposers, executors, admins, and who controls those) — and any
 * pending owner, with warnings for weak set-ups.
 */
export default async function (args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(args.json, async () => {
    const { kind, target } = ownershipTarget(args);
    if (args.fromBlock !== undefined && !/^\d+$/.test(args.fromBlock.trim())) throw new InvalidInputError(`--from-block: expected a block number, got ${JSON.stringify(args.fromBlock)}`);
    const options = args.fromBlock === undefined ? {} : { fromBlock: BigInt(args.fromBlock.trim()) };
    const { publicClient, chainId } = await connectChain(hre);
    await assertTarget(publicClient, kind, target);
    const read = async (functionName: "owner" | "pendingOwner"): Promise<Address> =>
      getAddress(
        (await publicClient.readContract({ address: target, abi: dstackAppAbi, functionName }).catch((error: unknown) => {
          throw toRpcError(publicClient, "eth_call", error);
        })) as Address,
      );
    const [owner, pending] = await Promise.all([read("owner"), read("pendingOwner")]);
    const ownerTree = await walkControl(publicClient, owner, options);
    const pendingTree = pending === zeroAddress ? null : await walkControl(publicClient, pending, options);
    const warnings = controlWarnings(ownerTree, "owner", chainId);
    if (pendingTree !== null) {
      warnings.push({ severity: "note", message: `${pending} is the pending owner: it takes control as soon as it runs accept-ownership` });
      warnings.push(...controlWarnings(pendingTree, "pending owner", chainId));
    }
    const failing = args.failOnWarning && warnings.some((warning) => warning.severity === "warning");
    const noun = kind === "app" ? "app" : "KMS";
    return {
      ok: !failing,
      data: { chainId, [kind]: target, owner: ownerTree, pendingOwner: pendingTree, warnings },
      lines: [
        `${noun} ${target} (chain ${chainId})`,
        "owner:",
        ...formatControl(ownerTree, "  "),
        `pending owner:${pendingTree === null ? " none" : ""}`,
        ...(pendingTree === null ? [] : formatControl(pendingTree, "  ")),
        ...(warnings.length === 0 ? ["no weak set-up found"] : warnings.map((warning) => `${warning.severity === "warning" ? "⚠ warning" : "note"}: ${warning.message}`)),
      ],
    };
  });
}
