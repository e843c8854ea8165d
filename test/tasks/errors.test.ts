/**
 * Every error class of the management tasks: each gives a one-line message that names the
 * flag or the cause, a non-zero exit code (2 input, 1 refused/failed, 3 chain), and sends
 * nothing (block number and nonces unchanged). RPC failures are played with in-process
 * HREs whose `--network` is an HTTP endpoint: a closed loopback port, or a loopback proxy
 * in front of the simulated chain (wrong chain id, a node failing mid-command).
 */
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";

import { expect } from "chai";
import { parseEther, type Address } from "viem";

import { startRpcProxy, type RpcProxy } from "../support/rpc-proxy.js";
import { runTask } from "../support/run-task.js";
import { EXAMPLES, bytes32, chain, chainMark, expectError, expectNothingSent, freshApp, freshKms, hreWithNetwork, run, tempDir, restoreChainAfter } from "./fixture.js";

const HASH = bytes32("errors-hash");

describe("tasks: invalid input (exit 2, names the flag, nothing sent)", function () {
  restoreChainAfter();
  const tmp = tempDir("task-errors-");
  let app: Address;
  before(async function () {
    app = (await freshApp()).address;
  });
  after(() => tmp.cleanup());

  const hashCases: Array<[string, string, RegExp]> = [
    ["invalid hex", `0x${"zz".repeat(32)}`, /^Error: --hash: not hexadecimal$/],
    ["wrong length (short)", "0x1234", /^Error: --hash: expected 32 bytes \(64 hex digits\), got 2 bytes$/],
    ["wrong length (long)", `0x${"11".repeat(33)}`, /^Error: --hash: expected 32 bytes \(64 hex digits\), got 33 bytes$/],
    ["zero hash", `0x${"0".repeat(64)}`, /^Error: --hash: the zero hash is not a valid value$/],
    ["one bad value in a list", `${HASH},0x12`, /^Error: --hash: expected 32 bytes/],
  ];
  for (const task of ["add-compose-hash", "remove-compose-hash", "check-compose-hash"]) {
    for (const [label, hash, message] of hashCases) {
      it(`${task}: ${label}`, async function () {
        const mark = await chainMark();
        expectError(await run(task, { app, hash }), 2, message);
        await expectNothingSent(mark);
      });
    }
  }

  it("device ids and KMS values are checked the same way", async function () {
    const kms = (await freshKms()).address;
    const mark = await chainMark();
    expectError(await run("add-device", { app, device: "0xabc" }), 2, /^Error: --device: /);
    expectError(await run("add-os-image", { kms, image: `0x${"0".repeat(64)}` }), 2, /^Error: --image: the zero hash is not a valid value$/);
    expectError(await run("add-kms-mr", { kms, mr: "nothex" }), 2, /^Error: --mr: /);
    await expectNothingSent(mark);
  });

  it("no compose hash at all; a malformed or missing --app", async function () {
    const mark = await chainMark();
    expectError(await run("add-compose-hash", { app }), 2, /^Error: no compose hash given: pass --hash 0x…, --app-compose FILE or --docker-compose FILE$/);
    expectError(await run("add-compose-hash", { hash: HASH }), 2, /^Error: --app is required: a 0x-prefixed 20-byte address or a recorded deployment name$/);
    expectError(await run("add-compose-hash", { app: "0x12345", hash: HASH }), 2, /^Error: --app: expected a 0x-prefixed 20-byte address, got "0x12345"$/);
    expectError(await run("check-compose-hash", { app: "app.eth", hash: HASH }), 2, /^Error: --app: "app\.eth" is neither an address nor a deployment recorded on chain 31337 /);
    expectError(await run("check-compose-hash", { app: "not a name!", hash: HASH }), 2, /^Error: --app: expected a 0x-prefixed 20-byte address/);
    await expectNothingSent(mark);
  });

  it("unknown files: --app-compose, --docker-compose, --pre-launch-script; an unwritable --out", async function () {
    const mark = await chainMark();
    const missing = tmp.file("does-not-exist.json");
    expectError(await run("add-compose-hash", { app, appCompose: missing }), 2, /^Error: --app-compose: cannot read app-compose file ".*does-not-exist\.json": no such file$/);
    expectError(await run("check-compose-hash", { app, appCompose: tmp.dir }), 2, /^Error: --app-compose: cannot read app-compose file .*: is a directory$/);
    expectError(await run("add-compose-hash", { app, dockerCompose: tmp.file("nope.yaml") }), 2, /^Error: --docker-compose: cannot read .*nope\.yaml \(ENOENT\)$/);
    expectError(
      await run("add-compose-hash", { app, dockerCompose: EXAMPLES.dockerCompose, preLaunchScript: tmp.file("nope.sh") }),
      2,
      /^Error: --pre-launch-script: cannot read .*nope\.sh \(ENOENT\)$/,
    );
    expectError(
      await run("add-compose-hash", { app, dockerCompose: EXAMPLES.dockerCompose, out: tmp.file("no-such-dir/app-compose.json") }),
      2,
      /^Error: --out: cannot write .*app-compose\.json \(ENOENT\)$/,
    );
    await expectNothingSent(mark);
  });

  it("a docker-compose that is not YAML or has no services; conflicting build flags", async function () {
    const badYaml = tmp.file("bad.yaml");
    writeFileSync(badYaml, "services: [\n");
    const noServices = tmp.file("empty.yaml");
    writeFileSync(noServices, "version: '3'\n");
    const mark = await chainMark();
    expectError(await run("add-compose-hash", { app, dockerCompose: badYaml }), 2, /^Error: --docker-compose: not valid YAML/);
    expectError(await run("add-compose-hash", { app, dockerCompose: noServices }), 2, /^Error: --docker-compose: .*services/);
    expectError(
      await run("add-compose-hash", { app, dockerCompose: EXAMPLES.dockerCompose, kmsEnabled: true, localKeyProvider: true }),
      2,
      /^Error: --kms-enabled and --local-key-provider: only one key provider can be enabled$/,
    );
    expectError(await run("add-compose-hash", { app, dockerCompose: EXAMPLES.dockerCompose, allowedEnvs: "OK,not-valid!" }), 2, /^Error: --allowed-envs\[1\]: "not-valid!" is not a valid environment variable name$/);
    await expectNothingSent(mark);
  });

  it("--from: not an address", async function () {
    const mark = await chainMark();
    expectError(await run("add-compose-hash", { app, hash: HASH, from: "0xnope" }), 2, /^Error: --from: expected a 0x-prefixed 20-byte address, got "0xnope"$/);
    expectError(await run("deploy-app", { from: "0x12" }), 2, /^Error: --from: expected a 0x-prefixed 20-byte address, got "0x12"$/);
    await expectNothingSent(mark);
  });
});

