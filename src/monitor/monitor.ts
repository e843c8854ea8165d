import { runRound, type ResolvedTarget, type RoundOptions } from "./round.js";
import { sleep } from "../util/sleep.js";
import { detectChange, type StateChange, type TargetMemory } from "./state.js";
import type { TargetResult } from "./target-check.js";
import { postWebhook, type WebhookOptions, type WebhookOutcome } from "./webhook.js";

export interface MonitorOptions extends RoundOptions {
  /** Between round starts; a round longer than this is followed at once by the next. */
  intervalMs: number;
  /** One round only. */
  once?: boolean;
  /** Stop after this many rounds (tests, bounded runs). */
  maxRounds?: number;
  /** Stops the monitor after the round in progress (Ctrl-C); a wait between rounds ends at once. */
  signal?: AbortSignal;
  /** Where changes are POSTed. */
  webhook?: { url: string } & WebhookOptions;
  /** Called after every round (and its notifications), before the wait. Awaited. */
  onRound?: (report: RoundReport) => void | Promise<void>;
}

export interface RoundReport {
  round: number;
  startedAt: Date;
  durationMs: number;
  results: TargetResult[];
  /** The changes of this round, in target order (each POSTed to the webhook, if any). */
  changes: StateChange[];
  /** One per change when a webhook is configured, same order. */
  notifications: Array<{ change: StateChange; outcome: WebhookOutcome }>;
}

export interface MonitorSummary {
  rounds: number;
  last: RoundReport | undefined;
  /** Every target passed in the last round. */
  ok: boolean;
}

/**
 * Verifies every target each `intervalMs` until stopped (or once), detecting changes of
 * state or compose hash between rounds and posting each to the webhook. A failed
 * notification is reported in the round's report, never fatal. The signal stops the loop
 * cleanly: the round in progress completes, is reported, and no new one starts.
 */
export async function runMonitor(targets: readonly ResolvedTarget[], options: MonitorOptions): Promise<MonitorSummary> {
  const memory = new Map<string, TargetMemory>();
  let last: RoundReport | undefined;
  let round = 0;
  for (;;) {
    round += 1;
    const startedAt = new Date();
    const results = await runRound(targets, options);
    const changes: StateChange[] = [];
    for (const result of results) {
      const { change, memory: kept } = detectChange(memory.get(result.target), result, round);
      memory.set(result.target, kept);
      if (change !== undefined) changes.push(change);
    }
    const webhook = options.webhook;
    // One after the other, so the receiver gets them in target order.
    const notifications: RoundReport["notifications"] = [];
    if (webhook !== undefined) for (const change of changes) notifications.push({ change, outcome: await postWebhook(webhook.url, change, webhook) });
    last = { round, startedAt, durationMs: Date.now() - startedAt.getTime(), results, changes, notifications };
    await options.onRound?.(last);
    if (options.once === true || stopped(options.signal) || (options.maxRounds !== undefined && round >= options.maxRounds)) break;
    await sleep(options.intervalMs - (Date.now() - startedAt.getTime()), options.signal);
    if (stopped(options.signal)) break;
  }
  return { rounds: round, last, ok: last?.results.every((r) => r.ok) ?? false };
}

// A function, not an inline test: the signal changes while the loop awaits.
const stopped = (signal: AbortSignal | undefined) => signal?.aborted === true;
