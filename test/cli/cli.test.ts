/**
 * The real CLI end to end: a `hardhat node` on a free loopback port, and the tasks run as
 * separate `hardhat` processes against it (`--network localhost`, pointed at that port by
 * the test-only config test/cli/hardhat.cli.config.ts through DSTACK_TEST_RPC_URL). Exit
 * codes, stdout/stderr separation and `--json` documents are checked as a shell script or
 * CI job would see them; chain state is re-read with an independent viem client.
 *
 * The CLI is started as `node <hardhat's bin>` — what `npx hardhat` resolves to — so that
 * npm's own warnings cannot end up in the captured stderr and no npx process tree is left
 * behind. Every child gets CI=true and no TTY. 12 processes in all (2 cores: ~2 s each).
 */
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { createPublicClient, getAddress, http, type Address, type Hex, type PublicClient } from "viem";

import { dstackAppAbi } from "../../src/abi/dstack-app.js";
import { dstackKmsAbi } from "../../src/abi/dstack-kms.js";
import { PROJECT, cliRunner, parseJson, startHardhatNode, stop } from "../support/cli.js";

const CLI_CONFIG = path.join("test", "cli", "hardhat.cli.config.ts");
const runner = cliRunner();
const hardhat = runner.hardhat;

describe("CLI end to end (hardhat node + hardhat processes)", function () {
  this.timeout(120_000);

  let node: Awaited<ReturnType<typeof startHardhatNode>>["child"] | undefined;
  let port: number;
  let url: string;
  let client: PublicClient;
  let dir: string;
  let appCompose: string;
  let composeHash: Hex;
  let kms: Address;
  let app: Address;
  /** `--network localhost` of the test config, pointed at the node. */
  const onNode = (args: string[]) => hardhat(["--config", CLI_CONFIG, "--network", "localhost", ...args], { DSTACK_TEST_RPC_URL: url, DSTACK_DEPLOYMENTS_DIR: dir });

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "dstack-cli-"));
    appCompose = path.join(dir, "app-compose.json");
    copyFileSync(path.join(PROJECT, "examples", "app-compose.json"), appCompose);
    composeHash = `0x${createHash("sha256").update(readFileSync(appCompose)).digest("hex")}`;

    const started = await startHardhatNode(runner);
    ({ port, url } = started);
    node = started.child;
    client = createPublicClient({ transport: http(url, { retryCount: 0 }) }) as PublicClient;
  });

  after(async function () {
    await stop(node);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    // Keep the machine's budget in view: this file must stay cheap on 2 cores.
    expect(runner.spawned()).to.be.at.most(12);
  });

  it("compose-hash --app-compose --json: exit 0, the SHA-256 of the file, one JSON document on stdout", async function () {
    const result = await hardhat(["compose-hash", "--app-compose", appCompose, "--json"]);
    expect(result.code, result.stderr).to.equal(0);
    const json = parseJson(result);
    expect(json).to.include({ ok: true, composeHash, source: appCompose, allImagesPinned: true });
    expect(result.stderr).to.equal("");
  });

  it("compose-hash --require-pinned on a mutable image: exit 1, the report still on stdout, --out not left behind", async function () {
    const compose = path.join(dir, "docker-compose.yaml");
    writeFileSync(compose, "services:\n  app:\n    image: ghcr.io/example/app:latest\n");
    const out = path.join(dir, "built.json");
    const result = await hardhat(["compose-hash", "--docker-compose", compose, "--kms-enabled", "--out", out, "--require-pinned", "--json"]);
    expect(result.code).to.equal(1);
    const json = parseJson(result);
    expect(json.ok).to.equal(false);
    expect(json.allImagesPinned).to.equal(false);
    expect(json.composeHash).to.match(/^0x[0-9a-f]{64}$/);
    expect(existsSync(out)).to.equal(false);
  });

  it("deploy-kms --json: exit 0, the KMS has code and an app implementation", async function () {
    const result = await onNode(["deploy-kms", "--json"]);
    expect(result.code, result.stderr + result.stdout).to.equal(0);
    const json = parseJson(result);
    expect(json.chainId).to.equal(31337);
    kms = getAddress(json.kms);
    expect(getAddress(await client.readContract({ address: kms, abi: dstackKmsAbi, functionName: "appImplementation" }))).to.equal(getAddress(json.appImplementation));
  });

  it("deploy-app --kms --json: deployed through the factory and registered", async function () {
    const result = await onNode(["deploy-app", "--kms", kms, "--allow-any-device", "--json"]);
    expect(result.code, result.stderr + result.stdout).to.equal(0);
    app = getAddress(parseJson(result).app);
    expect(await client.readContract({ address: kms, abi: dstackKmsAbi, functionName: "registeredApps", args: [app] })).to.equal(true);
    expect(await client.readContract({ address: app, abi: dstackAppAbi, functionName: "allowAnyDevice" })).to.equal(true);
  });

  it("add-compose-hash --app-compose: one transaction, the file's hash allowed; a re-run sends nothing", async function () {
    const before = await client.getBlockNumber({ cacheTime: 0 });
    const first = await onNode(["add-compose-hash", "--app", app, "--app-compose", appCompose, "--json"]);
    expect(first.code, first.stderr + first.stdout).to.equal(0);
    const json = parseJson(first);
    expect(json).to.include({ ok: true, sent: true, confirmed: true });
    expect(json.values).to.deep.equal([composeHash]);
    expect(json.transactions).to.have.length(1);
    expect(await client.getBlockNumber({ cacheTime: 0 })).to.equal(before + 1n);
    expect(await client.readContract({ address: app, abi: dstackAppAbi, functionName: "allowedComposeHashes", args: [composeHash] })).to.equal(true);

    const again = await onNode(["add-compose-hash", "--app", app, "--app-compose", appCompose]);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout.trim()).to.equal(`= ${composeHash}: compose hash already allowed; nothing to send`);
    expect(await client.getBlockNumber({ cacheTime: 0 })).to.equal(before + 1n);
  });

  it("check-compose-hash: exit 0 for the allowed hash, exit 1 for another", async function () {
    const allowed = await onNode(["check-compose-hash", "--app", app, "--app-compose", appCompose]);
    expect(allowed.code, allowed.stderr).to.equal(0);
    expect(allowed.stdout).to.match(new RegExp(`^ALLOWED {5}${composeHash} \\(${appCompose.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}\\) on app ${app}, chain 31337, block \\d+\\n$`));
    const other = `0x${"ab".repeat(32)}`;
    const notAllowed = await onNode(["check-compose-hash", "--app", app, "--hash", other, "--json"]);
    expect(notAllowed.code).to.equal(1);
    expect(parseJson(notAllowed).results).to.deep.equal([{ composeHash: other, source: "--hash", allowed: false }]);
  });

  it("list-compose-hashes --json: the add with its block and tx, cross-checked; progress only on stderr", async function () {
    const result = await onNode(["list-compose-hashes", "--app", app, "--json"]);
    expect(result.code, result.stderr).to.equal(0);
    const json = parseJson(result);
    expect(json.allowed).to.deep.equal([composeHash]);
    expect(json.initializedInRange).to.equal(true);
    expect(json.crossCheck.mismatches).to.deep.equal([]);
    const [record] = json.hashes;
    expect(record.composeHash).to.equal(composeHash);
    expect(record.events).to.have.length(1);
    const receipt = await client.getTransactionReceipt({ hash: record.events[0].transactionHash });
    expect(record.events[0]).to.include({ action: "added", blockNumber: receipt.blockNumber.toString() });
    expect(getAddress(receipt.to!)).to.equal(app);
    expect(result.stderr).to.match(/^scanning blocks \d+\.\.\d+: 100% /m);
  });

  it("a network configured for another chain id: exit 3, nothing sent", async function () {
    const before = await client.getBlockNumber({ cacheTime: 0 });
    const result = await hardhat(["--config", CLI_CONFIG, "--network", "wrongchain", "add-compose-hash", "--app", app, "--hash", `0x${"cd".repeat(32)}`], {
      DSTACK_TEST_RPC_URL: url,
    });
    expect(result.code).to.equal(3);
    expect(result.stdout).to.equal("");
    expect(result.stderr.trim()).to.equal("Error: connected to chain 31337, expected chain 1");
    expect(await client.getBlockNumber({ cacheTime: 0 })).to.equal(before);
  });

  it("RPC unreachable after the node is killed: exit 3, the URL in the message without its credentials", async function () {
    await stop(node);
    const key = "0123456789abcdef0123456789abcdef";
    const result = await hardhat(["--config", CLI_CONFIG, "--network", "localhost", "check-compose-hash", "--app", app, "--hash", composeHash], {
      DSTACK_TEST_RPC_URL: `http://ci-user:ci-secret@127.0.0.1:${port}/v3/${key}`,
    });
    expect(result.code).to.equal(3);
    expect(result.stdout).to.equal("");
    const [first] = result.stderr.split("\n");
    expect(first).to.equal(`Error: RPC eth_chainId failed at http://127.0.0.1:${port}/v3/***: cannot reach network "localhost"`);
    expect(result.stderr).to.not.include(key);
    expect(result.stderr).to.not.include("ci-secret");
    expect(result.stderr).to.not.match(/^\s+at /m);
  });
});
