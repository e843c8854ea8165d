/**
 * Runs a Hardhat task in-process the way the CLI would, with its output captured.
 *
 * Every option the task declares is passed (flags `false`, string options `undefined`,
 * i.e. each declared default), overridden by the given ones, so the action receives
 * exactly the argument object `npx hardhat <task>` would build. An option the task does
 * not declare is a test bug and throws before anything runs.
 *
 * `console.log` (stdout), `console.error`/`console.warn` and `process.stderr.write`
 * (stderr: errors and progress) are captured for the duration of the run, and
 * `process.exitCode` is read and then reset to `undefined`: a non-zero exit code left
 * behind would fail the whole mocha run.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

export type TaskOptionValue = string | boolean | undefined;

export interface TaskRun {
  /** `process.exitCode` as the task left it (undefined when it never set one). */
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** stdout parsed as one JSON document (or, for streaming tasks, an array of its JSON lines), when the run had `json: true`. */
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON output of the code under test, navigated freely by the assertions (a wrong shape fails them)
  json: any;
}

export async function runTask(hre: HardhatRuntimeEnvironment, name: string, options: Record<string, TaskOptionValue> = {}): Promise<TaskRun> {
  const task = hre.tasks.getTask(name);
  const args: Record<string, TaskOptionValue> = {};
  for (const [optionName, definition] of task.options) args[optionName] = definition.defaultValue as TaskOptionValue;
  for (const [optionName, value] of Object.entries(options)) {
    if (!task.options.has(optionName)) throw new Error(`runTask: task ${name} has no option ${optionName}`);
    args[optionName] = value;
  }

  const out: string[] = [];
  const err: string[] = [];
  const { log, error, warn, info } = console;
  const stderrWrite = process.stderr.write;
  const format = (parts: unknown[]) => parts.map((part) => (typeof part === "string" ? part : String(part))).join(" ");
  console.log = (...parts: unknown[]) => void out.push(format(parts));
  console.info = console.log;
  console.error = (...parts: unknown[]) => void err.push(format(parts));
  console.warn = console.error;
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
    err.push(typeof chunk === "string" ? chunk.replace(/\n$/, "") : Buffer.from(chunk as Uint8Array).toString("utf8").replace(/\n$/, ""));
    const callback = rest.find((item): item is () => void => typeof item === "function");
    callback?.();
    return true;
  }) as typeof process.stderr.write;

  process.exitCode = undefined;
  let exitCode: number | undefined;
  try {
    await task.run(args);
  } finally {
    console.log = log;
    console.info = info;
    console.error = error;
    console.warn = warn;
    process.stderr.write = stderrWrite;
    exitCode = process.exitCode === undefined ? undefined : Number(process.exitCode);
    process.exitCode = undefined;
  }

  const stdout = out.join("\n");
  const stderr = err.join("\n");
  let json: unknown;
  if (options.json === true) {
    try {
      json = JSON.parse(stdout);
    } catch {
      // Streaming tasks (watch-governance, monitor) print JSON lines: one document per line.
      try {
        json = stdout.split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line));
      } catch {
        throw new Error(`runTask: --json output of ${name} is neither one JSON document nor JSON lines:\n${stdout}\n--- stderr\n${stderr}`);
      }
    }
  }
  return { exitCode, stdout, stderr, json };
}
