import { toBareHex } from "../util/hex.js";
import { bytesEqual, sha384Into } from "./digest.js";
import { DSTACK_RUNTIME_EVENT_TYPE, type EventLogEntry } from "./event-log.js";
import { buildHashInput, runtimeEventDigest } from "./runtime-digest.js";
import { MEASUREMENT_BYTES, RTMR_INDEXES, type CheckResult, type RtmrIndex, type Rtmrs } from "./types.js";

export { runtimeEventDigest, runtimeEventHashInput, runtimeEventCanonicalJsonV2 } from "./runtime-digest.js";

/**
 * RTMR replay: each register starts as 48 zero bytes and every event of that register
 * extends it, in log order: `rtmr = SHA-384(rtmr || digest)`.
 *
 * Digests: a dstack runtime event (type 0x08000001) always uses the digest recomputed
 * from its name and payload (see runtime-digest.ts); a boot event uses the digest the
 * log gives, since its payload is stripped or not reproducible here.
 *
 * RTMR3 holds runtime events only: dstack extends it through its runtime-event path,
 * which always uses type 0x08000001. An event of any other type in IMR 3 would be
 * extended with a digest the log merely states, unbound to its name and payload, so a
 * log could carry an `app-id` (or any) event whose content nobody can check. Any such
 * event is an issue, which fails the replay check.
 *
 * A digest pre-image the log gives (`preimage`, or its old name `hash_input`) must be
 * exactly the bytes hashed. dstack gives pre-images and `version: 2` for runtime events
 * only; on a boot event they cannot mean anything and are an issue too.
 */

export type ReplayIssueKind =
  | "digest-mismatch"
  | "missing-digest"
  | "preimage-mismatch"
  | "hash-input-mismatch"
  | "preimage-on-boot-event"
  | "version-on-boot-event"
  | "not-runtime-event";

export interface ReplayIssue {
  kind: ReplayIssueKind;
  index: number;
  imr: RtmrIndex;
  event: string;
  message: string;
}

export interface RtmrReplay {
  /** The replayed registers. */
  rtmrs: Rtmrs;
  /** How many events extended each register. */
  eventCounts: readonly [number, number, number, number];
  /** Inconsistencies in the log itself; any issue fails the replay check. */
  issues: readonly ReplayIssue[];
}

/** Replays all four RTMRs from a parsed event log. Pure; never throws on log content. */
export function replayEventLog(events: readonly EventLogEntry[]): RtmrReplay {
  // Per register one 96-byte buffer: [0,48) the running value, [48,96) the digest being
  // extended, so each extension is a single hash call with no concatenation.
  const state = RTMR_INDEXES.map(() => Buffer.alloc(2 * MEASUREMENT_BYTES));
  const counts: [number, number, number, number] = [0, 0, 0, 0];
  const issues: ReplayIssue[] = [];

  for (const entry of events) {
    const slot = state[entry.imr]!;
    if (entry.eventType === DSTACK_RUNTIME_EVENT_TYPE) {
      const input = buildHashInput(entry.event, entry.payload, entry.version);
      sha384Into(input, slot, MEASUREMENT_BYTES);
      if (entry.digest !== null && !equalsAt(entry.digest, slot, MEASUREMENT_BYTES)) {
        const computed = slot.subarray(MEASUREMENT_BYTES);
        issues.push({
          kind: "digest-mismatch",
          index: entry.index,
          imr: entry.imr,
          event: entry.event,
          message: `${describeEvent(entry)}: given digest ${toBareHex(entry.digest)} differs from the digest computed from its name and payload (v${entry.version}) ${toBareHex(computed)}`,
        });
      }
      for (const [field, given, kind] of [
        ["preimage", entry.preimage, "preimage-mismatch"],
        ["hash_input", entry.hashInput, "hash-input-mismatch"],
      ] as const) {
        if (given !== null && !bytesEqual(given, input)) {
          issues.push({
            kind,
            index: entry.index,
            imr: entry.imr,
            event: entry.event,
            message: `${describeEvent(entry)}: given ${field} is not the v${entry.version} digest pre-image of its name and payload`,
          });
        }
      }
    } else {
      const type = `0x${entry.eventType.toString(16).padStart(8, "0")}`;
      if (entry.imr === 3) {
        issues.push({
          kind: "not-runtime-event",
          index: entry.index,
          imr: entry.imr,
          event: entry.event,
          message: `${describeEvent(entry)}: event type ${type} in RTMR3, where only dstack runtime events (type 0x08000001, digest recomputed from name and payload) are accepted`,
        });
      }
      if (entry.version !== 1) {
        issues.push({
          kind: "version-on-boot-event",
          index: entry.index,
          imr: entry.imr,
          event: entry.event,
          message: `${describeEvent(entry)}: boot event (type ${type}) is marked version ${entry.version}, a digest rule only runtime events have`,
        });
      }
      if (entry.preimage !== null || entry.hashInput !== null) {
        issues.push({
          kind: "preimage-on-boot-event",
          index: entry.index,
          imr: entry.imr,
          event: entry.event,
          message: `${describeEvent(entry)}: boot event (type ${type}) carries a digest pre-image, which only runtime events have`,
        });
      }
      if (entry.digest === null) {
        issues.push({
          kind: "missing-digest",
          index: entry.index,
          imr: entry.imr,
          event: entry.event,
          message: `${describeEvent(entry)}: boot event (type ${type}) has no digest, so RTMR${entry.imr} cannot be replayed`,
        });
        continue;
      }
      slot.set(entry.digest, MEASUREMENT_BYTES);
    }
    sha384Into(slot, slot, 0);
    counts[entry.imr] += 1;
  }

  const copy = (i: RtmrIndex) => new Uint8Array(state[i]!.subarray(0, MEASUREMENT_BYTES));
  return { rtmrs: [copy(0), copy(1), copy(2), copy(3)], eventCounts: counts, issues };
}

