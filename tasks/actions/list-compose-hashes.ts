import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { assertAppContract } from "../../src/chain/contract-checks.js";
import { readComposeHashHistory, type ComposeHashHistoryOptions } from "../../src/chain/compose-hash-history.js";
import { InvalidInputError } from "../../src/util/errors.js";
import { connectChain } from "../lib/connection.js";
import { parseContractRef, resolveContractRef } from "../lib/deployments.js";
import { runCommand } from "../lib/output.js";

interface Args {
  app: string | undefined;
  fromBlock: string | undefined;
  toBlock: string | undefined;
  chunkSize: string | undefined;
  quiet: boolean;
  json: boolean;
}

function parseBlock(value: string | undefined, flag: string): bigint | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim())) throw new InvalidInputError(`${flag}: expected a block number, got ${JSON.stringify(value)}`);
  return BigInt(value.trim());
}

const iso = (seconds: bigint) => new Date(Number(seconds) * 1000).toISOString().replace(".000Z", "Z");

export default async function (args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(args.json, async () => {
    const appRef = parseContractRef(args.app, "--app");
    const fromBlock = parseBlock(args.fromBlock, "--from-block");
    const toBlock = parseBlock(args.toBlock, "--to-block");
    const chunk = parseBlock(args.chunkSize, "--chunk-size");
    if (chunk !== undefined && chunk < 1n) throw new InvalidInputError("--chunk-size: must be at least 1");
    if (fromBlock !== undefined && toBlock !== undefined && fromBlock > toBlock) {
      throw new InvalidInputError(`--from-block ${fromBlock} is after --to-block ${toBlock}`);
    }
    const { publicClient, chainId } = await connectChain(hre, { readOnly: true });
    const app = resolveContractRef(hre, appRef, "--app", chainId);
    await assertAppContract(publicClient, app);

    const options: ComposeHashHistoryOptions = {};
    if (fromBlock !== undefined) options.fromBlock = fromBlock;
    if (toBlock !== undefined) options.toBlock = toBlock;
    if (chunk !== undefined) options.initialChunkSize = Number(chunk);
    let lastReport = 0;
    if (!args.quiet) {
      options.onProgress = (p) => {
        const now = Date.now();
        if (now - lastReport < 500 && p.scannedBlocks < p.totalBlocks) return;
        lastReport = now;
        const percent = p.totalBlocks === 0n ? 100 : Number((p.scannedBlocks * 100n) / p.totalBlocks);
        process.stderr.write(`scanning blocks ${p.fromBlock}..${p.toBlock}: ${percent}% (${p.requests} requests, ${p.logs} events)\n`);
      };
    }
    const history = await readComposeHashHistory(publicClient, app, options);
    const mismatches = history.crossCheck?.mismatches ?? [];
    const lines = [
      `app ${history.address} on chain ${history.chainId}, blocks ${history.fromBlock}..${history.toBlock}`,
      `allowed now (${history.allowed.length}):`,
      ...history.allowed.map((hash) => `  ${hash}`),
      "history:",
      ...history.hashes.flatMap((record) => [
        `  ${record.composeHash} — ${record.allowed ? "allowed" : "not allowed"}`,
        ...record.events.map((e) => `    ${e.action.padEnd(7)} block ${e.blockNumber} (${iso(e.blockTimestamp)}) tx ${e.transactionHash}`),
      ]),
      history.crossCheck === undefined
        ? "cross-check: skipped"
        : mismatches.length === 0
          ? `cross-check: ${history.crossCheck.checked} hash(es) agree with allowedComposeHashes at block ${history.crossCheck.blockNumber} (via ${history.crossCheck.via})`
          : `cross-check: ${mismatches.length} MISMATCH(ES) with allowedComposeHashes:`,
      ...mismatches.map((m) => `  ${m.composeHash}: events say ${m.fromEvents}, contract says ${m.onChain} — ${m.reason}`),
      ...(history.initializedInRange ? [] : ["note: the scan starts after the app's initialisation; earlier allowances are not listed"]),
      `(${history.stats.logRequests} eth_getLogs requests in ${history.stats.logChunks} chunks, ${history.stats.blockRequests} block requests)`,
    ];
    return { ok: mismatches.length === 0, data: { ...history }, lines };
  });
}
