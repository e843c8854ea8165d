import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { InvalidInputError } from "../../src/util/errors.js";
import { escapeTerminalText } from "../../src/util/terminal-text.js";
import { readWatchCursor } from "../../src/watch/cursor.js";
import { describeGovernanceEvent } from "../../src/watch/governance-events.js";
import { governanceEventRecord, watchGovernance, type WatchGovernanceOptions } from "../../src/watch/watch.js";
import { parseAddress } from "../lib/args.js";
import { connectChain } from "../lib/connection.js";
import { jsonReplacer, runCommand } from "../lib/output.js";

interface Args {
  app: string | undefined;
  kms: string | undefined;
  fromBlock: string | undefined;
  toBlock: string | undefined;
  cursor: string | undefined;
  out: string | undefined;
  follow: boolean;
  interval: string | undefined;
  confirmations: string | undefined;
  json: boolean;
}

function parseCount(value: string | undefined, flag: string, fallback: bigint): bigint {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value.trim())) throw new InvalidInputError(`${flag}: expected a whole number, got ${JSON.stringify(value)}`);
  return BigInt(value.trim());
}

export default async function (args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(
    args.json,
    async () => {
      const contracts: WatchGovernanceOptions["contracts"] = [];
      if (args.app !== undefined) contracts.push({ address: parseAddress(args.app, "--app"), role: "app" });
      if (args.kms !== undefined) contracts.push({ address: parseAddress(args.kms, "--kms"), role: "kms" });
      if (contracts.length === 0) throw new InvalidInputError("give --app ADDRESS and/or --kms ADDRESS");
      const interval = Number(parseCount(args.interval, "--interval", 12n));
      if (interval < 1) throw new InvalidInputError("--interval: at least 1 second");
      const confirmations = parseCount(args.confirmations, "--confirmations", 0n);
      const givenFrom = args.fromBlock === undefined ? undefined : parseCount(args.fromBlock, "--from-block", 0n);
      const givenTo = args.toBlock === undefined ? undefined : parseCount(args.toBlock, "--to-block", 0n);
      if (args.follow && givenTo !== undefined) throw new InvalidInputError("--follow and --to-block exclude each other");
      const cursor = args.cursor === undefined ? undefined : { path: args.cursor, saved: await readWatchCursor(args.cursor) };

      const { publicClient, chainId } = await connectChain(hre, { readOnly: true });
      const stop = new AbortController();
      const onSigint = () => {
        stop.abort();
        if (!args.json) console.error("stopping after this round…");
      };
      process.on("SIGINT", onSigint);
      let watched: { events: number; nextBlock: bigint };
      try {
        watched = await watchGovernance(publicClient, {
          chainId,
          contracts,
          ...(givenFrom === undefined ? {} : { fromBlock: givenFrom }),
          ...(givenTo === undefined ? {} : { toBlock: givenTo }),
          confirmations,
          follow: args.follow,
          intervalMs: interval * 1000,
          signal: stop.signal,
          ...(cursor === undefined ? {} : { cursor }),
          ...(args.out === undefined ? {} : { out: args.out }),
          onEvents: (events) => {
            for (const event of events) console.log(args.json ? JSON.stringify(governanceEventRecord(event), jsonReplacer) : escapeTerminalText(describeGovernanceEvent(event)));
          },
          onProgress: (p) => {
            if (!args.json && p.totalBlocks > 10_000n) process.stderr.write(`scanned ${p.scannedBlocks}/${p.totalBlocks} blocks, ${p.logs} logs\n`);
          },
        });
      } finally {
        process.off("SIGINT", onSigint);
      }
      const total = watched.events;
      const next = watched.nextBlock;
      return {
        ok: true,
        data: { summary: { chainId, events: total, nextBlock: next.toString() } },
        lines: [`${total} governance event(s); next block ${next}${args.cursor === undefined ? "" : ` (saved in ${args.cursor})`}`],
      };
    },
    { jsonLines: true },
  );
}
