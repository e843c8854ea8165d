import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { getAddress, type Address, type Hex } from "viem";

import { assertUpgradable, planUpgradeApp, readImplementation } from "../../src/manage/app-settings-plan.js";
import { assertRouteSender } from "../../src/governance/route-authorization.js";
import { assertSigner } from "../../src/manage/send-direct.js";
import type { SendArgs } from "../lib/allowlist-action.js";
import { applyPlan } from "../lib/apply-plan.js";
import { parseAddress } from "../lib/args.js";
import { connectSigner } from "../lib/connection.js";
import { deployWith } from "../lib/deploy.js";
import { runCommand } from "../lib/output.js";
import { checkUpgrade, resolveCandidate, resolveReference, parseUpgradeOptions, withUpgradeReport, type UpgradeCheck } from "../lib/upgrade-check.js";
import { parseRoute } from "../lib/route-args.js";

interface Args extends SendArgs {
  app: string | undefined;
  implementation: string | undefined;
  deployImplementation: boolean;
  contract: string | undefined;
  reference: string | undefined;
  callData: string | undefined;
}

export default async function (args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(args.json, async () => {
    const app = parseAddress(args.app, "--app");
    const { given, callData } = parseUpgradeOptions(args);

    const route = parseRoute(args);
    const { connection, publicClient, signer, networkName } = await connectSigner(hre, args.from);
    let implementation: Address;
    let deployed: { address: Address; transactionHash: Hex; gasUsed: bigint } | undefined;
    let upgradeCheck: UpgradeCheck | undefined;
    if (given !== undefined) {
      implementation = given;
    } else {
      // Everything that would stop the upgrade is checked before the implementation is
      // deployed, so a refused upgrade (not an app, upgrades disabled, signer not the
      // owner, no funds) sends nothing at all.
      await assertUpgradable(publicClient, app);
      // On a governance route the Safe or timelock must be the owner; the signer only deploys.
      await assertRouteSender(publicClient, app, { role: "owner" }, route, getAddress(signer.account.address));
      if (route.kind === "direct") await assertSigner(publicClient, getAddress(signer.account.address), app, { role: "owner" });
      // The new implementation must keep the current one's storage layout and be
      // upgrade-safe; checked from build info before it is deployed.
      const candidate = await resolveCandidate(hre.artifacts, publicClient, args.contract ?? "DstackApp");
      upgradeCheck = checkUpgrade(await resolveReference(hre.artifacts, publicClient, "app", await readImplementation(publicClient, app), args.reference), candidate);
      // deployWith deploys any contract of this project's artifacts.
      deployed = await deployWith(hre, connection, publicClient, signer, candidate.name as "DstackApp", []);
      implementation = deployed.address;
      console.error(`deployed ${candidate.name} implementation ${implementation} (tx ${deployed.transactionHash})`);
    }

    const plan = await planUpgradeApp(publicClient, app, implementation, callData);
    if (upgradeCheck === undefined && plan.calls.length > 0) {
      const candidate = await resolveCandidate(hre.artifacts, publicClient, args.contract, implementation);
      upgradeCheck = checkUpgrade(await resolveReference(hre.artifacts, publicClient, "app", await readImplementation(publicClient, app), args.reference), candidate);
    }
    const result = await applyPlan(publicClient, signer, plan, {
      dryRun: args.dryRun,
      route,
      networkName,
      confirm: async () => {
        const now = await readImplementation(publicClient, app);
        return { ok: now === getAddress(implementation), detail: `implementation is ${now}` };
      },
    });
    return withUpgradeReport(result, upgradeCheck, deployed);
  });
}
