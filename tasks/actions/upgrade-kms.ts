import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { getAddress, type Address, type Hex } from "viem";

import { assertRouteSender } from "../../src/governance/route-authorization.js";
import { planUpgradeKms, readKmsImplementation } from "../../src/manage/kms-upgrade-plan.js";
import { assertSigner } from "../../src/manage/send-direct.js";
import { assertTarget } from "../../src/manage/targets.js";
import type { SendArgs } from "../lib/allowlist-action.js";
import { applyPlan } from "../lib/apply-plan.js";
import { parseAddress } from "../lib/args.js";
import { connectSigner } from "../lib/connection.js";
import { deployWith } from "../lib/deploy.js";
import { runCommand } from "../lib/output.js";
import { checkUpgrade, resolveCandidate, resolveReference, parseUpgradeOptions, withUpgradeReport, type UpgradeCheck } from "../lib/upgrade-check.js";
import { parseRoute } from "../lib/route-args.js";

interface Args extends SendArgs {
  kms: string | undefined;
  implementation: string | undefined;
  deployImplementation: boolean;
  contract: string | undefined;
  reference: string | undefined;
  callData: string | undefined;
}

/**
 * Upgrades a KMS proxy. Like upgrade-app, the new implementation is checked with
 * OpenZeppelin's validator (upgrade safety and storage layout against the current
 * implementation, or upstream's with --reference upstream) before anything is sent.
 */
export default async function (args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(args.json, async () => {
    const kms = parseAddress(args.kms, "--kms");
    const { given, callData } = parseUpgradeOptions(args);

    const route = parseRoute(args);
    const { connection, publicClient, signer, networkName } = await connectSigner(hre, args.from);
    const check = async (candidate: Awaited<ReturnType<typeof resolveCandidate>>): Promise<UpgradeCheck> =>
      checkUpgrade(await resolveReference(hre.artifacts, publicClient, "kms", await readKmsImplementation(publicClient, kms), args.reference), candidate);
    let implementation: Address;
    let deployed: { address: Address; transactionHash: Hex; gasUsed: bigint } | undefined;
    let upgradeCheck: UpgradeCheck | undefined;
    if (given !== undefined) {
      implementation = given;
    } else {
      // Everything that would stop the upgrade is checked before the implementation is deployed.
      await assertTarget(publicClient, "kms", kms);
      await assertRouteSender(publicClient, kms, { role: "owner" }, route, getAddress(signer.account.address));
      if (route.kind === "direct") await assertSigner(publicClient, getAddress(signer.account.address), kms, { role: "owner" });
      const candidate = await resolveCandidate(hre.artifacts, publicClient, args.contract ?? "DstackKms");
      upgradeCheck = await check(candidate);
      // deployWith deploys any contract of this project's artifacts.
      deployed = await deployWith(hre, connection, publicClient, signer, candidate.name as "DstackKms", []);
      implementation = deployed.address;
      console.error(`deployed ${candidate.name} implementation ${implementation} (tx ${deployed.transactionHash})`);
    }

    const plan = await planUpgradeKms(publicClient, kms, implementation, callData);
    if (upgradeCheck === undefined && plan.calls.length > 0) upgradeCheck = await check(await resolveCandidate(hre.artifacts, publicClient, args.contract, implementation));
    const result = await applyPlan(publicClient, signer, plan, {
      dryRun: args.dryRun,
      route,
      networkName,
      confirm: async () => {
        const now = await readKmsImplementation(publicClient, kms);
        return { ok: now === getAddress(implementation), detail: `implementation is ${now}` };
      },
    });
    return withUpgradeReport(result, upgradeCheck, deployed);
  });
}
