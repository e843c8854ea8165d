/**
 * The `monitor` task run in-process: `--once` exit codes (0 all ok, 1 otherwise, 2 bad
 * configuration), `--out` JSON lines (appended), `--json` on stdout, the text table, and the
 * webhook. CVMs are loopback stand-ins (test/monitor/cvm-farm.ts); the chain is the
 * simulated one with Multicall3, read through the loopback RPC proxy (`rpcUrl:` in the YAML).
 *
 * The CLI has, on purpose, no way to trust the test root CA: these configurations use
 * `quoteSignature: skip`; the library tests (monitor.test.ts) check the signatures.
 */
import { expect } from "chai";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import hre, { network } from "hardhat";
import type { Address } from "viem";

import { MULTICALL3_ADDRESS } from "../../src/abi/multicall3.js";
import { buildAppCompose } from "../../src/compose/index.js";
import { defaultDockerCompose } from "../support/attestation-builder.js";
import { deployAppProxy, deployKmsProxy } from "../support/contracts.js";
import { MULTICALL3_RUNTIME_CODE } from "../support/multicall3.js";
import { startRpcProxy, type RpcProxy } from "../support/rpc-proxy.js";
import { runTask, type TaskOptionValue, type TaskRun } from "../support/run-task.js";
import { closedPort, startCvmFarm, startWebhookReceiver, type CvmFarm } from "./cvm-farm.js";

const connection = await network.create();
const { viem, networkHelpers } = connection;

const sha256 = (text: string) => createHash("sha256").update(Buffer.from(text, "utf8")).digest("hex");
const composeText = (name: string) => buildAppCompose({ name, dockerCompose: defaultDockerCompose(true), kmsEnabled: true, gatewayEnabled: true }).json;

let dir: string;
let rpc: RpcProxy;
let farm: CvmFarm;
let app: Address;
let kms: Address;
let goodCompose: string;
const osImageHash = Uint8Array.from(Buffer.alloc(32, 0x3c));

before(async function () {
  dir = mkdtempSync(path.join(tmpdir(), "monitor-task-"));
  await networkHelpers.setCode(MULTICALL3_ADDRESS, MULTICALL3_RUNTIME_CODE);
  const [owner] = await viem.getWalletClients();
  const deployed = await deployAppProxy(viem, { owner: owner!.account.address, allowAnyDevice: true });
  const deployedKms = await deployKmsProxy(viem, owner!.account.address);
  app = deployed.app.address;
  kms = deployedKms.kms.address;
  goodCompose = composeText("task-good");
  await deployed.app.write.addComposeHash([`0x${sha256(goodCompose)}`]);
  await deployedKms.kms.write.registerApp([app]);
  await deployedKms.kms.write.addOsImageHash([`0x${Buffer.from(osImageHash).toString("hex")}`]);
  rpc = await startRpcProxy(connection.provider);
  farm = await startCvmFarm();
  farm.add("good-1", { style: "phala", appId: app, appCompose: goodCompose, osImageHash });
  farm.add("good-2", { style: "guest-agent", appId: app, appCompose: goodCompose, osImageHash });
  farm.add("unapproved", { style: "phala", appId: app, appCompose: composeText("task-unapproved"), osImageHash });
});

