/**
 * The production set-up: an app owned by a timelock (one-day delay) whose proposer and
 * executor is a 2-of-3 Safe. Ownership is moved EOA → Safe → timelock with two-step
 * acceptance, then the app is managed entirely through the tasks (Safe proposals that
 * schedule on the timelock, executed by the Safe after the delay), and governance-status
 * walks the chain of control.
 */
import { expect } from "chai";
import { getAddress, zeroAddress, type Address } from "viem";

import { safeAbi } from "../../src/governance/abi/safe.js";
import {
  DAY,
  bytes32,
  chain,
  chainMark,
  composeHashAllowed,
  expectError,
  expectNothingSent,
  freshApp,
  freshSafe,
  freshTimelock,
  ownerOf,
  readProposal,
  run,
  safeContractsFile,
  suiteWorkDir,
  timeTravel,
} from "./fixture.js";

describe("governance: Safe → timelock → app", function () {
  const dir = suiteWorkDir("dstack-gov-safe-timelock-");

  let accounts: Address[];
  let safe: Address;
  let timelock: Address;
  let app: Address;

  /** Owner 2 signs, owner 3 executes (the proposer, owner 1, signed when proposing). */
  async function signAndExecute(file: string): Promise<void> {
    const signed = await run("safe-sign", { proposal: file, from: accounts[1] });
    expect(signed.exitCode, signed.stdout + signed.stderr).to.equal(0);
    const executed = await run("safe-execute", { proposal: file, from: accounts[2] });
    expect(executed.exitCode, executed.stdout + executed.stderr).to.equal(0);
  }

  before(async function () {
    ({ accounts } = await chain());
    const safeContracts = await safeContractsFile(dir);
    safe = await freshSafe(safeContracts, [accounts[0]!, accounts[1]!, accounts[2]!], 2);
    timelock = await freshTimelock("1d", [safe], [safe]);
    app = (await freshApp()).address;
  });

  it("ownership moves EOA → Safe → timelock, each step accepted by the new owner", async function () {
    // EOA → Safe
    expect((await run("transfer-ownership", { app, to: safe })).exitCode).to.equal(0);
    expect((await ownerOf(app)).pendingOwner).to.equal(safe);
    // Only the pending owner may accept: the Safe route is checked against it.
    expectError(await run("accept-ownership", { app, via: "timelock", timelock }), 1, new RegExp(`--via timelock: timelock ${timelock} is not the pending owner of ${app}; the pending owner is ${safe}, a Safe`));
    const acceptBySafe = dir.file("1-accept-safe.json");
    expect((await run("accept-ownership", { app, via: "safe", safe, proposalOut: acceptBySafe })).exitCode).to.equal(0);
    await signAndExecute(acceptBySafe);
    expect(await ownerOf(app)).to.deep.equal({ owner: safe, pendingOwner: zeroAddress });

    // Safe → timelock: the Safe proposes the transfer; an address without code would be refused.
    expectError(await run("transfer-ownership", { app, to: accounts[9], via: "safe", safe }), 2, /--to: 0x[0-9a-fA-F]{40} has no code \(an EOA\?\); pass --to-eoa/);
    const transfer = dir.file("2-transfer.json");
    expect((await run("transfer-ownership", { app, to: timelock, via: "safe", safe, proposalOut: transfer })).exitCode).to.equal(0);
    await signAndExecute(transfer);
    expect(await ownerOf(app)).to.deep.equal({ owner: safe, pendingOwner: timelock });

    const pendingStatus = await run("governance-status", { app, json: true });
    expect(pendingStatus.json.pendingOwner).to.include({ kind: "timelock", address: timelock });
    expect(pendingStatus.json.warnings.map((w: { message: string }) => w.message)).to.include(`${timelock} is the pending owner: it takes control as soon as it runs accept-ownership`);

    // The timelock accepts: the Safe (its proposer) schedules acceptOwnership, and executes it after the delay.
    const accept = dir.file("3-accept-timelock.json");
    const proposed = await run("accept-ownership", { app, via: "safe,timelock", safe, timelock, proposalOut: accept, json: true });
    expect(proposed.exitCode, proposed.stdout + proposed.stderr).to.equal(0);
    const proposal = readProposal(accept);
    expect(proposal.to).to.equal(timelock);
    expect(proposal.actions.map((a) => a.step)).to.deep.equal(["1", "1.1"]);
    expect(proposal.actions[0]!.description).to.match(new RegExp(`^schedule 1 call on timelock ${timelock} with delay 1d`));
    expect(proposal.actions[1]!.description).to.equal(`accept the pending ownership of ${app}`);
    expect(proposal.timelock).to.include({ timelock, id: proposed.json.timelock.operationId, delay: String(DAY), batch: false });
    await signAndExecute(accept);
    expect((await run("timelock-status", { operation: accept, json: true })).json.state).to.equal("waiting");

    // Before the delay nothing can execute it; after, the executor role is the Safe's: the signer alone is refused.
    let mark = await chainMark();
    expectError(await run("timelock-execute", { operation: accept }), 1, /is not ready/);
    expectError(await run("timelock-execute", { operation: accept, via: "safe", safe }), 1, /is not ready/);
    await expectNothingSent(mark);
    await timeTravel(DAY);
    mark = await chainMark();
    expectError(await run("timelock-execute", { operation: accept }), 1, new RegExp(`signer ${accounts[0]} has no EXECUTOR_ROLE on timelock ${timelock}; if the Safe is the executor, run with --via safe --safe SAFE`));
    await expectNothingSent(mark);
    const execute = dir.file("4-execute.json");
    const executeProposal = await run("timelock-execute", { operation: accept, via: "safe", safe, proposalOut: execute, json: true });
    expect(executeProposal.exitCode, executeProposal.stdout + executeProposal.stderr).to.equal(0);
    expect(readProposal(execute).actions.map((a) => a.description)).to.deep.equal([
      `execute 1 scheduled call on timelock ${timelock} (salt ${proposal.timelock!.salt})`,
      `accept the pending ownership of ${app}`,
    ]);
    await signAndExecute(execute);
    expect(await ownerOf(app)).to.deep.equal({ owner: timelock, pendingOwner: zeroAddress });
  });

  it("the app is then managed through the tasks: Safe proposal → timelock schedule → delay → Safe executes", async function () {
    const hashes = [bytes32("release-1"), bytes32("release-2")];
    const propose = dir.file("5-add.json");
    const mark = await chainMark();
    // Not directly, and not by the Safe alone: both refusals name the timelock.
    expectError(await run("add-compose-hash", { app, hash: hashes[0] }), 1, new RegExp(`the owner is ${timelock}, a timelock \\(minimum delay 1d\\): schedule the change with --via timelock`));
    expectError(await run("add-compose-hash", { app, hash: hashes[0], via: "safe", safe }), 1, new RegExp(`--via safe: Safe ${safe} is not the owner of ${app}; the owner is ${timelock}, a timelock`));
    // The signer is not a proposer of the timelock: --via timelock is refused too.
    expectError(await run("add-compose-hash", { app, hash: hashes[0], via: "timelock", timelock }), 1, new RegExp(`signer ${accounts[0]} is not a proposer of timelock ${timelock}`));
    await expectNothingSent(mark);

    expect((await run("add-compose-hash", { app, hash: hashes.join(","), via: "safe,timelock", safe, timelock, proposalOut: propose })).exitCode).to.equal(0);
    const proposal = readProposal(propose);
    expect(proposal.actions.map((a) => a.description)).to.deep.equal([
      proposal.actions[0]!.description,
      `allow 2 compose hashes on app ${app}: ${hashes.join(", ")}`,
    ]);
    // The second owner reads exactly this before signing.
    const shown = await run("safe-sign", { proposal: propose, from: accounts[1], dryRun: true });
    expect(shown.stdout).to.include(`1.1. allow 2 compose hashes on app ${app}: ${hashes.join(", ")}`);
    expect(shown.stdout).to.match(/1\. schedule 1 call on timelock 0x[0-9a-fA-F]{40} with delay 1d/);
    await signAndExecute(propose);
    for (const hash of hashes) expect(await composeHashAllowed(app, hash)).to.equal(false);

    await timeTravel(DAY);
    const execute = dir.file("6-execute.json");
    expect((await run("timelock-execute", { operation: propose, via: "safe", safe, proposalOut: execute })).exitCode).to.equal(0);
    await signAndExecute(execute);
    for (const hash of hashes) expect(await composeHashAllowed(app, hash)).to.equal(true);
  });

  it("governance-status walks app → timelock → Safe → owners, with no warning for this set-up", async function () {
    const result = await run("governance-status", { app, failOnWarning: true, json: true });
    expect(result.exitCode, result.stdout + result.stderr).to.equal(0);
    const owner = result.json.owner;
    expect(owner).to.include({ kind: "timelock", address: timelock, minDelay: String(DAY), executorsOpen: false });
    expect(owner.proposers).to.have.length(1);
    expect(owner.proposers[0]).to.include({ kind: "safe", address: safe, threshold: "2" });
    expect(owner.proposers[0].owners.map((o: { kind: string; address: string }) => [o.kind, o.address])).to.deep.equal(accounts.slice(0, 3).map((a) => ["eoa", a]));
    expect(owner.executors).to.deep.equal([{ kind: "seen", address: safe }]);
    expect(owner.cancellers).to.deep.equal([safe]);
    expect(result.json.pendingOwner).to.equal(null);
    expect(result.json.warnings).to.deep.equal([]);
    const text = await run("governance-status", { app });
    expect(text.stdout).to.include(`timelock ${timelock}: minimum delay 1d`);
    expect(text.stdout).to.include(`Safe ${safe}: 2 of 3 owners`);
    expect(text.stdout).to.include("no weak set-up found");
  });
});

