import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { getAddress, type Address, type Hex } from "viem";

import { assertUpgradable, planUpgradeApp, readImplementation } from "../../src/manage/app-settings-plan.js";
import { assertRouteSender } from "../../src/governance/route-authorization.js";
import { parseRoute } from "../../src/governance/route.js";
import { assertSigner } from "../../src/manage/send-direct.js";
import { InvalidInputError } from "../../src/util/errors.js";
import { parseHexBytes, toHex } from "../../src/util/hex.js";
import type { SendArgs } from "../lib/allowlist-action.js";
import { applyPlan } from "../lib/apply-plan.js";
import { parseAddress } from "../lib/args.js";
import { connectSigner } from "../lib/connection.js";
import { deployWith } from "../lib/deploy.js";
import { runCommand } from "../lib/output.js";

interface Args extends SendArgs {
  app?: string;
  implementation?: string;
  deployImplementation: boolean;
  callData?: string;
}

export default async function (args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(args.json, async () => {
    const app = parseAddress(args.app, "--app");
    if ((args.implementation === undefined) === !args.deployImplementation) {
      throw new InvalidInputError("give exactly one of --implementation ADDRESS or --deploy-implementation");
    }
    const callData: Hex = args.callData === undefined ? "0x" : toHex(parseHexBytes(args.callData, "--call-data"));
    const given = args.implementation === undefined ? undefined : parseAddress(args.implementation, "--implementation");
    if (given === undefined && args.dryRun) {
      throw new InvalidInputError(
        "--deploy-implementation cannot be combined with --dry-run (the implementation would have to be deployed); deploy it first and pass --implementation",
      );
    }

    const route = parseRoute(args);
    const { connection, publicClient, signer, networkName } = await connectSigner(hre, args.from);
    let implementation: Address;
    let deployed: { address: Address; transactionHash: Hex; gasUsed: bigint } | undefined;
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
      deployed = await deployWith(hre, connection, publicClient, signer, "DstackApp", []);
      implementation = deployed.address;
      console.error(`deployed DstackApp implementation ${implementation} (tx ${deployed.transactionHash})`);
    }

    const plan = await planUpgradeApp(publicClient, app, implementation, callData);
    const result = await applyPlan(publicClient, signer, plan, {
      dryRun: args.dryRun,
      route,
      networkName,
      confirm: async () => {
        const now = await readImplementation(publicClient, app);
        return { ok: now === getAddress(implementation), detail: `implementation is ${now}` };
      },
    });
    if (deployed === undefined) return result;
    return {
      ...result,
      data: { ...result.data, deployedImplementation: deployed },
      lines: [`✔ deployed DstackApp implementation ${deployed.address}`, `  tx ${deployed.transactionHash}, gas used ${deployed.gasUsed}`, ...result.lines],
    };
  });
}
