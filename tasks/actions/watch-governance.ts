import { appendFile, readFile, rename, writeFile } from "node:fs/promises";

import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { getAddress, type Address } from "viem";

import { assertAppContract, assertKmsContract } from "../../src/chain/contract-checks.js";
import { findDeploymentBlock } from "../../src/chain/deployment-block.js";
import { InvalidInputError } from "../../src/util/errors.js";
import { escapeTerminalText } from "../../src/util/terminal-text.js";
import { describeGovernanceEvent, readGovernanceEvents, type GovernanceEvent, type GovernedRole } from "../../src/watch/governance-events.js";
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

interface Cursor {
  version: 1;
  chainId: number;
  contracts: Array<{ address: Address; role: GovernedRole }>;
  /** The first block not yet read. */
  nextBlock: string;
}

function parseCount(value: string | undefined, flag: string, fallback: bigint): bigint {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value.trim())) throw new InvalidInputError(`${flag}: expected a whole number, got ${JSON.stringify(value)}`);
  return BigInt(value.trim());
}

async function readCursor(path: string): Promise<Cursor | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new InvalidInputError(`--cursor: cannot read ${path} (${(error as Error).message})`);
  }
  try {
    const cursor = JSON.parse(text) as Cursor;
    if (cursor.version !== 1 || !/^\d+$/.test(cursor.nextBlock) || !Array.isArray(cursor.contracts)) throw new Error("unexpected shape");
    return cursor;
  } catch (error) {
    throw new InvalidInputError(`--cursor: ${path} is not a watch-governance cursor (${(error as Error).message})`);
  }
}

// Written to a temporary file and renamed, so an interrupted write never loses the position.
async function writeCursor(path: string, cursor: Cursor): Promise<void> {
  await writeFile(`${path}.tmp`, `${JSON.stringify(cursor, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}

const sleep = (ms: number, stop: () => boolean) =>
  new Promise<void>((resolve) => {
    const started = Date.now();
    const tick = setInterval(() => {
      if (stop() || Date.now() - started >= ms) {
        clearInterval(tick);
        resolve();
      }
    }, 100);
  });

export default async function (args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(
    args.json,
    async () => {
      const contracts: Cursor["contracts"] = [];
      if (args.app !== undefined) contracts.push({ address: parseAddress(args.app, "--app"), role: "app" });
      if (args.kms !== undefined) contracts.push({ address: parseAddress(args.kms, "--kms"), role: "kms" });
      if (contracts.length === 0) throw new InvalidInputError("give --app ADDRESS and/or --kms ADDRESS");
      const interval = Number(parseCount(args.interval, "--interval", 12n));
      if (interval < 1) throw new InvalidInputError("--interval: at least 1 second");
      const confirmations = parseCount(args.confirmations, "--confirmations", 0n);
      const givenFrom = args.fromBlock === undefined ? undefined : parseCount(args.fromBlock, "--from-block", 0n);
      const givenTo = args.toBlock === undefined ? undefined : parseCount(args.toBlock, "--to-block", 0n);
      if (args.follow && givenTo !== undefined) throw new InvalidInputError("--follow and --to-block exclude each other");
      const saved = args.cursor === undefined ? undefined : await readCursor(args.cursor);

      const { publicClient, chainId } = await connectChain(hre, { readOnly: true });
      for (const c of contracts) {
        if (c.role === "app") await assertAppContract(publicClient, c.address);
        else await assertKmsContract(publicClient, c.address);
      }
      if (saved !== undefined) {
        const same = saved.chainId === chainId && JSON.stringify(saved.contracts.map((c) => [getAddress(c.address), c.role]).sort()) === JSON.stringify(contracts.map((c) => [c.address, c.role]).sort());
        if (!same) throw new InvalidInputError(`--cursor: ${args.cursor} belongs to other contracts or chain ${saved.chainId}; use another cursor file`);
      }
      let next =
        saved !== undefined
          ? BigInt(saved.nextBlock)
          // biome-ignore lint/complexity/useMathMinMax: bigints; Math.min does not take them
          : givenFrom ?? (await Promise.all(contracts.map((c) => findDeploymentBlock(publicClient, c.address)))).reduce((a, b) => (a < b ? a : b)); // bigints: no Math.min

      let stop = false;
      const onSigint = () => {
        stop = true;
        if (!args.json) console.error("stopping after this round…");
      };
      process.on("SIGINT", onSigint);
      let total = 0;
      try {
        do {
          const head = (await publicClient.getBlockNumber({ cacheTime: 0 })) - confirmations;
          const to = givenTo !== undefined && givenTo < head ? givenTo : head;
          if (to >= next) {
            const { events } = await readGovernanceEvents(publicClient, {
              contracts,
              fromBlock: next,
              toBlock: to,
              onProgress: (p) => {
                if (!args.json && p.totalBlocks > 10_000n) process.stderr.write(`scanned ${p.scannedBlocks}/${p.totalBlocks} blocks, ${p.logs} logs\n`);
              },
            });
            await emit(events, args);
            total += events.length;
            next = to + 1n;
            if (args.cursor !== undefined) await writeCursor(args.cursor, { version: 1, chainId, contracts, nextBlock: next.toString() });
          }
          if (args.follow && !stop) await sleep(interval * 1000, () => stop);
        } while (args.follow && !stop);
      } finally {
        process.off("SIGINT", onSigint);
      }
      return {
        ok: true,
        data: { summary: { chainId, events: total, nextBlock: next.toString() } },
        lines: [`${total} governance event(s); next block ${next}${args.cursor === undefined ? "" : ` (saved in ${args.cursor})`}`],
      };
    },
    { jsonLines: true },
  );
}

async function emit(events: GovernanceEvent[], args: Args): Promise<void> {
  const lines = events.map((event) => JSON.stringify({ time: new Date(Number(event.blockTimestamp) * 1000).toISOString(), ...event }, jsonReplacer));
  if (args.out !== undefined && lines.length > 0) {
    await appendFile(args.out, `${lines.join("\n")}\n`).catch((error: NodeJS.ErrnoException) => {
      throw new InvalidInputError(`--out: cannot write ${args.out} (${error.code ?? error.message})`);
    });
  }
  for (const [i, event] of events.entries()) console.log(args.json ? lines[i] : escapeTerminalText(describeGovernanceEvent(event)));
}
