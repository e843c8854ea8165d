/**
 * The governance tasks against Sepolia's state, through Hardhat's real forking path: the
 * `sepoliaFork` network forks the pinned block from the committed snapshot (served on
 * 127.0.0.1 by the on-demand server) or, with SEPOLIA_RPC_URL set, from live Sepolia.
 * Tasks run in-process on a runtime whose `--network` is `sepoliaFork`.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

import { expect } from "chai";
import hre from "hardhat";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { encodeAbiParameters, getAddress, keccak256, toHex, type Address, type Hex } from "viem";

import { removeForkCacheOnExit, startTrackedServer } from "../../src/fork/on-demand.js";
import { slotKey } from "../../src/fork/snapshot.js";
import {
  ROOT,
  TDX_LITE_FIXTURE,
  hasFixture,
  impersonate as impersonateOnFork,
  runTask,
  scenario,
  snapshot,
  snapshotJson,
  useFork,
  type ForkConnection as Connection,
  type HistoryEntry,
} from "./support.js";

const NEW_HASH: Hex = keccak256(toHex("fork test: a compose hash that was never allowed"));
/** Storage slot of `allowedComposeHashes[hash]` (mapping at slot 0 of DstackApp). */
const allowedSlot = (hash: Hex) => keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "uint256" }], [hash, 0n]));

