import { appendFile } from "node:fs/promises";

import type { Address, PublicClient } from "viem";

import { assertAppContract, assertKmsContract } from "../chain/contract-checks.js";
import { findDeploymentBlock } from "../chain/deployment-block.js";
import type { ScanProgress } from "../chain/log-scan.js";
import { sleep } from "../util/sleep.js";
import { InvalidInputError } from "../util/errors.js";
import { assertCursorMatches, writeWatchCursor, type WatchCursor } from "./cursor.js";
import { readGovernanceEvents, type GovernanceEvent, type GovernedRole } from "./governance-events.js";

export interface WatchGovernanceOptions {
  chainId: number;
  contracts: Array<{ address: Address; role: GovernedRole }>;
  /** First block to read (default: the earliest deployment block of the contracts); a saved cursor wins. */
  fromBlock?: bigint;
  /** Last block to read (default: the head less `confirmations`); not with `follow`. */
  toBlock?: bigint;
  /** Blocks below the head left unread, so a reorg does not show a decision that did not stay. */
  confirmations: bigint;
  /** Keep reading new blocks every `intervalMs` until `signal` aborts. */
  follow: boolean;
  intervalMs: number;
  signal?: AbortSignal;
  /** A cursor file: read position resumed from `saved`, and rewritten after every round. */
  cursor?: { path: string; saved: WatchCursor | undefined };
  /** A JSON-lines file each event is appended to (see `governanceEventRecord`). */
  out?: string;
  /** Called with each round's events, in chain order (possibly none). */
  onEvents?: (events: GovernanceEvent[]) => void | Promise<void>;
  onProgress?: (progress: ScanProgress) => void;
}

export interface WatchGovernanceResult {
  /** Events read over all rounds. */
  events: number;
  /** The first block not yet read. */
  nextBlock: bigint;
}

/** One event as a record of a JSON-lines log: the block time as ISO 8601, then the event. */
export function governanceEventRecord(event: GovernanceEvent): { time: string } & GovernanceEvent {
  return { time: new Date(Number(event.blockTimestamp) * 1000).toISOString(), ...event };
}

/**
 * Reads the governance events of app and KMS contracts: once over a block range, or
 * (`follow`) round after round as blocks arrive. The contracts must be what they are said
 * to be, and a cursor must belong to them and this chain, before anything is read. After
 * each round the events go to `out` and `onEvents`, then the cursor moves past them; an
 * interrupted run therefore repeats at most one round, never skips one.
 */
export async function watchGovernance(client: PublicClient, options: WatchGovernanceOptions): Promise<WatchGovernanceResult> {
  if (options.follow && options.toBlock !== undefined) throw new InvalidInputError("follow and toBlock: they exclude each other", { field: "follow and toBlock" });
  for (const c of options.contracts) {
    if (c.role === "app") await assertAppContract(client, c.address);
    else await assertKmsContract(client, c.address);
  }
  const saved = options.cursor?.saved;
  if (saved !== undefined) assertCursorMatches(saved, options.cursor!.path, options.chainId, options.contracts);
  let next =
    saved !== undefined
      ? BigInt(saved.nextBlock)
      : // biome-ignore lint/complexity/useMathMinMax: block numbers are bigints, which Math.min does not take
        options.fromBlock ?? (await Promise.all(options.contracts.map((c) => findDeploymentBlock(client, c.address)))).reduce((a, b) => (a < b ? a : b));

  let total = 0;
  do {
    const head = (await client.getBlockNumber({ cacheTime: 0 })) - options.confirmations;
    const to = options.toBlock !== undefined && options.toBlock < head ? options.toBlock : head;
    if (to >= next) {
      const { events } = await readGovernanceEvents(client, {
        contracts: options.contracts,
        fromBlock: next,
        toBlock: to,
        ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
      });
      if (options.out !== undefined && events.length > 0) await appendEvents(options.out, events);
      await options.onEvents?.(events);
      total += events.length;
      next = to + 1n;
      if (options.cursor !== undefined) {
        await writeWatchCursor(options.cursor.path, { version: 1, chainId: options.chainId, contracts: options.contracts, nextBlock: next.toString() });
      }
    }
    if (options.follow && options.signal?.aborted !== true) await sleep(options.intervalMs, options.signal);
  } while (options.follow && options.signal?.aborted !== true);
  return { events: total, nextBlock: next };
}

async function appendEvents(path: string, events: GovernanceEvent[]): Promise<void> {
  const text = events.map((event) => JSON.stringify(governanceEventRecord(event), (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value))).join("\n");
  await appendFile(path, `${text}\n`).catch((error: NodeJS.ErrnoException) => {
    throw new InvalidInputError(`out: cannot write ${path} (${error.code ?? error.message})`, { field: "out" });
  });
}
