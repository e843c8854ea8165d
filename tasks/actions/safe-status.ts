import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { zeroAddress } from "viem";

import { readSafe } from "../../src/governance/safe-state.js";
import { parseAddress } from "../lib/args.js";
import { connectChain } from "../lib/connection.js";
import { runCommand } from "../lib/output.js";

/** A Safe's owners, threshold, nonce, version, modules and guard. */
export default async function (args: { safe: string | undefined; json: boolean }, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(args.json, async () => {
    const address = parseAddress(args.safe, "--safe");
    const { publicClient, chainId } = await connectChain(hre);
    const safe = await readSafe(publicClient, address);
    const warnings: string[] = [];
    if (safe.threshold === 1n) warnings.push(`1-of-${safe.owners.length}: any single owner key can act alone`);
    if (safe.modules.length > 0) warnings.push(`module(s) enabled (${safe.modules.join(", ")}): they can execute without owner signatures`);
    if (safe.singletonRelease === null) warnings.push(`singleton ${safe.singleton} is not a Safe release this toolkit recognises`);
    return {
      ok: true,
      data: { chainId, ...safe, warnings },
      lines: [
        `Safe ${safe.address} (chain ${chainId})`,
        `  version     ${safe.version}${safe.singletonRelease === null ? "" : ` (singleton ${safe.singleton}: ${safe.singletonRelease} code)`}`,
        `  threshold   ${safe.threshold} of ${safe.owners.length}`,
        // One line per owner: a line holding "\n" would be printed escaped, as one line.
        ...safe.owners.map((owner, i) => `  ${i === 0 ? "owners     " : "           "} ${owner}`),
        `  nonce       ${safe.nonce} (the next proposal to execute must carry it)`,
        `  modules     ${safe.modules.length === 0 ? "none" : safe.modules.join(", ")}`,
        `  guard       ${safe.guard === zeroAddress ? "none" : safe.guard}`,
        `  fallback    ${safe.fallbackHandler === zeroAddress ? "none" : safe.fallbackHandler}`,
        ...warnings.map((warning) => `⚠ ${warning}`),
      ],
    };
  });
}
