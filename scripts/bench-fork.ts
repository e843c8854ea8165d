/**
 * Benchmark of the fork suite offline: wall time of `hardhat test mocha test/fork/*.test.ts`
 * (a fresh process, as a developer runs it, contract compilation excluded) and the JSON-RPC
 * requests, per method, that the snapshot servers behind forks answered — i.e. every request
 * Hardhat's EDR sent to its fork remote, in the test process and in the `npx hardhat
 * --network sepoliaFork` process one test starts. (The server's own unit tests talk to
 * servers of their own, which are not counted.)
 *
 *   npx hardhat run scripts/bench-fork.ts            # table
 *   BENCH_JSON=1 npx hardhat run scripts/bench-fork.ts   # one JSON object
 *
 * Exits 1 when the suite fails or takes 30 s or more (the target on a 2-core machine).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const TARGET_SECONDS = 30;
const root = process.cwd();
const dir = mkdtempSync(join(tmpdir(), "bench-fork-"));
const statsFile = join(dir, "requests.jsonl");
const tests = readdirSync(join(root, "test", "fork"))
  .filter((name) => name.endsWith(".test.ts"))
  .map((name) => join("test", "fork", name));

const env: NodeJS.ProcessEnv = { ...process.env, DSTACK_FORK_STATS_FILE: statsFile };
// Offline: the benchmark measures the snapshot path, whatever the caller's environment.
delete env.SEPOLIA_RPC_URL;
delete env.DSTACK_FORK_LOG;

const started = process.hrtime.bigint();
const run = spawnSync(process.execPath, [join(root, "node_modules", "hardhat", "dist", "src", "cli.js"), "test", "mocha", "--no-compile", ...tests], {
  cwd: root,
  env,
  encoding: "utf8",
});
const seconds = Number(process.hrtime.bigint() - started) / 1e9;

const totals: Record<string, number> = {};
let processes = 0;
if (existsSync(statsFile)) {
  for (const line of readFileSync(statsFile, "utf8").split("\n").filter((l) => l.trim() !== "")) {
    const { requests } = JSON.parse(line) as { requests: Record<string, number> };
    processes += 1;
    for (const [method, count] of Object.entries(requests)) totals[method] = (totals[method] ?? 0) + count;
  }
}
rmSync(dir, { recursive: true, force: true });
const total = Object.values(totals).reduce((a, b) => a + b, 0);
const passing = /(\d+) passing/.exec(run.stdout)?.[1];
const failing = /(\d+) failing/.exec(run.stdout)?.[1];
const ok = run.status === 0 && seconds < TARGET_SECONDS;

if (process.env.BENCH_JSON !== undefined) {
  console.log(JSON.stringify({ ok, seconds: Number(seconds.toFixed(2)), targetSeconds: TARGET_SECONDS, exitCode: run.status, passing: Number(passing ?? 0), failing: Number(failing ?? 0), processes, requests: total, perMethod: totals }));
} else {
  console.log(`fork suite (${tests.length} files, offline): ${seconds.toFixed(2)} s wall time (target < ${TARGET_SECONDS} s), exit code ${run.status}, ${passing ?? 0} passing, ${failing ?? 0} failing`);
  console.log(`snapshot server requests: ${total} in ${processes} process(es)`);
  for (const [method, count] of Object.entries(totals).sort((a, b) => b[1] - a[1])) console.log(`  ${method.padEnd(28)} ${String(count).padStart(6)}`);
}
if (run.status !== 0) process.stderr.write(`${run.stdout}\n${run.stderr}\n`);
if (!ok) process.exitCode = 1;