describe("tasks: the target is wrong (nothing sent)", function () {
  restoreChainAfter();
  it("an address without code: exit 3, names the address and chain", async function () {
    const { accounts } = await chain();
    const mark = await chainMark();
    for (const task of ["add-compose-hash", "check-compose-hash", "remove-compose-hash"]) {
      expectError(await run(task, { app: accounts[7], hash: HASH }), 3, new RegExp(`^Error: no contract at ${accounts[7]} on chain 31337$`));
    }
    expectError(await run("add-os-image", { kms: accounts[7], image: HASH }), 3, /^Error: no contract at /);
    expectError(await run("list-compose-hashes", { app: accounts[7], quiet: true }), 3, /^Error: no contract at /);
    await expectNothingSent(mark);
  });

  it("a contract that is not an app (the KMS): exit 1, says which interface is missing", async function () {
    const kms = await freshKms();
    const mark = await chainMark();
    for (const task of ["add-compose-hash", "check-compose-hash", "set-allow-any-device"]) {
      const result = await run(task, { app: kms.address, ...(task === "set-allow-any-device" ? { value: "true" } : { hash: HASH }) });
      expectError(result, 1, new RegExp(`^Error: ${kms.address} on chain 31337 is not a DstackApp-compatible contract$`));
      expect(result.stderr).to.include("ERC-165 does not report IAppAuthBasicManagement");
    }
    const json = await run("add-compose-hash", { app: kms.address, hash: HASH, json: true });
    expect(json.json).to.deep.include({ ok: false });
    expect(json.json.error.code).to.equal("NOT_AN_APP_CONTRACT");
    await expectNothingSent(mark);
  });
});

