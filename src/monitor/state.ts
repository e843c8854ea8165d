import type { TargetResult, TargetState } from "./target-check.js";

/** What the monitor remembers of a target between rounds. */
export interface TargetMemory {
  state: TargetState;
  /** The last compose hash seen (kept through rounds that could not read one). */
  composeHash: string | null;
  round: number;
}

export type ChangeKind = "state" | "compose-hash";

/** A change worth a notification: the webhook payload. */
export interface StateChange {
  event: "dstack-monitor.change";
  time: string;
  round: number;
  target: string;
  url: string;
  changes: ChangeKind[];
  previous: TargetMemory | null;
  current: Pick<TargetResult, "state" | "ok" | "failing" | "problems" | "composeHash" | "tcbStatus" | "error">;
}

/**
 * Compares a target's result with what was remembered of it:
 * - `state`: pass, fail and error differ from the last round (pass → fail, fail → pass,
 *   pass → error, …); on a target's first round, any state but pass (a monitor started
 *   against a broken CVM says so at once, a healthy start is silent);
 * - `compose-hash`: the attested compose hash differs from the last one seen, i.e. the
 *   CVM runs other code (rounds without a hash, such as fetch errors, do not count).
 * Returns the change (or undefined) and the memory to keep.
 */
export function detectChange(previous: TargetMemory | undefined, result: TargetResult, round: number): { change: StateChange | undefined; memory: TargetMemory } {
  const changes: ChangeKind[] = [];
  if (previous === undefined ? result.state !== "pass" : previous.state !== result.state) changes.push("state");
  if (previous?.composeHash != null && result.composeHash !== null && previous.composeHash !== result.composeHash) changes.push("compose-hash");
  const memory: TargetMemory = { state: result.state, composeHash: result.composeHash ?? previous?.composeHash ?? null, round };
  if (changes.length === 0) return { change: undefined, memory };
  return {
    change: {
      event: "dstack-monitor.change",
      time: result.time,
      round,
      target: result.target,
      url: result.url,
      changes,
      previous: previous ?? null,
      current: {
        state: result.state,
        ok: result.ok,
        failing: result.failing,
        problems: result.problems,
        composeHash: result.composeHash,
        tcbStatus: result.tcbStatus,
        error: result.error,
      },
    },
    memory,
  };
}
