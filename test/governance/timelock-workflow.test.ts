/**
 * OpenZeppelin TimelockController routes on the simulated chain, through the tasks: a
 * timelock with a one-day delay owns an app; changes are scheduled with --via timelock
 * and executed after the delay (time travel with Hardhat's network helpers); pending /
 * ready / done are reported; operations can be cancelled; refusals are clear.
 */
import { expect } from "chai";
import { getAddress, type Address, type Hex } from "viem";

import { timelockControllerAbi } from "../../src/governance/abi/timelock-controller.js";
import { TIMELOCK_ROLES } from "../../src/governance/describe-call.js";
import { operationId } from "../../src/governance/timelock-operation.js";
import { ROLE_IDS } from "../../src/governance/timelock-state.js";
import {
  DAY,
  bytes32,
  chain,
  chainMark,
  composeHashAllowed,
  expectError,
  expectNothingSent,
  freshApp,
  freshTimelock,
  ownerOf,
  run,
  suiteWorkDir,
  timeTravel,
} from "./fixture.js";

describe("governance: a timelock with a one-day delay owns an app", function () {
  const dir = suiteWorkDir("dstack-gov-timelock-");

  let accounts: Address[];
  let timelock: Address;
  let app: Address;

  before(async function () {
    ({ accounts } = await chain());
    timelock = await freshTimelock("1d", [accounts[0]!], "anyone");
    app = (await freshApp()).address;
  });

  it("the role ids and the operation id match the contract's own", async function () {
    const { publicClient } = await chain();
    for (const [name, fn] of [["proposer", "PROPOSER_ROLE"], ["executor", "EXECUTOR_ROLE"], ["canceller", "CANCELLER_ROLE"], ["admin", "DEFAULT_ADMIN_ROLE"]] as const) {
      const id = await publicClient.readContract({ address: timelock, abi: timelockControllerAbi, functionName: fn });
      expect(id, name).to.equal(ROLE_IDS[name]);
      expect(TIMELOCK_ROLES[id]).to.equal(fn);
    }
    const calls = [
      { to: app, value: 0n, data: "0x1234" as Hex },
      { to: accounts[1]!, value: 5n, data: "0x" as Hex },
    ];
    const salt = bytes32("salt");
    const predecessor = bytes32("pred");
    const single = await publicClient.readContract({ address: timelock, abi: timelockControllerAbi, functionName: "hashOperation", args: [app, 0n, "0x1234", predecessor, salt] });
    expect(operationId({ calls: calls.slice(0, 1), predecessor, salt, batch: false })).to.equal(single);
    const batch = await publicClient.readContract({
      address: timelock,
      abi: timelockControllerAbi,
      functionName: "hashOperationBatch",
      args: [calls.map((c) => c.to), calls.map((c) => c.value), calls.map((c) => c.data), predecessor, salt],
    });
    expect(operationId({ calls, predecessor, salt, batch: true })).to.equal(batch);
  });

  it("two-step acceptance through the timelock: execute before the delay fails, after it passes", async function () {
    expect((await run("transfer-ownership", { app, to: timelock })).exitCode).to.equal(0);
    const file = dir.file("accept.json");
    const scheduled = await run("accept-ownership", { app, via: "timelock", timelock, operationOut: file, json: true });
    expect(scheduled.exitCode, scheduled.stdout + scheduled.stderr).to.equal(0);
    expect(scheduled.json).to.include({ ok: true, sent: true, route: "timelock", timelock, state: "waiting", operation: file, delay: String(DAY) });
    expect((await ownerOf(app)).owner).to.equal(accounts[0]);

    const mark = await chainMark();
    expectError(await run("timelock-execute", { operation: file }), 1, /operation 0x[0-9a-f]{64} is not ready: it becomes executable at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in (23h 59m \d+s|1d)\); the timelock's delay has not passed/);
    await expectNothingSent(mark);

    await timeTravel(DAY);
    const executed = await run("timelock-execute", { operation: file, json: true });
    expect(executed.exitCode, executed.stdout + executed.stderr).to.equal(0);
    expect(executed.json).to.include({ ok: true, sent: true, confirmed: true, operationId: scheduled.json.operationId });
    expect(await ownerOf(app)).to.deep.equal({ owner: timelock, pendingOwner: "0x0000000000000000000000000000000000000000" });

    // Done: a second execution sends nothing and says so.
    const mark2 = await chainMark();
    const again = await run("timelock-execute", { operation: file });
    expect(again.exitCode).to.equal(0);
    expect(again.stdout).to.match(/was already executed; nothing to send/);
    await expectNothingSent(mark2);
  });

  it("--via timelock schedules a compose hash; timelock-status shows pending (ready at T), ready, done; execute by --timelock --id from events", async function () {
    const hash = bytes32("timelock-hash");
    const salt = bytes32("my-salt");
    const file = dir.file("hash.json");
    const scheduled = await run("add-compose-hash", { app, hash, via: "timelock", timelock, salt, operationOut: file, json: true });
    expect(scheduled.exitCode, scheduled.stdout + scheduled.stderr).to.equal(0);
    const id = scheduled.json.operationId as Hex;
    expect(scheduled.json.salt).to.equal(salt);
    const { publicClient } = await chain();
    const written = JSON.parse((await import("node:fs")).readFileSync(file, "utf8"));
    expect(written).to.include({ format: "dstack-governance/timelock-operation", chainId: 31337 });
    const call = written.operation.calls[0];
    expect(call.to).to.equal(app);
    const expectedId = await publicClient.readContract({ address: timelock, abi: timelockControllerAbi, functionName: "hashOperation", args: [app, 0n, call.data, `0x${"0".repeat(64)}`, salt] });
    expect(id).to.equal(expectedId);

    const pending = await run("timelock-status", { operation: file, json: true });
    expect(pending.exitCode, pending.stderr).to.equal(0);
    expect(pending.json).to.include({ id, state: "waiting" });
    expect(BigInt(pending.json.readyAt) - BigInt(pending.json.now)).to.equal(BigInt(DAY));
    expect(pending.json.actions.map((a: { description: string }) => a.description)).to.deep.equal([`allow compose hash ${hash} on app ${app}`]);
    const text = await run("timelock-status", { operation: file });
    expect(text.stdout).to.match(/pending: ready at \S+ \(in 1d\)/);

    await timeTravel(DAY);
    const listing = await run("timelock-status", { timelock, json: true });
    expect(listing.exitCode, listing.stderr).to.equal(0);
    expect(listing.json.roles.proposer).to.deep.equal([accounts[0]]);
    expect(listing.json.roles.executor).to.deep.equal(["0x0000000000000000000000000000000000000000"]);
    const states = Object.fromEntries(listing.json.operations.map((op: { id: string; state: string }) => [op.id, op.state]));
    expect(states[id]).to.equal("ready");
    expect(Object.values(states)).to.include("done"); // the acceptance of the previous test

    // Rebuilt from CallScheduled/CallSalt events: no file needed.
    const executed = await run("timelock-execute", { timelock, id, from: accounts[4], json: true });
    expect(executed.exitCode, executed.stdout + executed.stderr).to.equal(0);
    expect(await composeHashAllowed(app, hash)).to.equal(true);
    expect((await run("timelock-status", { timelock, id, json: true })).json.state).to.equal("done");
  });

  it("timelock-cancel: a proposer cancels a pending operation, which then cannot execute", async function () {
    const file = dir.file("cancel.json");
    const hash = bytes32("cancel-me");
    expect((await run("add-compose-hash", { app, hash, via: "timelock", timelock, operationOut: file })).exitCode).to.equal(0);
    expectError(await run("timelock-cancel", { operation: file, from: accounts[3] }), 1, new RegExp(`signer ${accounts[3]} has no CANCELLER_ROLE on timelock ${timelock}`));
    const cancelled = await run("timelock-cancel", { operation: file, json: true });
    expect(cancelled.exitCode, cancelled.stdout).to.equal(0);
    expect(cancelled.json).to.include({ confirmed: true });
    await timeTravel(DAY);
    expectError(await run("timelock-execute", { operation: file }), 1, /is not scheduled on timelock .* \(never scheduled, or cancelled\)/);
    expect(await composeHashAllowed(app, hash)).to.equal(false);
  });

  it("--predecessor: an operation runs only after its predecessor; an unknown predecessor is refused", async function () {
    const first = dir.file("first.json");
    const second = dir.file("second.json");
    const [h1, h2] = [bytes32("first"), bytes32("second")];
    const a = await run("add-compose-hash", { app, hash: h1, via: "timelock", timelock, operationOut: first, json: true });
    expect(a.exitCode, a.stdout + a.stderr).to.equal(0);
    expectError(await run("add-compose-hash", { app, hash: h2, via: "timelock", timelock, predecessor: bytes32("nothing") }), 2, /^Error: --predecessor: operation 0x[0-9a-f]{64} is not scheduled on timelock/);
    const b = await run("add-compose-hash", { app, hash: h2, via: "timelock", timelock, predecessor: a.json.operationId, operationOut: second, json: true });
    expect(b.exitCode, b.stdout + b.stderr).to.equal(0);
    expect(b.json.predecessor).to.equal(a.json.operationId);
    await timeTravel(DAY);
    expectError(await run("timelock-execute", { operation: second }), 1, new RegExp(`runs only after its predecessor ${a.json.operationId}, which is not executed yet \\(ready\\): execute that first`));
    expect((await run("timelock-execute", { operation: first })).exitCode).to.equal(0);
    expect((await run("timelock-execute", { operation: second })).exitCode).to.equal(0);
    expect(await composeHashAllowed(app, h2)).to.equal(true);
  });

  it("refusals: delay below the minimum, a signer that is not a proposer, the same operation twice, the direct route, an edited operation file", async function () {
    const hash = bytes32("refusals");
    const salt = bytes32("fixed");
    const mark = await chainMark();
    expectError(await run("add-compose-hash", { app, hash, via: "timelock", timelock, delay: "1h" }), 2, /^Error: --delay: 1h is below the minimum delay of timelock 0x[0-9a-fA-F]{40} \(1d\)$/);
    expectError(await run("add-compose-hash", { app, hash, via: "timelock", timelock, from: accounts[3] }), 1, new RegExp(`signer ${accounts[3]} is not a proposer of timelock ${timelock} \\(no PROPOSER_ROLE\\)`));
    expectError(
      await run("add-compose-hash", { app, hash }),
      1,
      new RegExp(`^Error: signer ${accounts[0]} is not the owner of ${app}; the owner is ${timelock}, a timelock \\(minimum delay 1d\\): schedule the change with --via timelock --timelock ${timelock}`),
    );
    expectError(await run("add-compose-hash", { app, hash, via: "timelock" }), 2, /^Error: --timelock is required with --via timelock/);
    expectError(await run("add-compose-hash", { app, hash, via: "timelock", timelock, proposalOut: "x.json" }), 2, /^Error: --proposal-out only applies with --via safe/);
    expectError(await run("add-compose-hash", { app, hash, via: "timelock", timelock, delay: "soon" }), 2, /^Error: --delay: expected seconds or a duration/);
    expectError(await run("timelock-execute", { operation: dir.file("nope.json"), via: "timelock" }), 2, /^Error: --via: timelock-execute runs directly or through a Safe/);
    await expectNothingSent(mark);

    const file = dir.file("twice.json");
    expect((await run("add-compose-hash", { app, hash, via: "timelock", timelock, salt, operationOut: file })).exitCode).to.equal(0);
    const mark2 = await chainMark();
    expectError(await run("add-compose-hash", { app, hash, via: "timelock", timelock, salt }), 1, /timelock operation 0x[0-9a-f]{64} already exists \(waiting\); schedule the same calls again with another --salt/);

    // An operation file whose calls were edited no longer hashes to its id.
    const fs = await import("node:fs");
    const text = fs.readFileSync(file, "utf8");
    const edited = dir.file("edited.json");
    fs.writeFileSync(edited, text.replace(hash.slice(2), bytes32("other").slice(2)));
    expectError(await run("timelock-execute", { operation: edited }), 1, /the operation id 0x[0-9a-f]{64} does not match its calls, predecessor and salt .* the file was edited/);
    await expectNothingSent(mark2);
  });

  it("deploy-timelock validates its inputs and warns about weak set-ups", async function () {
    const mark = await chainMark();
    expectError(await run("deploy-timelock", { proposers: accounts[0], executors: "anyone" }), 2, /^Error: --min-delay is required/);
    expectError(await run("deploy-timelock", { minDelay: "1d", executors: "anyone" }), 2, /^Error: --proposers is required/);
    expectError(await run("deploy-timelock", { minDelay: "1d", proposers: "0x12", executors: "anyone" }), 2, /^Error: --proposers: expected a 0x-prefixed 20-byte address/);
    await expectNothingSent(mark);
    const weak = await run("deploy-timelock", { minDelay: "0", proposers: accounts[0], executors: accounts[0], admin: accounts[0], json: true });
    expect(weak.exitCode).to.equal(0);
    expect(weak.json.warnings).to.have.length(3);
    expect(weak.json.warnings.join("\n")).to.match(/zero minimum delay/).and.match(/DEFAULT_ADMIN_ROLE/).and.match(/proposer .* is an EOA/);
    expect(getAddress(weak.json.timelock)).to.be.a("string");
  });
});
