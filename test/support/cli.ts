/**
 * Running the real CLI from tests: `hardhat` processes started as `node <hardhat's bin>`
 * (what `npx hardhat` resolves to, without npm's own output or an npx process tree), a
 * `hardhat node` on a free loopback port, and the helpers around them. Every child gets
 * CI=true and no TTY. Each runner counts the processes it started, so a test file can keep
 * its cost on a 2-core machine in view.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import path from "node:path";

const require = createRequire(import.meta.url);
const HARDHAT_PACKAGE = require.resolve("hardhat/package.json");
export const HARDHAT_BIN = path.join(path.dirname(HARDHAT_PACKAGE), (JSON.parse(readFileSync(HARDHAT_PACKAGE, "utf8")) as { bin: { hardhat: string } }).bin.hardhat);
export const PROJECT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  /** Everything printed so far. */
  output(): { stdout: string; stderr: string };
  /** Resolves once stderr matches `pattern` (rejects when the process exits first or after `timeoutMs`). */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  done: Promise<CliResult>;
}

export interface CliRunner {
  /** Runs `hardhat …args`; resolves when it exits. */
  hardhat(args: string[], env?: Record<string, string | undefined>, timeoutMs?: number): Promise<CliResult>;
  /** Starts `hardhat …args` and returns at once, for tests that interrupt it. */
  start(args: string[], env?: Record<string, string | undefined>, timeoutMs?: number): RunningCli;
  /** Processes started by this runner. */
  spawned(): number;
}

export function cliRunner(): CliRunner {
  let spawned = 0;
  const start = (args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 90_000): RunningCli => {
    spawned += 1;
    const childEnv: Record<string, string | undefined> = { ...process.env, CI: "true", NO_COLOR: "1", FORCE_COLOR: "0", ...env };
    for (const [key, value] of Object.entries(childEnv)) if (value === undefined) delete childEnv[key];
    const child = spawn(process.execPath, [HARDHAT_BIN, ...args], { cwd: PROJECT, env: childEnv as NodeJS.ProcessEnv, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const listeners = new Set<() => void>();
    child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
      for (const listener of listeners) listener();
    });
    const done = new Promise<CliResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`hardhat ${args.join(" ")} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
      }, timeoutMs);
      child.on("error", reject);
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        for (const listener of listeners) listener();
        resolve({ code, signal, stdout, stderr });
      });
    });
    return {
      child,
      done,
      output: () => ({ stdout, stderr }),
      waitForStderr: (pattern, waitMs = 60_000) =>
        new Promise((resolve, reject) => {
          const timer = setTimeout(() => finish(new Error(`stderr never matched ${pattern} within ${waitMs} ms:\n${stderr}`)), waitMs);
          const finish = (error?: Error, match?: RegExpMatchArray) => {
            clearTimeout(timer);
            listeners.delete(check);
            if (error !== undefined) reject(error);
            else resolve(match!);
          };
          const check = () => {
            const match = stderr.match(pattern);
            if (match !== null) finish(undefined, match);
            else if (child.exitCode !== null || child.signalCode !== null) finish(new Error(`hardhat exited before stderr matched ${pattern}:\n${stdout}\n${stderr}`));
          };
          listeners.add(check);
          check();
        }),
    };
  };
  return {
    start,
    hardhat: (args, env, timeoutMs) => start(args, env, timeoutMs).done,
    spawned: () => spawned,
  };
}

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON output of the code under test, navigated freely by the assertions (a wrong shape fails them)
export function parseJson(result: { code: number | null; stdout: string; stderr: string }): any {
  try {
    return JSON.parse(result.stdout);
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${result.code}):\n${result.stdout}\n--- stderr\n${result.stderr}`);
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** One JSON-RPC call with plain fetch (independent of the code under test). */
// biome-ignore lint/suspicious/noExplicitAny: parsed JSON output of the code under test, navigated freely by the assertions (a wrong shape fails them)
export async function rpc(url: string, method: string, params: unknown[] = []): Promise<any> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    signal: AbortSignal.timeout(5_000),
  });
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

export async function waitForChainId(url: string, child: ChildProcess, log: () => string, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`hardhat node exited with ${child.exitCode}:\n${log()}`);
    try {
      const result = await rpc(url, "eth_chainId");
      if (typeof result === "string") return Number(BigInt(result));
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`hardhat node did not answer eth_chainId at ${url} within ${timeoutMs} ms:\n${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A `hardhat node` on a free loopback port (chain 31337), ready to answer. */
export async function startHardhatNode(runner: CliRunner): Promise<{ url: string; port: number; child: ChildProcess; log: () => string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const running = runner.start(["node", "--hostname", "127.0.0.1", "--port", String(port)], {}, 30 * 60_000);
  running.done.catch(() => {});
  const log = () => {
    const { stdout, stderr } = running.output();
    return (stdout + stderr).slice(-20_000);
  };
  await waitForChainId(url, running.child, log);
  return { url, port, child: running.child, log };
}

export async function stop(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}