describe("Sepolia fork: governance tasks on the recorded chain", function () {
  const fork = useFork();
  let runtime: HardhatRuntimeEnvironment;
  let connection: Connection;
  before(() => {
    runtime = fork.runtime();
    connection = fork.connection();
  });

  const impersonate = (account: Address) => impersonateOnFork(connection, account);
  async function allowed(app: Address, hash: Hex) {
    const contract = await connection.viem.getContractAt("DstackApp", app);
    return contract.read.allowedComposeHashes([hash]);
  }

  it("forks Sepolia at the snapshot's pinned block under Prague rules", async () => {
    const publicClient = await connection.viem.getPublicClient();
    expect(await publicClient.getChainId()).to.equal(11155111);
    const forking = (runtime.config.networks.sepoliaFork as { forking?: { blockNumber?: bigint } }).forking;
    expect(forking?.blockNumber, "hardhat.config.ts sepoliaFork.forking.blockNumber must be the snapshot's block").to.equal(BigInt(snapshot.blockNumber));
    expect(await publicClient.getBlockNumber()).to.equal(BigInt(snapshot.blockNumber));
    await connection.networkHelpers.mine();
    const mined = (await publicClient.request({ method: "eth_getBlockByNumber", params: ["latest", false] })) as Record<string, unknown>;
    expect(mined.number).to.equal(toHex(snapshot.blockNumber + 1));
    expect(mined, "a Prague block header carries requestsHash (EIP-7685)").to.have.property("requestsHash");
  });

  it("add-compose-hash, run as the impersonated recorded owner, allows a new hash on the forked app", async () => {
    const app = scenario.apps.eoa;
    expect(await allowed(app.address, NEW_HASH)).to.equal(false);
    await impersonate(app.owner);

    const run = await runTask(runtime, "add-compose-hash", { app: app.address, hash: NEW_HASH, from: app.owner, json: true });
    expect(run.exitCode, run.stdout + run.stderr).to.equal(0);
    expect(run.json.ok).to.equal(true);
    expect(await allowed(app.address, NEW_HASH)).to.equal(true);
    for (const hash of app.allowed) expect(await allowed(app.address, hash), hash).to.equal(true);
    const contract = await connection.viem.getContractAt("DstackApp", app.address);
    expect(getAddress(await contract.read.owner())).to.equal(getAddress(app.owner));
  });

  it("add-compose-hash from an account that is not the owner sends nothing and names the owner", async () => {
    const app = scenario.apps.eoa;
    const stranger = scenario.kms.owner;
    await impersonate(stranger);
    const run = await runTask(runtime, "add-compose-hash", { app: app.address, hash: NEW_HASH, from: stranger, json: true });
    expect(run.exitCode).to.not.equal(0);
    expect(JSON.stringify(run.json).toLowerCase()).to.include(app.owner.toLowerCase());
    expect(await allowed(app.address, NEW_HASH)).to.equal(false);
  });

  for (const name of ["eoa", "safe"] as const) {
    it(`list-compose-hashes rebuilds the recorded history of app "${name}" exactly`, async () => {
      const app = scenario.apps[name];
      const run = await runTask(runtime, "list-compose-hashes", { app: app.address, quiet: true, json: true });
      expect(run.exitCode, run.stdout + run.stderr).to.equal(0);
      const result = run.json as {
        allowed: Hex[];
        hashes: Array<{ composeHash: Hex; allowed: boolean; events: Array<{ action: string; blockNumber: string; blockTimestamp: string; transactionHash: Hex }> }>;
        crossCheck: { mismatches: unknown[] };
      };
      expect([...result.allowed].sort()).to.deep.equal([...app.allowed].sort());
      expect(result.crossCheck.mismatches).to.deep.equal([]);
      const events = result.hashes.flatMap((record) => record.events.map((e) => ({ composeHash: record.composeHash, ...e })));
      const key = (e: { blockNumber: string; composeHash: string }) => `${e.blockNumber.padStart(12, "0")} ${e.composeHash}`;
      const expected = [...app.history].sort((a, b) => (key(a) < key(b) ? -1 : 1));
      expect(events.map((e) => ({ composeHash: e.composeHash, action: e.action, blockNumber: e.blockNumber, transactionHash: e.transactionHash })).sort((a, b) => (key(a) < key(b) ? -1 : 1))).to.deep.equal(
        expected.map((e: HistoryEntry) => ({ composeHash: e.composeHash, action: e.action, blockNumber: e.blockNumber, transactionHash: e.transactionHash })),
      );
      // Times come from the recorded block headers (realistic 2025 Sepolia times).
      for (const event of events) {
        const header = snapshot.blocks[event.blockNumber];
        if (header !== undefined) expect(BigInt(event.blockTimestamp), `timestamp of block ${event.blockNumber}`).to.equal(BigInt(header.timestamp));
      }
    });
  }

  it("verify-attestation links the tdx-lite attestation to the forked app, and fails once its hash is removed on the fork", async function () {
    if (!hasFixture) {
      console.log(`      skipped: ${TDX_LITE_FIXTURE} is absent (../shared/fixtures comes with CI, not with a fresh clone)`);
      this.skip();
    }
    const attested = scenario.apps.attested;
    const verify = () => runTask(runtime, "verify-attestation", { bundle: TDX_LITE_FIXTURE, skipQuoteSignature: true, kms: scenario.kms.address, json: true });
    // biome-ignore lint/suspicious/noExplicitAny: parsed JSON output of the code under test, navigated freely by the assertions (a wrong shape fails them)
    const statusOf = (run: { json: any }, id: string) => (run.json.checks as Array<{ id: string; status: string; detail: string }>).find((c) => c.id === id);

    const before = await verify();
    expect(statusOf(before, "onchain-compose-hash")?.status, JSON.stringify(before.json.checks)).to.equal("pass");
    expect(statusOf(before, "onchain-compose-hash")?.detail).to.include(attested.address.toLowerCase().slice(2, 10));
    expect(statusOf(before, "onchain-app-registered")?.status).to.equal("pass");
    expect(statusOf(before, "onchain-os-image")?.status).to.equal("pass");

    await impersonate(attested.owner);
    const removal = await runTask(runtime, "remove-compose-hash", { app: attested.address, hash: attested.composeHash, from: attested.owner, json: true });
    expect(removal.exitCode, removal.stdout + removal.stderr).to.equal(0);

    const after = await verify();
    expect(statusOf(after, "onchain-compose-hash")?.status).to.equal("fail");
    expect(statusOf(after, "onchain-compose-hash")?.detail).to.match(/is NOT allowed/);
    expect(after.exitCode).to.equal(1);
  });

  it("a snapshot that lacks a slot the test needs gives an error naming the slot, not a zero", async () => {
    const app = scenario.apps.eoa.address;
    const hash = scenario.apps.eoa.allowed[0]!;
    const partial = snapshotJson();
    const account = partial.accounts[app.toLowerCase() as Hex]!;
    const slot = slotKey(allowedSlot(hash));
    expect(account.storage[slot], "the committed snapshot records the slot").to.not.equal(undefined);
    delete account.storage[slot];
    account.storageComplete = false;
    account.storageMethod = "known-slots";
    const server = await startTrackedServer(partial, "snapshot-without-a-slot.json");
    // EDR's disk cache of this one-off server's answers is useless later (live mode starts no plugin server to clean it).
    removeForkCacheOnExit(`${hre.config.paths.cache}/edr-fork-cache`);
    const forked = await hre.network.create({ network: "sepoliaFork", override: { forking: { url: server.url, blockNumber: partial.blockNumber } } });
    try {
      const contract = await forked.viem.getContractAt("DstackApp", app);
      // A recorded slot still reads (the owner), so the failure below is about that slot only.
      expect(getAddress(await contract.read.owner())).to.equal(getAddress(scenario.apps.eoa.owner));
      let message = "";
      try {
        const value = await contract.read.allowedComposeHashes([hash]);
        message = `read returned ${value}`;
      } catch (error) {
        message = String((error as Error).message);
      }
      expect(message).to.include(slot);
      expect(message).to.include(app.toLowerCase());
      expect(message).to.match(/recorded incompletely/);
    } finally {
      await forked.close();
    }
  });

  it("`npx hardhat --network sepoliaFork` works with no set-up and exits (the on-demand server stops with it)", async function () {
    const env = { ...process.env };
    delete env.SEPOLIA_RPC_URL;
    delete env.HH_TEST;
    const app = scenario.apps.safe;
    const { stdout } = await promisify(execFile)(process.execPath, [`${ROOT}/node_modules/hardhat/dist/src/cli.js`, "app-info", "--app", app.address, "--network", "sepoliaFork", "--json"], {
      cwd: ROOT,
      env,
      timeout: 60_000,
    });
    const info = JSON.parse(stdout) as { ok: boolean; owner: unknown };
    expect(info.ok).to.equal(true);
    expect(JSON.stringify(info.owner).toLowerCase()).to.include(app.owner.toLowerCase());
  });
});