describe("tasks: the signer cannot make the change (nothing sent)", function () {
  restoreChainAfter();
  it("signer not the owner (--from a second account): exit 1, the owner is named — for every kind of change", async function () {
    const { accounts } = await chain();
    const app = await freshApp();
    const kms = await freshKms();
    const other = accounts[1]!;
    const mark = await chainMark();
    const notOwner = (target: string) => new RegExp(`^Error: signer ${other} is not the owner of ${target}; the owner is ${accounts[0]}$`);
    expectError(await run("add-compose-hash", { app: app.address, hash: HASH, from: other }), 1, notOwner(app.address));
    expectError(await run("add-compose-hash", { app: app.address, hash: `${HASH},${bytes32("second")}`, from: other, dryRun: true }), 1, notOwner(app.address));
    expectError(await run("add-device", { app: app.address, device: HASH, from: other }), 1, notOwner(app.address));
    expectError(await run("set-require-tcb-up-to-date", { app: app.address, value: "true", from: other }), 1, notOwner(app.address));
    expectError(await run("disable-upgrades", { app: app.address, yes: true, from: other }), 1, notOwner(app.address));
    expectError(await run("upgrade-app", { app: app.address, implementation: kms.appImplementation, from: other }), 1, notOwner(app.address));
    // --deploy-implementation checks ownership BEFORE deploying anything.
    expectError(await run("upgrade-app", { app: app.address, deployImplementation: true, from: other }), 1, notOwner(app.address));
    expectError(await run("transfer-ownership", { app: app.address, to: other, toEoa: true, from: other }), 1, notOwner(app.address));
    expectError(await run("add-os-image", { kms: kms.address, image: HASH, from: other }), 1, notOwner(kms.address));
    expectError(await run("set-gateway-app-id", { kms: kms.address, gatewayAppId: "g", from: other }), 1, notOwner(kms.address));
    const json = await run("remove-compose-hash", { app: app.address, hash: HASH, from: other, json: true });
    expect(json.exitCode).to.equal(0); // removing an absent hash needs no owner: nothing to do
    await expectNothingSent(mark);
  });

  it("an owner that is a contract: the message says to route the change through it", async function () {
    const { accounts, connection } = await chain();
    const app = await freshApp();
    const safe = await freshKms(); // stands in for a Safe: a contract owner
    await connection.networkHelpers.impersonateAccount(safe.address);
    await connection.networkHelpers.setBalance(safe.address, parseEther("1"));
    expect((await run("transfer-ownership", { app: app.address, to: safe.address })).exitCode).to.equal(0);
    await app.app.write.acceptOwnership({ account: safe.address });
    await connection.networkHelpers.stopImpersonatingAccount(safe.address);
    const mark = await chainMark();
    expectError(
      await run("add-compose-hash", { app: app.address, hash: HASH }),
      1,
      new RegExp(`^Error: signer ${accounts[0]} is not the owner of ${app.address}; the owner is ${safe.address} \\(a contract: route the change through it, e\\.g\\. a Safe or timelock\\)$`),
    );
    await expectNothingSent(mark);
  });

  it("insufficient funds (balance set to 1 wei, --from that account): exit 1, balance and need shown — also for deployments", async function () {
    const { accounts, networkHelpers, publicClient } = await chain();
    const poor = accounts[9]!;
    const app = await freshApp({ owner: poor });
    const balanceBefore = await publicClient.getBalance({ address: poor });
    await networkHelpers.setBalance(poor, 1n);
    try {
      const mark = await chainMark();
      const funds = new RegExp(`^Error: signer ${poor} has 1 wei; the transaction needs about 0\\.\\d+ ETH$`);
      expectError(await run("add-compose-hash", { app: app.address, hash: HASH, from: poor }), 1, funds);
      expectError(await run("add-compose-hash", { app: app.address, hash: HASH, from: poor, dryRun: true }), 1, funds);
      expectError(await run("set-allow-any-device", { app: app.address, value: "true", from: poor }), 1, funds);
      expectError(await run("deploy-app", { from: poor }), 1, funds);
      expectError(await run("deploy-kms", { from: poor }), 1, funds);
      expectError(await run("upgrade-app", { app: app.address, deployImplementation: true, from: poor }), 1, funds);
      const json = await run("add-compose-hash", { app: app.address, hash: HASH, from: poor, json: true });
      expect(json.exitCode).to.equal(1);
      expect(json.json.error.code).to.equal("INSUFFICIENT_FUNDS");
      await expectNothingSent(mark);
      expect(await publicClient.getTransactionCount({ address: poor })).to.equal(0);
    } finally {
      await networkHelpers.setBalance(poor, balanceBefore);
    }
  });
});

