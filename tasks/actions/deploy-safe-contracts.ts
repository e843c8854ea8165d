import { existsSync } from "node:fs";

import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { deploySafeContracts } from "../../src/governance/deploy.js";
import { readTextFile, writeTextFile } from "../../src/util/files.js";
import { canonicalSafeContracts, codeHashAt, SAFE_CONTRACT_KEYS } from "../../src/governance/safe-contracts.js";
import { InvalidInputError } from "../../src/util/errors.js";
import { connectSigner } from "../lib/connection.js";
import { runCommand } from "../lib/output.js";

/**
 * Deploys the Safe v1.4.1 contracts from `@safe-global/safe-contracts` (a local chain has
 * no canonical deployment) and writes their addresses, keyed by chain id, in
 * protocol-kit's `contractNetworks` shape: the file every `--safe-contracts` takes.
 */
export default async function (args: { out: string | undefined; from: string | undefined; json: boolean }, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(args.json, async () => {
    const out = args.out ?? "safe-contracts.json";
    let existing: Record<string, unknown> = {};
    if (existsSync(out)) {
      try {
        existing = JSON.parse(await readTextFile(out, "--out")) as Record<string, unknown>;
      } catch {
        throw new InvalidInputError(`--out: ${out} exists and is not JSON; choose another file`);
      }
      if (typeof existing !== "object" || existing === null || Array.isArray(existing)) throw new InvalidInputError(`--out: ${out} exists and is not a JSON object`);
    }
    const { publicClient, signer, chainId } = await connectSigner(hre, args.from);
    const canonical = canonicalSafeContracts(chainId);
    if (canonical !== undefined && (await codeHashAt(publicClient, canonical.safeSingletonAddress)) !== undefined) {
      await writeTextFile(out, `${JSON.stringify({ ...existing, [String(chainId)]: canonical }, null, 2)}\n`, "--out");
      return {
        ok: true,
        data: { chainId, deployed: false, canonical: true, contracts: canonical, out },
        lines: [`= chain ${chainId} has the canonical Safe v1.4.1 deployments; nothing deployed`, `addresses written to ${out}`],
      };
    }
    const { contracts, deployed } = await deploySafeContracts(publicClient, signer, (key, entry) => console.error(`deployed ${key} at ${entry.address}`));
    await writeTextFile(out, `${JSON.stringify({ ...existing, [String(chainId)]: contracts }, null, 2)}\n`, "--out");
    return {
      ok: true,
      data: { chainId, deployed: true, contracts, transactions: deployed, out },
      lines: [
        `Safe v1.4.1 contracts deployed on chain ${chainId}:`,
        ...SAFE_CONTRACT_KEYS.map((key) => `  ${key.padEnd(26)} ${contracts[key]}`),
        `addresses written to ${out} (pass --safe-contracts ${out})`,
      ],
    };
  });
}
