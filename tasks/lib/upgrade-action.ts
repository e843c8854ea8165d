import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { getAddress, type Address, type Hex, type PublicClient } from "viem";

import { assertRouteSender } from "../../src/governance/route-authorization.js";
import { assertUpgradable, planUpgradeApp, readImplementation } from "../../src/manage/app-settings-plan.js";
import { planUpgradeKms, readKmsImplementation } from "../../src/manage/kms-upgrade-plan.js";
import type { ChangePlan } from "../../src/manage/planned-call.js";
import { assertSigner } from "../../src/manage/send-direct.js";
import { assertTarget } from "../../src/manage/targets.js";
import type { SendArgs } from "./allowlist-action.js";
import { applyPlan } from "./apply-plan.js";
import { parseAddress } from "./args.js";
import { connectSigner } from "./connection.js";
import { deployWith } from "./deploy.js";
import { runCommand } from "./output.js";
import { parseRoute } from "./route-args.js";
import { checkUpgrade, parseUpgradeOptions, resolveCandidate, resolveReference, withUpgradeReport, type UpgradeCheck } from "./upgrade-check.js";

export interface UpgradeArgs extends SendArgs {
  implementation: string | undefined;
  deployImplementation: boolean;
  contract: string | undefined;
  reference: string | undefined;
  callData: string | undefined;
}

/** What differs between upgrading an app proxy and a KMS proxy. */
interface UpgradeTarget {
  role: "app" | "kms";
  /** This project's contract deployed by --deploy-implementation without --contract. */
  defaultContract: "DstackApp" | "DstackKms";
  /** Refuses a proxy that is not of this kind (or, for an app, whose upgrades are disabled). */
  assertUpgradable: (client: PublicClient, proxy: Address) => Promise<unknown>;
  readImplementation: (client: PublicClient, proxy: Address) => Promise<Address>;
  plan: (client: PublicClient, proxy: Address, implementation: Address, callData: Hex | undefined) => Promise<ChangePlan>;
}

export const APP_UPGRADE: UpgradeTarget = {
  role: "app",
  defaultContract: "DstackApp",
  assertUpgradable,
  readImplementation,
  plan: planUpgradeApp,
};

export const KMS_UPGRADE: UpgradeTarget = {
  role: "kms",
  defaultContract: "DstackKms",
  assertUpgradable: (client, kms) => assertTarget(client, "kms", kms),
  readImplementation: readKmsImplementation,
  plan: planUpgradeKms,
};

/**
 * upgrade-app and upgrade-kms: the new implementation is checked with OpenZeppelin's
 * validator (upgrade safety and storage layout against the current implementation, or
 * upstream's with --reference upstream) before anything is sent.
 */
export async function runUpgrade(target: UpgradeTarget, proxyFlagValue: string | undefined, args: UpgradeArgs, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(args.json, async () => {
    const proxy = parseAddress(proxyFlagValue, `--${target.role}`);
    const { given, callData } = parseUpgradeOptions(args);

    const route = parseRoute(args);
    const { connection, publicClient, signer, networkName } = await connectSigner(hre, args.from);
    const check = async (candidate: Awaited<ReturnType<typeof resolveCandidate>>): Promise<UpgradeCheck> =>
      checkUpgrade(await resolveReference(hre.artifacts, publicClient, target.role, await target.readImplementation(publicClient, proxy), args.reference), candidate);
    let implementation: Address;
    let deployed: { address: Address; transactionHash: Hex; gasUsed: bigint } | undefined;
    let upgradeCheck: UpgradeCheck | undefined;
    if (given !== undefined) {
      implementation = given;
    } else {
      // Everything that would stop the upgrade is checked before the implementation is
      // deployed, so a refused upgrade (wrong contract, upgrades disabled, signer not the
      // owner, no funds) sends nothing at all.
      await target.assertUpgradable(publicClient, proxy);
      // On a governance route the Safe or timelock must be the owner; the signer only deploys.
      await assertRouteSender(publicClient, proxy, { role: "owner" }, route, getAddress(signer.account.address));
      if (route.kind === "direct") await assertSigner(publicClient, getAddress(signer.account.address), proxy, { role: "owner" });
      // The new implementation must keep the current one's storage layout and be
      // upgrade-safe; checked from build info before it is deployed.
      const candidate = await resolveCandidate(hre.artifacts, publicClient, args.contract ?? target.defaultContract);
      upgradeCheck = await check(candidate);
      // deployWith deploys any contract of this project's artifacts.
      deployed = await deployWith(hre, connection, publicClient, signer, candidate.name as typeof target.defaultContract, []);
      implementation = deployed.address;
      console.error(`deployed ${candidate.name} implementation ${implementation} (tx ${deployed.transactionHash})`);
    }

    const plan = await target.plan(publicClient, proxy, implementation, callData);
    if (upgradeCheck === undefined && plan.calls.length > 0) upgradeCheck = await check(await resolveCandidate(hre.artifacts, publicClient, args.contract, implementation));
    const result = await applyPlan(publicClient, signer, plan, {
      dryRun: args.dryRun,
      route,
      networkName,
      confirm: async () => {
        const now = await target.readImplementation(publicClient, proxy);
        return { ok: now === getAddress(implementation), detail: `implementation is ${now}` };
      },
    });
    return withUpgradeReport(result, upgradeCheck, deployed);
  });
}