describe("governance-status: warnings for weak set-ups", function () {
  const dir = suiteWorkDir("dstack-gov-status-");

  it("EOA owner (a note on a test chain), 1-of-N Safe, zero-delay timelock with an EOA proposer and an admin", async function () {
    const { accounts } = await chain();
    const eoaOwned = (await freshApp()).address;
    const eoa = await run("governance-status", { app: eoaOwned, failOnWarning: true, json: true });
    expect(eoa.exitCode).to.equal(0);
    expect(eoa.json.owner).to.deep.equal({ kind: "eoa", address: accounts[0] });
    expect(eoa.json.warnings).to.deep.equal([{ severity: "note", message: `the owner ${accounts[0]} is an EOA: one stolen key can let new code boot (acceptable on a test network)` }]);

    const safeContracts = await safeContractsFile(dir);
    const loose = await freshSafe(safeContracts, [accounts[0]!, accounts[1]!], 1);
    const weakTimelock = await freshTimelock("0", [accounts[3]!, loose], "anyone", accounts[4]);
    const app = (await freshApp({ owner: weakTimelock })).address;
    const result = await run("governance-status", { app, json: true });
    expect(result.exitCode, result.stderr).to.equal(0);
    const messages = result.json.warnings.map((w: { message: string }) => w.message);
    expect(messages).to.deep.equal([
      `timelock ${weakTimelock} has a zero delay: it gives no time to review or react`,
      `proposer ${accounts[3]} of timelock ${weakTimelock} is an EOA: one key can schedule any change (it still waits out the delay)`,
      `proposer of timelock ${weakTimelock}: Safe ${loose} is 1-of-2: any single owner key can act alone`,
      `${accounts[4]} holds DEFAULT_ADMIN_ROLE on timelock ${weakTimelock}: it can grant roles without the delay (renounce it once set up)`,
    ]);
    expect(result.json.owner.executorsOpen).to.equal(true);
    const failing = await run("governance-status", { app, failOnWarning: true });
    expect(failing.exitCode).to.equal(1);
    expect(failing.stdout).to.match(/⚠ warning: timelock .* has a zero delay/);
    expectError(await run("governance-status", {}), 2, /^Error: give exactly one of --app ADDRESS or --kms ADDRESS$/);
  });

  it("a Safe with modules: every module listed (more than one page of getModulesPaginated) and warned about", async function () {
    const { accounts, connection, networkHelpers, publicClient } = await chain();
    const safe = await freshSafe(await safeContractsFile(dir), [accounts[0]!, accounts[1]!, accounts[2]!], 2);
    // Enabling a module is a call the Safe makes to itself: impersonate it.
    const modules = Array.from({ length: 55 }, (_, i) => getAddress(`0x${(0x1000 + i).toString(16).padStart(40, "0")}`));
    await networkHelpers.impersonateAccount(safe);
    await networkHelpers.setBalance(safe, 10n ** 18n);
    const asSafe = await connection.viem.getWalletClient(safe);
    for (const module of modules) {
      const hash = await asSafe.writeContract({ address: safe, abi: safeAbi, functionName: "enableModule", args: [module], account: safe, chain: null });
      await publicClient.waitForTransactionReceipt({ hash });
    }
    await networkHelpers.stopImpersonatingAccount(safe);

    const status = await run("safe-status", { safe, json: true });
    expect(status.exitCode, status.stderr).to.equal(0);
    expect([...status.json.modules].sort()).to.deep.equal([...modules].sort());
    const app = (await freshApp({ owner: safe })).address;
    const result = await run("governance-status", { app, failOnWarning: true, json: true });
    expect(result.exitCode).to.equal(1);
    expect(result.json.owner.modules).to.have.length(55);
    expect(result.json.warnings.map((w: { message: string }) => w.message)).to.deep.equal([
      `Safe ${safe} has module(s) ${result.json.owner.modules.join(", ")} enabled: they can execute without owner signatures`,
    ]);
  });
});