describe("tasks: the chain cannot be used (exit 3, nothing sent)", function () {
  restoreChainAfter();
  let proxy: RpcProxy;
  let app: Address;
  before(async function () {
    const { connection } = await chain();
    proxy = await startRpcProxy(connection.provider);
    app = (await freshApp()).address;
  });
  after(async function () {
    await proxy?.close();
  });

  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  it("RPC unreachable: the message names the URL without its credentials (text and --json)", async function () {
    const port = await closedPort();
    const secretKey = "0123456789abcdef0123456789abcdef";
    const down = await hreWithNetwork("down", { type: "http", chainType: "l1", url: `http://alice:s3cret-pass@127.0.0.1:${port}/v3/${secretKey}` });
    const mark = await chainMark();
    for (const [task, options] of [
      ["check-compose-hash", { app, hash: HASH }],
      ["add-compose-hash", { app, hash: HASH }],
      ["list-compose-hashes", { app, quiet: true }],
      ["deploy-app", {}],
    ] as const) {
      const result = await runTask(down, task, options);
      expectError(result, 3, new RegExp(`^Error: RPC eth_chainId failed at http://127\\.0\\.0\\.1:${port}/v3/\\*\\*\\*: cannot reach network "down"$`));
      expect(result.stderr).to.not.include(secretKey);
      expect(result.stderr).to.not.include("s3cret");
      expect(result.stderr).to.not.include("alice");
    }
    const json = await runTask(down, "add-compose-hash", { app, hash: HASH, json: true });
    expect(json.exitCode).to.equal(3);
    expect(json.json.ok).to.equal(false);
    expect(json.json.error).to.include({ code: "RPC_ERROR", message: `RPC eth_chainId failed at http://127.0.0.1:${port}/v3/***: cannot reach network "down"` });
    expect(json.stdout).to.not.include(secretKey);
    await expectNothingSent(mark);
  });

  it("wrong chain: a network configured for chain 1 that answers 31337 is refused before anything else", async function () {
    const wrong = await hreWithNetwork("wrongchain", { type: "http", chainType: "l1", url: proxy.url, chainId: 1 });
    const mark = await chainMark();
    for (const [task, options] of [
      ["add-compose-hash", { app, hash: HASH }],
      ["check-compose-hash", { app, hash: HASH }],
      ["deploy-app", {}],
    ] as const) {
      expectError(await runTask(wrong, task, options), 3, /^Error: connected to chain 31337, expected chain 1$/);
    }
    const json = await runTask(wrong, "add-compose-hash", { app, hash: HASH, json: true });
    expect(json.json.error.code).to.equal("WRONG_CHAIN");
    await expectNothingSent(mark);
  });

  it("read-only tasks need no signing key: an unset key variable only matters to state-changing tasks", async function () {
    const { configVariable } = await import("hardhat/config");
    const variable = "DSTACK_TEST_UNSET_DEPLOYER_KEY";
    delete process.env[variable];
    const keyless = await hreWithNetwork("keyless", { type: "http", chainType: "l1", url: proxy.url, chainId: 31337, accounts: [configVariable(variable)] });
    const check = await runTask(keyless, "check-compose-hash", { app, hash: HASH, json: true });
    expect(check.json.error, check.stdout).to.equal(undefined);
    expect(check.json.results).to.have.length(1);
    const info = await runTask(keyless, "app-info", { app, json: true });
    expect(info.exitCode).to.equal(0);
    const mark = await chainMark();
    expectError(await runTask(keyless, "add-compose-hash", { app, hash: HASH }), 2, new RegExp(variable));
    await expectNothingSent(mark);
  });

  it("the same tasks through the proxy with the right chain id work; --from must be one of its accounts", async function () {
    const right = await hreWithNetwork("proxied", { type: "http", chainType: "l1", url: proxy.url, chainId: 31337 });
    // On an HTTP network the signer must be one of its accounts (on a simulated network
    // --from may name any account, for rehearsals with impersonation).
    const stranger = "0x000000000000000000000000000000000000dEaD";
    const mark = await chainMark();
    expectError(await runTask(right, "add-compose-hash", { app, hash: HASH, from: stranger }), 2, new RegExp(`^Error: --from: ${stranger} is not an account of network proxied$`));
    await expectNothingSent(mark);
    const before = await chainMark();
    const result = await runTask(right, "add-compose-hash", { app, hash: HASH });
    expect(result.exitCode, result.stderr).to.equal(0);
    expect((await chainMark()).block).to.equal(before.block + 1n);
    expect((await runTask(right, "check-compose-hash", { app, hash: HASH })).exitCode).to.equal(0);
  });

  it("the node fails after the pre-flight (eth_sendTransaction → HTTP 503): exit 3, method and URL named, nothing mined", async function () {
    const flaky = await hreWithNetwork("flaky", { type: "http", chainType: "l1", url: proxy.url });
    proxy.failMethodAfter("eth_sendTransaction", 0, "http-503");
    try {
      const mark = await chainMark();
      const result = await runTask(flaky, "add-compose-hash", { app, hash: bytes32("flaky") });
      // Hardhat's HTTP provider reports the status with the (redacted) URL; the method is ours.
      expectError(result, 3, /^Error: RPC eth_sendTransaction failed: /);
      expect(result.stderr.split("\n")[0]).to.include(proxy.url);
      await expectNothingSent(mark);
    } finally {
      proxy.failAll(false);
    }
  });
});
