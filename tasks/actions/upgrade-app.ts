import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { getAddress, type Address, type Hex } from "viem";

import { planUpgradeApp, readImplementation } from "../../src/manage/app-settings-plan.js";
import { InvalidInputError } from "../../src/util/errors.js";
import { parseHexBytes, toHex } from "../../src/util/hex.js";
import type { SendArgs } from "../lib/allowlist-action.js";
import { parseAddress } from "../lib/args.js";
import { connectSigner } from "../lib/connection.js";
import { runPlanAction } from "../lib/plan-action.js";

interface Args extends SendArgs {
  app?: string;
  implementation?: string;
  deployImplementation: boolean;
  callData?: string;
}

export default async function (args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  let implementation: Address | undefined;
  await runPlanAction(args, hre, {
    validate: async () => {
      const app = parseAddress(args.app, "--app");
      if ((args.implementation === undefined) === !args.deployImplementation) {
        throw new InvalidInputError("give exactly one of --implementation ADDRESS or --deploy-implementation");
      }
      const callData: Hex = args.callData === undefined ? "0x" : toHex(parseHexBytes(args.callData, "--call-data"));
      if (args.implementation !== undefined) implementation = parseAddress(args.implementation, "--implementation");
      else if (!args.dryRun) {
        // The new implementation must exist before the upgrade can be planned and simulated.
        const { connection } = await connectSigner(hre, args.from);
        const deployed = await connection.viem.deployContract("DstackApp", [], args.from === undefined ? {} : { client: { wallet: (await connectSigner(hre, args.from)).signer as never } });
        implementation = getAddress(deployed.address);
        if (!args.json) console.error(`deployed DstackApp implementation ${implementation}`);
      } else {
        throw new InvalidInputError("--deploy-implementation cannot be combined with --dry-run (the implementation would have to be deployed); deploy it first and pass --implementation");
      }
      return { app, callData };
    },
    plan: (client, { app, callData }) => planUpgradeApp(client, app, implementation!, callData),
    confirm: async (client, { app }) => {
      const now = await readImplementation(client, app);
      return { ok: now === getAddress(implementation!), detail: `implementation is ${now}` };
    },
  });
}
