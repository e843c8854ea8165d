import { OnchainBatch } from "../attestation/onchain-batch.js";
import type { ChainClient } from "../chain/clients.js";
import type { MonitorTargetConfig } from "./config.js";
import { Semaphore } from "./semaphore.js";
import { checkTarget, errorResult, type TargetCheckOptions, type TargetResult } from "./target-check.js";

/** A configured target with the client of its chain (targets of one chain share the client). */
export interface ResolvedTarget {
  config: MonitorTargetConfig;
  client: ChainClient;
}

export interface RoundOptions extends TargetCheckOptions {
  /** Targets fetched and verified at once. */
  concurrency: number;
  /**
   * `true` (default): the on-chain reads of a round are batched per chain, one
   * `readContracts` (one Multicall3 request where deployed) for all targets of the chain.
   * `false`: each verification reads for itself.
   */
  batchOnchain?: boolean;
  /**
   * A target without a verdict after this long (default 120 s) is reported as `error` and
   * its ticket closed, so one hung service (a CVM trickling bytes, a slow PCCS) cannot
   * stall the round's on-chain read for every other target. Time spent waiting for the
   * batch does not count: that is waiting for the others, each under its own deadline.
   */
  targetTimeoutMs?: number;
}

export const DEFAULT_TARGET_TIMEOUT_MS = 120_000;

/**
 * Verifies every target once, concurrently. Results come back in target order.
 *
 * Batching: every target takes a ticket of its chain's `OnchainBatch` before any work
 * starts; the batch reads once all tickets have asked or been closed. A verification
 * waiting for the batch gives its concurrency place back, so the next targets can be
 * fetched and reach the batch too (holding the place would deadlock as soon as there are
 * more targets than places). The bound thus limits CVM fetches and verification work, not
 * parked verifications. A ticket is closed when its verification returns, so one that ended
 * early (fetch error, bad quote) never holds the others up.
 */
export async function runRound(targets: readonly ResolvedTarget[], options: RoundOptions): Promise<TargetResult[]> {
  const batches = new Map<ChainClient, OnchainBatch>();
  const tickets = targets.map((target) => {
    if (options.batchOnchain === false) return undefined;
    let batch = batches.get(target.client);
    if (batch === undefined) {
      batch = new OnchainBatch(target.client);
      batches.set(target.client, batch);
    }
    return batch.ticket();
  });
  const places = new Semaphore(options.concurrency);
  const timeoutMs = options.targetTimeoutMs ?? DEFAULT_TARGET_TIMEOUT_MS;
  return Promise.all(
    targets.map(async (target, i) => {
      const ticket = tickets[i];
      const release = await places.acquire();
      const deadline = new Deadline(timeoutMs);
      try {
        const parked =
          ticket === undefined
            ? undefined
            : {
                check: (input: Parameters<typeof ticket.check>[0]) => {
                  // Waiting for the batch is waiting for the others, each under its own
                  // deadline: this target's own work is done, so its clock stops here.
                  deadline.disarm();
                  release();
                  return ticket.check(input);
                },
              };
        return await deadline.race(checkTarget(target.config, target.client, parked, options), () =>
          errorResult(target.config, `no verdict within ${timeoutMs / 1000} s (the CVM or a verification service did not answer in time)`, timeoutMs),
        );
      } finally {
        deadline.disarm();
        ticket?.close();
        release();
      }
    }),
  );
}

/**
 * A per-target time limit. The work is not cancelled (it cannot be), only no longer waited
 * for: the caller closes its ticket, so if it reaches the chain later its read is refused
 * and its verdict discarded.
 */
class Deadline {
  #timer: NodeJS.Timeout | undefined;
  #expired: Promise<void>;
  constructor(ms: number) {
    this.#expired = new Promise<void>((resolve) => (this.#timer = setTimeout(resolve, ms)));
  }
  disarm(): void {
    clearTimeout(this.#timer);
  }
  race<T>(work: Promise<T>, late: () => T): Promise<T> {
    return Promise.race([work, this.#expired.then(late)]);
  }
}
