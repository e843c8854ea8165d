/**
 * The multisig chain of control as recorded on Sepolia — app "safe" owned by a one-day
 * TimelockController whose only proposer and executor is a 2-of-3 Safe v1.4.1 — read and
 * driven through the tasks on the `sepoliaFork` network: `governance-status` walks it,
 * `timelock-status` finds the recorded pending removal, and a new compose hash goes the
 * whole way Safe proposal → co-signature → schedule → delay → Safe → execute on the
 * forked Safe. The recorded pending removal is then executed the same way.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { getAddress, keccak256, toHex, type Address, type Hex } from "viem";

import { operationId } from "../../src/governance/timelock-operation.js";
import { runTask, scenario, snapshot, takeOverSafe, useFork, type ForkConnection } from "./support.js";

const NEW_HASH: Hex = keccak256(toHex("fork test: a release proposed through the Safe and the timelock"));
const DAY = 86_400;

describe("Sepolia fork: the recorded Safe → timelock → app chain of control", function () {
  const fork = useFork();
  let runtime: HardhatRuntimeEnvironment;
  let connection: ForkConnection;
  let dir: string;
  const app = scenario.apps.safe;
  const safe = getAddress(app.safe.address);
  const timelock = getAddress(app.timelock.address);
  const recordedPending = app.timelock.pending[0]!;
  const pendingId = operationId({
    calls: [{ to: recordedPending.target, value: 0n, data: recordedPending.data }],
    predecessor: recordedPending.predecessor,
    salt: recordedPending.salt,
    batch: false,
  });

  before(() => {
    runtime = fork.runtime();
    connection = fork.connection();
    dir = mkdtempSync(path.join(tmpdir(), "dstack-fork-governance-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (name: string, options: Record<string, string | boolean | undefined>) => runTask(runtime, name, options);
  const file = (name: string) => path.join(dir, name);
  async function allowed(hash: Hex): Promise<boolean> {
    const contract = await connection.viem.getContractAt("DstackApp", app.address);
    return contract.read.allowedComposeHashes([hash]);
  }

  it("governance-status walks app → timelock (1d) → 2-of-3 Safe → its owners, as recorded, with no warning", async () => {
    const result = await run("governance-status", { app: app.address, json: true });
    expect(result.exitCode, result.stdout + result.stderr).to.equal(0);
    const owner = result.json.owner;
    expect(owner).to.include({ kind: "timelock", address: timelock, minDelay: String(app.timelock.minDelay), executorsOpen: false });
    expect(owner.proposers).to.have.length(1);
    const proposer = owner.proposers[0];
    expect(proposer).to.include({ kind: "safe", address: safe, threshold: String(app.safe.threshold), nonce: String(app.safe.nonce), version: app.safe.version });
    expect(proposer.singletonRelease, "the recorded Safe runs a recognised singleton").to.be.a("string");
    expect(proposer.owners.map((node: { kind: string; address: Address }) => [node.kind, node.address])).to.deep.equal(app.safe.owners.map((address) => ["eoa", getAddress(address)]));
    expect(owner.executors).to.deep.equal([{ kind: "seen", address: safe }]);
    expect(owner.admins).to.deep.equal([]);
    expect(result.json.pendingOwner).to.equal(null);
    expect(result.json.warnings).to.deep.equal([]);

    const text = await run("governance-status", { app: app.address });
    expect(text.stdout).to.include(`timelock ${timelock}: minimum delay 1d`);
    expect(text.stdout).to.include(`Safe ${safe}: 2 of 3 owners`);
  });

  it("governance-status flags the EOA-owned app (a note on Sepolia, a test network)", async () => {
    const result = await run("governance-status", { app: scenario.apps.eoa.address, json: true });
    expect(result.exitCode, result.stdout + result.stderr).to.equal(0);
    expect(result.json.owner).to.deep.equal({ kind: "eoa", address: getAddress(scenario.apps.eoa.owner) });
    expect(result.json.warnings).to.deep.equal([
      { severity: "note", message: `the owner ${getAddress(scenario.apps.eoa.owner)} is an EOA: one stolen key can let new code boot (acceptable on a test network)` },
    ]);
    // --fail-on-warning fails on warnings only, not on notes.
    expect((await run("governance-status", { app: scenario.apps.eoa.address, failOnWarning: true })).exitCode).to.equal(0);
  });

  it("timelock-status rebuilds the roles and operations from the recorded events: the removal is pending, ready 12 h after the fork block", async () => {
    const result = await run("timelock-status", { timelock, json: true });
    expect(result.exitCode, result.stdout + result.stderr).to.equal(0);
    expect(result.json.roles.proposer).to.deep.equal([safe]);
    expect(result.json.roles.executor).to.deep.equal([safe]);
    const operations = result.json.operations as Array<{ id: Hex; state: string; readyAt: string | null; actions: Array<{ description: string }> }>;
    const pending = operations.find((op) => op.id === pendingId);
    expect(pending, `operation ${pendingId} among ${operations.map((op) => op.id).join(", ")}`).to.not.equal(undefined);
    expect(pending!.state).to.equal("waiting");
    expect(String(pending!.readyAt)).to.equal(recordedPending.readyAt);
    expect(Number(recordedPending.readyAt)).to.be.greaterThan(Number(BigInt(snapshot.blocks[String(snapshot.blockNumber)]!.timestamp)));
    expect(pending!.actions.map((a) => a.description)).to.deep.equal([`remove compose hash ${app.allowed[0]} from app ${getAddress(app.address)}`]);
    // The recorded addition went through the same timelock and is done.
    expect(operations.filter((op) => op.state === "done")).to.have.length(1);
  });

  it("a release on the forked Safe: propose via safe,timelock, co-sign, execute, wait a day, execute through the Safe; then the recorded removal", async function () {
    const wallets = await connection.viem.getWalletClients();
    const [alice, bob] = wallets.map((wallet) => getAddress(wallet.account.address));
    await takeOverSafe(connection, safe, [alice!, bob!]);
    expect(await allowed(NEW_HASH)).to.equal(false);

    // Alice proposes: a Safe transaction at the recorded nonce that schedules the change.
    const release = file("release.json");
    const proposed = await run("add-compose-hash", { app: app.address, hash: NEW_HASH, via: "safe,timelock", safe, timelock, proposalOut: release, from: alice, json: true });
    expect(proposed.exitCode, proposed.stdout + proposed.stderr).to.equal(0);
    const proposal = JSON.parse(readFileSync(release, "utf8"));
    expect(proposal).to.include({ chainId: 11155111, safe, to: timelock, nonce: String(app.safe.nonce) });
    expect(proposal.actions.map((a: { description: string }) => a.description)[1]).to.equal(`allow compose hash ${NEW_HASH} on app ${getAddress(app.address)}`);

    // Bob checks and signs; anyone executes: the timelock now holds the operation.
    expect((await run("safe-sign", { proposal: release, from: bob })).exitCode).to.equal(0);
    const scheduled = await run("safe-execute", { proposal: release, from: wallets[5]!.account.address, json: true });
    expect(scheduled.exitCode, scheduled.stdout + scheduled.stderr).to.equal(0);
    const status = await run("timelock-status", { operation: release, json: true });
    expect(status.json.state).to.equal("waiting");

    // Too early: refused, nothing proposed.
    const early = await run("timelock-execute", { operation: release, via: "safe", safe, proposalOut: file("early.json"), from: alice });
    expect(early.exitCode).to.equal(1);
    expect(early.stderr).to.match(/is not ready: it becomes executable at .*the timelock's delay has not passed/);

    await connection.networkHelpers.time.increase(DAY + 1);
    const execute = file("release-execute.json");
    expect((await run("timelock-execute", { operation: release, via: "safe", safe, proposalOut: execute, from: alice })).exitCode).to.equal(0);
    expect((await run("safe-sign", { proposal: execute, from: bob })).exitCode).to.equal(0);
    const done = await run("safe-execute", { proposal: execute, json: true });
    expect(done.exitCode, done.stdout + done.stderr).to.equal(0);
    expect(await allowed(NEW_HASH)).to.equal(true);
    expect((await run("timelock-status", { operation: release, json: true })).json.state).to.equal("done");

    // The recorded removal is past its delay now too: executed from its events (no file).
    expect(await allowed(app.allowed[0]!)).to.equal(true);
    const removal = file("removal-execute.json");
    const planned = await run("timelock-execute", { timelock, id: pendingId, via: "safe", safe, proposalOut: removal, from: alice, json: true });
    expect(planned.exitCode, planned.stdout + planned.stderr).to.equal(0);
    expect((await run("safe-sign", { proposal: removal, from: bob })).exitCode).to.equal(0);
    expect((await run("safe-execute", { proposal: removal })).exitCode).to.equal(0);
    expect(await allowed(app.allowed[0]!)).to.equal(false);
    expect(await allowed(app.allowed[1]!)).to.equal(true);

    // The history now ends with both changes.
    const listed = await run("list-compose-hashes", { app: app.address, quiet: true, json: true });
    expect(listed.exitCode, listed.stdout + listed.stderr).to.equal(0);
    expect([...listed.json.allowed].sort()).to.deep.equal([app.allowed[1]!, NEW_HASH].sort());
  });

  it("the recorded owners' signatures are required: a proposal signed by an account that is not an owner of the forked Safe is refused", async () => {
    const [stranger] = (await connection.viem.getWalletClients()).map((wallet) => getAddress(wallet.account.address));
    const result = await run("add-compose-hash", { app: app.address, hash: NEW_HASH, via: "safe,timelock", safe, timelock, proposalOut: file("stranger.json"), from: stranger, json: true });
    expect(result.exitCode).to.equal(1);
    expect(result.json.error.message).to.include(`signer ${stranger} is not an owner of Safe ${safe}`);
  });
});
