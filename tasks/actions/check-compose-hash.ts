import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { assertAppContract } from "../../src/chain/contract-checks.js";
import { readAllowlist } from "../../src/manage/allowlist-plan.js";
import { collectComposeHashes } from "../lib/compose-args.js";
import type { ComposeBuildArgs, HashSourceArgs } from "../lib/compose-options.js";
import { connectChain } from "../lib/connection.js";
import { parseContractRef, resolveContractRef } from "../lib/deployments.js";
import { runCommand } from "../lib/output.js";

export default async function (args: HashSourceArgs & ComposeBuildArgs & { app: string | undefined; json: boolean }, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(args.json, async () => {
    const appRef = parseContractRef(args.app, "--app");
    const sources = await collectComposeHashes(args);
    const { publicClient, chainId } = await connectChain(hre, { readOnly: true });
    const app = resolveContractRef(hre, appRef, "--app", chainId);
    await assertAppContract(publicClient, app);
    const blockNumber = await publicClient.getBlockNumber();
    const allowed = await readAllowlist(publicClient, "compose-hash", app, sources.map((s) => s.composeHash));
    const results = sources.map((source, i) => ({ composeHash: source.composeHash, source: source.source, allowed: allowed[i] === true }));
    return {
      ok: results.every((result) => result.allowed),
      data: { app, chainId, blockNumber, results },
      lines: results.map(
        (r) => `${r.allowed ? "ALLOWED    " : "NOT ALLOWED"} ${r.composeHash} (${r.source}) on app ${app}, chain ${chainId}, block ${blockNumber}`,
      ),
    };
  });
}
