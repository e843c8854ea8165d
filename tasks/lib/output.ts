import { redactUrlsInText } from "../../src/util/redact-url.js";
import { DstackGovernanceError, InvalidInputError, describeError } from "../../src/util/errors.js";
import { escapeJsonText, escapeTerminalText } from "../../src/util/terminal-text.js";
import { cliHint, cliPrefix } from "./hints.js";

/** Exit codes shared by every task (documented in the README). */
export const EXIT = { ok: 0, failed: 1, invalidInput: 2, chainError: 3 } as const;

export interface CommandResult {
  /** false for a negative answer (e.g. hash not allowed): exit code 1, not an error. */
  ok: boolean;
  /** The machine-readable result (`--json`). */
  data: Record<string, unknown>;
  /** The human-readable report. */
  lines: string[];
}

/**
 * Runs a task body and prints its result: human lines, or one JSON document with `--json`.
 * Every error becomes one line on stderr (or `{ok:false,error}` in JSON) and an exit code,
 * never a stack trace; URLs in messages are redacted so RPC keys do not leak. Text lines
 * are printed with control and bidi characters escaped: they may quote files and answers
 * from others; so are the strings of a JSON document (as `\uXXXX`, the same value for a
 * JSON reader).
 */
export async function runCommand(json: boolean, body: () => Promise<CommandResult>, options: { jsonLines?: boolean } = {}): Promise<void> {
  const indent = options.jsonLines === true ? undefined : 2;
  const outcome = await outcomeOf(body);
  if (collector !== undefined) {
    collector(outcome);
    return;
  }
  if (outcome.error === undefined) {
    if (json) console.log(escapeJsonText(JSON.stringify({ ok: outcome.ok, ...outcome.data }, jsonReplacer, indent)));
    else for (const line of outcome.lines) console.log(escapeTerminalText(line));
  } else if (json) {
    console.log(escapeJsonText(JSON.stringify({ ok: false, error: outcome.error }, null, indent)));
  } else {
    // One line each, even when a library's details span several (a YAML parser's excerpt).
    console.error(`Error: ${escapeTerminalText(oneLine(outcome.error.message))}`);
    const details = outcome.error.details;
    if (details !== undefined && details.trim() !== "") console.error(`  ${escapeTerminalText(oneLine(details))}`);
  }
  process.exitCode = outcome.exitCode;
}

/**
 * `--flag` for an option key of the library (`composeHash` → `--compose-hash`); an index
 * stays (`allowedEnvs[1]` → `--allowed-envs[1]`), and several keys joined by ` and ` map
 * one by one.
 */
export function flagOf(field: string): string {
  return field
    .split(" and ")
    .map((key) => {
      const match = /^([A-Za-z][A-Za-z0-9]*)(.*)$/.exec(key);
      if (match === null) return key;
      const name = FLAG_NAMES[match[1]!] ?? match[1]!.replace(/[A-Z]/g, (upper) => `-${upper.toLowerCase()}`);
      return `--${name}${match[2]}`;
    })
    .join(" and ");
}

/** Option keys of the library whose flag is not their kebab-case form. */
const FLAG_NAMES: Readonly<Record<string, string>> = { localKeyProviderEnabled: "local-key-provider" };

/**
 * A toolkit error as the CLI says it: the option the library names by its key (`field`)
 * becomes the flag the user typed, and the next command to run is appended where the
 * error calls for one (see `hints.ts`).
 */
export function renderErrorMessage(error: DstackGovernanceError): string {
  let message = error.message;
  if (error.field !== undefined) {
    const flag = flagOf(error.field);
    message = message.startsWith(`${error.field}:`) ? `${flag}${message.slice(error.field.length)}` : `${flag}: ${message}`;
  }
  const hint = cliHint(error);
  return `${cliPrefix(error) ?? ""}${message}${hint ?? ""}`;
}

/** What a command ended with, for a script that drives tasks (see `collectCommandOutcomes`). */
export type CommandOutcome =
  | ({ exitCode: number; error?: undefined } & CommandResult)
  | { exitCode: number; ok: false; error: { code: string; message: string; details?: string } };

let collector: ((outcome: CommandOutcome) => void) | undefined;

/**
 * Runs `body` (which runs tasks) with each command's outcome handed to `collect` instead
 * of printed and turned into an exit code: a script such as the governance demo reads the
 * structured results and decides what to show. Progress lines still go to stderr.
 */
export async function collectCommandOutcomes<T>(collect: (outcome: CommandOutcome) => void, body: () => Promise<T>): Promise<T> {
  const previous = collector;
  collector = collect;
  try {
    return await body();
  } finally {
    collector = previous;
  }
}

async function outcomeOf(body: () => Promise<CommandResult>): Promise<CommandOutcome> {
  try {
    const result = await body();
    return { ...result, exitCode: result.ok ? EXIT.ok : EXIT.failed };
  } catch (error) {
    const code = error instanceof DstackGovernanceError ? error.code : errorCodeOf(error);
    const message = redactUrlsInText(error instanceof DstackGovernanceError ? renderErrorMessage(error) : describeError(error));
    const details = error instanceof DstackGovernanceError && error.details !== undefined ? redactUrlsInText(error.details) : undefined;
    return { ok: false, exitCode: exitCodeOf(error), error: { code, message, ...(details === undefined ? {} : { details }) } };
  }
}

function oneLine(text: string): string {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .join(" ");
}

function exitCodeOf(error: unknown): number {
  if (error instanceof InvalidInputError) return EXIT.invalidInput;
  if (error instanceof DstackGovernanceError) {
    // LOG_SCAN_FAILED: the node refused eth_getLogs even for one block or answered inconsistently.
    // TX_PENDING: a sent transaction is not mined yet (the chain has not answered the question).
    return ["RPC_ERROR", "NO_CODE", "WRONG_CHAIN", "LOG_SCAN_FAILED", "TX_PENDING"].includes(error.code) ? EXIT.chainError : EXIT.failed;
  }
  // Hardhat's own errors (e.g. a missing configuration variable) are configuration problems.
  return (error as { name?: unknown }).name === "HardhatError" ? EXIT.invalidInput : EXIT.failed;
}

function errorCodeOf(error: unknown): string {
  return (error as { name?: unknown }).name === "HardhatError" ? "HARDHAT_CONFIG" : "UNEXPECTED";
}

/** JSON.stringify replacer: bigints as decimal strings. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