after(async function () {
  await farm.close();
  await rpc.close();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(function () {
  process.exitCode = undefined;
});

function writeConfig(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

const target = (name: string, extra: string[] = []) => [`  - name: ${name}`, `    url: ${farm.url}/${name}/`, ...extra];
const header = () => ["retries: 0", "defaults:", `  rpcUrl: ${rpc.url}`, `  kms: "${kms}"`, "  quoteSignature: skip", "targets:"];
const readLines = (file: string) => readFileSync(file, "utf8").trim().split("\n").map((line) => JSON.parse(line));

const run = (options: Record<string, TaskOptionValue>): Promise<TaskRun> => runTask(hre, "monitor", options);

/** `--json` prints JSON lines (not one document): captured here rather than by run-task's parser. */
// biome-ignore lint/suspicious/noExplicitAny: parsed JSON output of the code under test, navigated freely by the assertions (a wrong shape fails them)
async function runJsonLines(options: Record<string, TaskOptionValue>): Promise<{ exitCode: number | undefined; lines: any[] }> {
  const task = hre.tasks.getTask("monitor");
  const args: Record<string, TaskOptionValue> = {};
  for (const [name, definition] of task.options) args[name] = definition.defaultValue as TaskOptionValue;
  const out: string[] = [];
  const log = console.log;
  console.log = (...parts: unknown[]) => void out.push(parts.map(String).join(" "));
  let exitCode: number | undefined;
  try {
    await task.run({ ...args, ...options, json: true });
  } finally {
    console.log = log;
    exitCode = process.exitCode === undefined ? undefined : Number(process.exitCode);
    process.exitCode = undefined;
  }
  return { exitCode, lines: out.map((line) => JSON.parse(line)) };
}

describe("monitor task: --once", function () {
  it("every target passes: exit 0, a table on stdout, one JSON line per target appended to --out, one eth_call", async function () {
    const config = writeConfig("ok.yaml", [...header(), ...target("good-1"), ...target("good-2", ["    endpointStyle: guest-agent"])]);
    const out = path.join(dir, "ok.jsonl");
    rpc.resetCounts();
    const first = await run({ monitorConfig: config, once: true, out });
    expect(first.exitCode, `${first.stdout}\n${first.stderr}`).to.equal(0);
    expect(rpc.count("eth_call")).to.equal(1);
    const stdout = first.stdout.split("\n");
    expect(stdout[0]).to.match(/^round 1 {2}\d{4}-\d\d-\d\dT.*Z {2}2 target\(s\): 2 ok, 0 failed, 0 error {2}\(\d+\.\d s\)$/);
    expect(stdout[1]).to.match(/^ {2}TARGET +STATE +COMPOSE +TCB +DETAIL$/);
    expect(stdout[2]).to.match(new RegExp(`^ {2}good-1 +ok +${sha256(goodCompose).slice(0, 8)}…${sha256(goodCompose).slice(-4)} +-$`));
    expect(stdout.at(-1)).to.equal("2 target(s): 2 ok, 0 failed, 0 error");

    const lines = readLines(out);
    expect(lines.map((l) => [l.round, l.target, l.state, l.ok, l.composeHash, l.error])).to.deep.equal([
      [1, "good-1", "pass", true, sha256(goodCompose), null],
      [1, "good-2", "pass", true, sha256(goodCompose), null],
    ]);
    expect(lines[0].failing).to.deep.equal([]);
    expect(lines[0].url).to.equal(`${farm.url}/good-1/`);

    // --out appends.
    const second = await run({ monitorConfig: config, once: true, out });
    expect(second.exitCode).to.equal(0);
    expect(readLines(out)).to.have.length(4);
  });

  it("a target on an unapproved compose and an unreachable one: exit 1, their states in the lines, the webhook told of both", async function () {
    const webhook = await startWebhookReceiver();
    try {
      const port = await closedPort();
      const config = writeConfig("bad.yaml", [
        `webhook: { url: "${webhook.url}", attempts: 2 }`,
        ...header(),
        ...target("good-1"),
        ...target("unapproved"),
        "  - name: gone",
        `    url: http://127.0.0.1:${port}/`,
      ]);
      const out = path.join(dir, "bad.jsonl");
      const result = await run({ monitorConfig: config, once: true, out });
      expect(result.exitCode, result.stderr).to.equal(1);
      const lines = readLines(out);
      expect(lines.map((l) => [l.target, l.state, l.failing])).to.deep.equal([
        ["good-1", "pass", []],
        ["unapproved", "fail", ["onchain-compose-hash"]],
        ["gone", "error", []],
      ]);
      expect(lines[2].error).to.match(/^cannot fetch http:\/\/127\.0\.0\.1:\d+\/attestation/);
      expect(result.stdout).to.match(/\n\* unapproved +FAIL +[0-9a-f]{8}…[0-9a-f]{4} +- +onchain-compose-hash\n/);
      expect(result.stdout).to.match(/\n {2}notified gone: state$/m);
      expect(result.stdout.split("\n").at(-1)).to.equal("3 target(s): 1 ok, 1 failed, 1 error");
      expect(webhook.bodies.map((b) => [b.target, b.changes, b.previous, b.current.state])).to.deep.equal([
        ["unapproved", ["state"], null, "fail"],
        ["gone", ["state"], null, "error"],
      ]);
    } finally {
      await webhook.close();
    }
  });

  it("--json: one JSON line per target, then the summary line; exit code as without --json", async function () {
    const config = writeConfig("json.yaml", [...header(), ...target("good-1"), ...target("unapproved")]);
    const { exitCode, lines } = await runJsonLines({ monitorConfig: config, once: true });
    expect(exitCode).to.equal(1);
    expect(lines.map((l) => l.target ?? "summary")).to.deep.equal(["good-1", "unapproved", "summary"]);
    expect(lines[0]).to.include({ round: 1, state: "pass", ok: true, tcbStatus: null });
    expect(lines[2]).to.deep.equal({ ok: false, summary: { rounds: 1, targets: 2, pass: 1, fail: 1, error: 0 } });
  });
});

describe("monitor task: a bad configuration exits 2 before any work", function () {
  const cases: Array<[string, () => Record<string, TaskOptionValue>, RegExp]> = [
    ["no --monitor-config", () => ({ once: true }), /^--monitor-config: give the monitor configuration file/],
    ["a file that does not exist", () => ({ monitorConfig: path.join(dir, "missing.yaml"), once: true }), /missing\.yaml: cannot read the monitor configuration \(ENOENT\)$/],
    [
      "a bad field, named with file, line, target and field",
      () => ({ monitorConfig: writeConfig("bad-field.yaml", ["targets:", "  - url: https://a.example", "  - url: https://b.example", '    app: "0x1234"']), once: true }),
      /bad-field\.yaml:4: targets\[1\]\.app: expected a 0x-prefixed 20-byte address, got "0x1234"$/,
    ],
    [
      "a network that is not configured",
      () => ({ monitorConfig: writeConfig("bad-network.yaml", ["targets:", "  - url: https://a.example", "    network: nowhere"]), once: true }),
      /bad-network\.yaml:3: targets\[0\]\.network: no network "nowhere" in the Hardhat configuration/,
    ],
    ["a bad --concurrency", () => ({ monitorConfig: writeConfig("c.yaml", [...header(), ...target("good-1")]), concurrency: "0", once: true }), /^--concurrency: expected a whole number from 1 to 256/],
    ["an --out that cannot be written", () => ({ monitorConfig: writeConfig("o.yaml", [...header(), ...target("good-1")]), out: path.join(dir, "no-such-dir", "x.jsonl"), once: true }), /^--out: cannot write .*\(ENOENT\)$/],
  ];
  for (const [what, options, message] of cases) {
    it(what, async function () {
      const before = farm.received.get("good-1")?.length ?? 0;
      const text = await run(options());
      expect(text.exitCode, text.stderr).to.equal(2);
      expect(text.stderr.split("\n")[0]!.replace(/^Error: /, "")).to.match(message);
      const json = await run({ ...options(), json: true });
      expect(json.exitCode).to.equal(2);
      expect(json.json.ok).to.equal(false);
      expect(json.json.error.code).to.equal("INVALID_INPUT");
      expect(json.json.error.message).to.match(message);
      expect(farm.received.get("good-1")?.length ?? 0, "no CVM was contacted").to.equal(before);
    });
  }
});
