import { escapeTerminalText } from "../util/terminal-text.js";
import type { RoundReport } from "./monitor.js";
import type { TargetResult } from "./target-check.js";

/** The JSON line of one target in one round (JSON output, the output file). */
export interface MonitorJsonLine {
  time: string;
  round: number;
  target: string;
  url: string;
  state: TargetResult["state"];
  ok: boolean;
  failing: string[];
  composeHash: string | null;
  tcbStatus: string | null;
  error: string | null;
  problems: TargetResult["problems"];
  attempts: number;
  durationMs: number;
}

export function toJsonLine(round: number, result: TargetResult): string {
  const line: MonitorJsonLine = {
    time: result.time,
    round,
    target: result.target,
    url: result.url,
    state: result.state,
    ok: result.ok,
    failing: result.failing,
    composeHash: result.composeHash,
    tcbStatus: result.tcbStatus,
    error: result.error,
    problems: result.problems,
    attempts: result.attempts,
    durationMs: result.durationMs,
  };
  return JSON.stringify(line);
}

// Target names, errors and check details can carry text from the CVM or the configuration:
// escaped, so they cannot forge table rows or hide text in the terminal.
const safe = escapeTerminalText;
const clip = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 1)}…` : text);
const LABEL = { pass: "ok", fail: "FAIL", error: "ERROR" } as const;

/** The compact per-round table printed without JSON output. Changed targets are marked `*`. */
export function formatRoundTable(report: RoundReport): string[] {
  const counts = { pass: 0, fail: 0, error: 0 };
  for (const r of report.results) counts[r.state] += 1;
  const changed = new Set(report.changes.map((c) => c.target));
  const rows = report.results.map((r) => [
    `${changed.has(r.target) ? "*" : " "} ${clip(safe(r.target), 32)}`,
    LABEL[r.state],
    r.composeHash === null ? "-" : `${r.composeHash.slice(0, 8)}…${r.composeHash.slice(-4)}`,
    r.tcbStatus === null ? "-" : safe(r.tcbStatus),
    clip(safe(r.state === "pass" ? "" : r.state === "fail" ? r.failing.join(",") : r.error ?? r.failing.join(",")), 100),
  ]);
  const header = ["  TARGET", "STATE", "COMPOSE", "TCB", "DETAIL"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ").trimEnd();
  const lines = [
    `round ${report.round}  ${report.startedAt.toISOString()}  ${report.results.length} target(s): ${counts.pass} ok, ${counts.fail} failed, ${counts.error} error  (${(report.durationMs / 1000).toFixed(1)} s)`,
    line(header),
    ...rows.map(line),
  ];
  for (const { change, outcome } of report.notifications) {
    lines.push(outcome.ok ? `  notified ${safe(change.target)}: ${change.changes.join(", ")}` : `  webhook FAILED for ${safe(change.target)}: ${safe(outcome.error)}`);
  }
  return lines;
}