/**
 * The digest replay extends for one entry: recomputed for a runtime event, the given one
 * for a boot event (null if it has none). For reports; replay itself inlines this.
 */
export function eventDigest(entry: EventLogEntry): Uint8Array | null {
  if (entry.eventType === DSTACK_RUNTIME_EVENT_TYPE) return runtimeEventDigest(entry.event, entry.payload, entry.version);
  return entry.digest === null ? null : new Uint8Array(entry.digest);
}

/** `a` equals `buf[offset, offset + a.length)`; avoids a subarray per event on the hot path. */
function equalsAt(a: Uint8Array, buf: Uint8Array, offset: number): boolean {
  if (offset + a.length > buf.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== buf[offset + i]) return false;
  }
  return true;
}

export interface RtmrComparison {
  register: "rtmr0" | "rtmr1" | "rtmr2" | "rtmr3";
  index: RtmrIndex;
  /** The quote's value (lowercase hex). */
  expected: string;
  /** The value replayed from the event log (lowercase hex). */
  computed: string;
  match: boolean;
}

export function compareRtmrs(computed: Rtmrs, quoted: Rtmrs, registers: readonly RtmrIndex[] = RTMR_INDEXES): RtmrComparison[] {
  return registers.map((index) => ({
    register: `rtmr${index}` as const,
    index,
    expected: toBareHex(quoted[index]),
    computed: toBareHex(computed[index]),
    match: bytesEqual(quoted[index], computed[index]),
  }));
}

export interface ReplayCheckResult extends CheckResult {
  id: "event-log-replay";
  replay: RtmrReplay;
  comparisons: RtmrComparison[];
}

export interface ReplayCheckOptions {
  /**
   * Registers that must match the quote. Default all four: a log that reproduces RTMR3
   * but not RTMR0-2 is inconsistent. Narrow it only for sources that strip boot events.
   */
  registers?: readonly RtmrIndex[];
}

/** Check `event-log-replay`: the log is self-consistent and reproduces the quote's RTMRs. */
export function checkEventLogReplay(
  events: readonly EventLogEntry[],
  quoteRtmrs: Rtmrs,
  options: ReplayCheckOptions = {},
): ReplayCheckResult {
  const registers = options.registers ?? RTMR_INDEXES;
  const replay = replayEventLog(events);
  const comparisons = compareRtmrs(replay.rtmrs, quoteRtmrs, registers);
  const mismatches = comparisons.filter((c) => !c.match);
  const names = registers.map((i) => `RTMR${i}`).join(", ");

  if (mismatches.length === 0 && replay.issues.length === 0) {
    return {
      id: "event-log-replay",
      status: "pass",
      detail: `${names} reproduced by replaying ${events.length} events`,
      replay,
      comparisons,
    };
  }
  const problems = [
    ...mismatches.map(
      (m) => `${m.register.toUpperCase()} mismatch: quote has ${m.expected}, event log replays to ${m.computed}`,
    ),
    ...summarise(replay.issues.map((issue) => issue.message)),
  ];
  return { id: "event-log-replay", status: "fail", detail: problems.join("; "), replay, comparisons };
}

/** At most five messages, so a hostile 16k-event log cannot produce a megabyte detail line. */
function summarise(messages: readonly string[]): string[] {
  const limit = 5;
  if (messages.length <= limit) return [...messages];
  return [...messages.slice(0, limit), `and ${messages.length - limit} more event issues`];
}

function describeEvent(entry: EventLogEntry): string {
  return entry.event === "" ? `event #${entry.index}` : `event #${entry.index} "${entry.event}"`;
}
