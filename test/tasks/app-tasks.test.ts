/**
 * The app management tasks in-process: deploy-app (own proxy and through a KMS factory),
 * app-info, devices, flags, disable-upgrades, upgrade-app, and the two-step ownership
 * transfer. State is re-read from the contracts with viem after each change.
 */
import { expect } from "chai";
import { decodeFunctionData, getAddress, zeroAddress, type Address } from "viem";

import { dstackAppAbi } from "../../src/abi/dstack-app.js";
import { dstackKmsAbi } from "../../src/abi/dstack-kms.js";
import { ERC1967_IMPLEMENTATION_SLOT } from "../../src/chain/app-state.js";
import { deployKmsProxy } from "../support/contracts.js";
import { bytes32, chain, chainMark, expectError, expectNothingSent, freshApp, freshKms, run, restoreChainAfter } from "./fixture.js";

async function readApp(app: Address) {
  const { publicClient } = await chain();
  const read = <F extends "owner" | "pendingOwner" | "allowAnyDevice" | "requireTcbUpToDate" | "upgradesDisabled" | "version">(functionName: F) =>
    publicClient.readContract({ address: app, abi: dstackAppAbi, functionName } as never) as Promise<unknown>;
  const slot = await publicClient.getStorageAt({ address: app, slot: ERC1967_IMPLEMENTATION_SLOT });
  return {
    owner: getAddress((await read("owner")) as string),
    pendingOwner: getAddress((await read("pendingOwner")) as string),
    allowAnyDevice: (await read("allowAnyDevice")) as boolean,
    requireTcbUpToDate: (await read("requireTcbUpToDate")) as boolean,
    upgradesDisabled: (await read("upgradesDisabled")) as boolean,
    version: (await read("version")) as bigint,
    implementation: getAddress(`0x${slot!.slice(-40)}`),
  };
}

describe("tasks: deploy-app and app-info", function () {
  restoreChainAfter();
  it("deploy-app: its own proxy, initialised with the flags; the JSON matches the chain", async function () {
    const { publicClient, accounts } = await chain();
    const composeHash = bytes32("deploy-compose");
    const device = bytes32("deploy-device");
    const before = await publicClient.getBlockNumber({ cacheTime: 0 });
    const result = await run("deploy-app", { owner: accounts[1], composeHash, device, requireTcbUpToDate: true, json: true });
    expect(result.exitCode, result.stdout).to.equal(0);
    const { app, implementation, transactions } = result.json;
    expect(result.json).to.include({ ok: true, chainId: 31337, kms: null, owner: accounts[1], composeHash });
    expect(transactions.map((t: { step: string }) => t.step)).to.deep.equal(["implementation", "proxy"]);
    expect(await publicClient.getBlockNumber({ cacheTime: 0 })).to.equal(before + 2n);
    const proxyReceipt = await publicClient.getTransactionReceipt({ hash: transactions[1].transactionHash });
    expect(getAddress(proxyReceipt.contractAddress!)).to.equal(app);
    const state = await readApp(app);
    expect(state).to.deep.include({ owner: accounts[1], implementation: getAddress(implementation), allowAnyDevice: false, requireTcbUpToDate: true, upgradesDisabled: false, version: 2n });
    expect(await publicClient.readContract({ address: app, abi: dstackAppAbi, functionName: "allowedComposeHashes", args: [composeHash] })).to.equal(true);
    expect(await publicClient.readContract({ address: app, abi: dstackAppAbi, functionName: "allowedDeviceIds", args: [device] })).to.equal(true);
  });

  it("deploy-app --kms: through the factory, registered with the KMS, implementation = the KMS's", async function () {
    const { publicClient, accounts } = await chain();
    const kms = await freshKms();
    const result = await run("deploy-app", { kms: kms.address, allowAnyDevice: true, json: true });
    expect(result.exitCode, result.stdout).to.equal(0);
    const app = getAddress(result.json.app);
    expect(result.json.kms).to.equal(kms.address);
    expect(result.json.implementation).to.equal(kms.appImplementation);
    expect(result.json.transactions).to.have.length(1);
    expect(result.json.transactions[0].step).to.equal("deployAndRegisterApp");
    const tx = await publicClient.getTransaction({ hash: result.json.transactions[0].transactionHash });
    expect(getAddress(tx.to!)).to.equal(kms.address);
    expect(decodeFunctionData({ abi: dstackKmsAbi, data: tx.input }).functionName).to.equal("deployAndRegisterApp");
    expect(await publicClient.readContract({ address: kms.address, abi: dstackKmsAbi, functionName: "registeredApps", args: [app] })).to.equal(true);
    const state = await readApp(app);
    expect(state).to.deep.include({ owner: accounts[0], implementation: kms.appImplementation, allowAnyDevice: true, requireTcbUpToDate: false });
  });

  it("deploy-app: --disable-upgrades needs --yes (exit 2, nothing sent); with --yes the app is frozen", async function () {
    const mark = await chainMark();
    const refused = await run("deploy-app", { disableUpgrades: true });
    expectError(refused, 2, /--disable-upgrades is irreversible.*add --yes to confirm/);
    await expectNothingSent(mark);
    const frozen = await run("deploy-app", { disableUpgrades: true, yes: true, json: true });
    expect(frozen.exitCode).to.equal(0);
    expect((await readApp(frozen.json.app)).upgradesDisabled).to.equal(true);
  });

  it("deploy-app refuses (nothing sent): --device with --allow-any-device, zero hash, --kms that is an app, KMS without app implementation", async function () {
    const { viem, accounts } = await chain();
    const app = await freshApp();
    const bareKms = await deployKmsProxy(viem, accounts[0]!);
    const mark = await chainMark();
    expectError(await run("deploy-app", { allowAnyDevice: true, device: bytes32("d") }), 2, /--device has no effect with --allow-any-device/);
    expectError(await run("deploy-app", { composeHash: `0x${"0".repeat(64)}` }), 2, /^Error: --compose-hash: the zero hash is not a valid value$/);
    expectError(await run("deploy-app", { kms: app.address }), 1, /is not a DstackKms-compatible contract: it has no appImplementation\(\)/);
    expectError(
      await run("deploy-app", { kms: bareKms.proxy.address }),
      2,
      new RegExp(`^Error: --kms: ${getAddress(bareKms.proxy.address)} has no app implementation; run set-app-implementation first$`),
    );
    await expectNothingSent(mark);
  });

  it("app-info: owner, implementation, version, flags and interfaces as the contract reports them", async function () {
    const { accounts, publicClient } = await chain();
    const app = await freshApp({ requireTcbUpToDate: true });
    const result = await run("app-info", { app: app.address, json: true });
    expect(result.exitCode).to.equal(0);
    expect(result.json).to.deep.include({
      ok: true,
      address: app.address,
      chainId: 31337,
      owner: accounts[0],
      ownerKind: "EOA",
      pendingOwner: zeroAddress,
      implementation: getAddress(app.implementation.address),
      version: "2",
      allowAnyDevice: false,
      requireTcbUpToDate: true,
      upgradesDisabled: false,
      interfaces: { appAuth: true, basicManagement: true, batchManagement: true },
    });
    expect(result.json.blockNumber).to.equal((await publicClient.getBlockNumber({ cacheTime: 0 })).toString());
    const text = await run("app-info", { app: app.address });
    expect(text.stdout).to.include(`  owner                 ${accounts[0]} (EOA)`);
    expect(text.stdout).to.include("  pending owner         none");
  });
});

describe("tasks: devices and flags", function () {
  restoreChainAfter();
  let app: Address;
  before(async function () {
    app = (await freshApp()).address;
  });

  const deviceAllowed = async (device: `0x${string}`) =>
    (await chain()).publicClient.readContract({ address: app, abi: dstackAppAbi, functionName: "allowedDeviceIds", args: [device] });

  it("add-device / remove-device: one transaction per device (no batch function), idempotent", async function () {
    const { publicClient } = await chain();
    const devices = [bytes32("device-1"), bytes32("device-2")];
    const before = await publicClient.getBlockNumber({ cacheTime: 0 });
    const added = await run("add-device", { app, device: devices.join(","), json: true });
    expect(added.exitCode).to.equal(0);
    expect(added.json.transactions).to.have.length(2);
    // Each hash is printed as it is sent, before its receipt.
    const sentLines = added.stderr.split("\n").filter((line) => line.startsWith("sent: "));
    expect(sentLines).to.have.length(2);
    for (const [i, line] of sentLines.entries()) {
      expect(line).to.equal(`sent: allow device ${devices[i]} on app ${app}: tx ${added.json.transactions[i].hash} (nonce ${line.match(/nonce (\d+)/)![1]})`);
    }
    expect(await publicClient.getBlockNumber({ cacheTime: 0 })).to.equal(before + 2n);
    for (const device of devices) expect(await deviceAllowed(device)).to.equal(true);

    const mark = await chainMark();
    const again = await run("add-device", { app, device: devices[0] });
    expect(again.stdout).to.equal(`= ${devices[0]}: device already allowed; nothing to send`);
    await expectNothingSent(mark);

    const removed = await run("remove-device", { app, device: devices[0], json: true });
    expect(removed.exitCode).to.equal(0);
    expect(await deviceAllowed(devices[0]!)).to.equal(false);
    expect(await deviceAllowed(devices[1]!)).to.equal(true);
    const mark2 = await chainMark();
    expect((await run("remove-device", { app, device: devices[0] })).stdout).to.equal(`= ${devices[0]}: device not allowed; nothing to send`);
    await expectNothingSent(mark2);
    expectError(await run("add-device", { app }), 2, /^Error: --device is required/);
  });

  it("set-allow-any-device / set-require-tcb-up-to-date: set, re-set is a no-op, bad --value refused", async function () {
    const on = await run("set-allow-any-device", { app, value: "true" });
    expect(on.exitCode).to.equal(0);
    expect(on.stdout).to.include("confirmed: allowAnyDevice is true");
    expect((await readApp(app)).allowAnyDevice).to.equal(true);
    const mark = await chainMark();
    const same = await run("set-allow-any-device", { app, value: "yes" });
    expect(same.stdout).to.equal("= allowAnyDevice: allowAnyDevice is already true; nothing to send");
    await expectNothingSent(mark);
    expect((await run("set-allow-any-device", { app, value: "false" })).exitCode).to.equal(0);
    expect((await readApp(app)).allowAnyDevice).to.equal(false);

    const tcb = await run("set-require-tcb-up-to-date", { app, value: "true", json: true });
    expect(tcb.exitCode).to.equal(0);
    expect(tcb.json.state).to.equal("requireTcbUpToDate is true");
    expect((await readApp(app)).requireTcbUpToDate).to.equal(true);
    const mark2 = await chainMark();
    expectError(await run("set-require-tcb-up-to-date", { app, value: "maybe" }), 2, /^Error: --value: expected true or false, got "maybe"$/);
    expectError(await run("set-require-tcb-up-to-date", { app }), 2, /^Error: --value is required: true or false$/);
    await expectNothingSent(mark2);
  });
});

describe("tasks: disable-upgrades and upgrade-app", function () {
  restoreChainAfter();
  it("upgrade-app --deploy-implementation: deploys a DstackApp, then upgrades the proxy to it", async function () {
    const { publicClient } = await chain();
    const app = await freshApp();
    const oldImplementation = getAddress(app.implementation.address);
    const before = await publicClient.getBlockNumber({ cacheTime: 0 });
    const result = await run("upgrade-app", { app: app.address, deployImplementation: true, json: true });
    expect(result.exitCode, result.stdout).to.equal(0);
    const deployed = getAddress(result.json.deployedImplementation.address);
    expect(deployed).to.not.equal(oldImplementation);
    const receipt = await publicClient.getTransactionReceipt({ hash: result.json.deployedImplementation.transactionHash });
    expect(getAddress(receipt.contractAddress!)).to.equal(deployed);
    expect(await publicClient.getBlockNumber({ cacheTime: 0 })).to.equal(before + 2n);
    expect((await readApp(app.address)).implementation).to.equal(deployed);
    expect(result.json.confirmed).to.equal(true);
    const upgrade = await publicClient.getTransaction({ hash: result.json.transactions[0].hash });
    const call = decodeFunctionData({ abi: dstackAppAbi, data: upgrade.input });
    expect(call.functionName).to.equal("upgradeToAndCall");
    expect(call.args).to.deep.equal([deployed, "0x"]);
    expect(result.stderr).to.match(new RegExp(`^deployed DstackApp implementation ${deployed} \\(tx 0x[0-9a-f]{64}\\)$`, "m"));
    // The hash is printed the moment each transaction is sent, before its receipt.
    expect(result.stderr).to.match(/^sent: deploy DstackApp: tx 0x[0-9a-f]{64} \(nonce \d+\)$/m);
  });

  it("upgrade-app --implementation: to a next version (version() changes); the same again is a no-op", async function () {
    const { viem } = await chain();
    const app = await freshApp();
    const next = await viem.deployContract("DstackAppNextVersion");
    const dry = await run("upgrade-app", { app: app.address, implementation: next.address, dryRun: true, json: true });
    expect(dry.exitCode).to.equal(0);
    expect(decodeFunctionData({ abi: dstackAppAbi, data: dry.json.calls[0].data }).args).to.deep.equal([getAddress(next.address), "0x"]);
    expect((await readApp(app.address)).version).to.equal(2n);

    const result = await run("upgrade-app", { app: app.address, implementation: next.address });
    expect(result.exitCode, result.stderr).to.equal(0);
    expect(result.stdout).to.include(`confirmed: implementation is ${getAddress(next.address)}`);
    const state = await readApp(app.address);
    expect(state.implementation).to.equal(getAddress(next.address));
    expect(state.version).to.not.equal(2n);

    const mark = await chainMark();
    const again = await run("upgrade-app", { app: app.address, implementation: next.address });
    expect(again.stdout).to.equal(`= implementation: already at ${getAddress(next.address)}; nothing to send`);
    await expectNothingSent(mark);
  });

  it("upgrade-app refuses: no/both sources, no code, not UUPS, --deploy-implementation with --dry-run (nothing sent)", async function () {
    const { accounts } = await chain();
    const app = await freshApp();
    const kms = await freshKms();
    const mark = await chainMark();
    expectError(await run("upgrade-app", { app: app.address }), 2, /give exactly one of --implementation ADDRESS or --deploy-implementation/);
    expectError(await run("upgrade-app", { app: app.address, implementation: kms.appImplementation, deployImplementation: true }), 2, /give exactly one of/);
    expectError(await run("upgrade-app", { app: app.address, implementation: accounts[5] }), 2, new RegExp(`^Error: --implementation: no contract at ${accounts[5]}$`));
    expectError(await run("upgrade-app", { app: app.address, implementation: kms.address }), 2, /--implementation: .* (is not a UUPS implementation|reports proxiableUUID)/);
    expectError(await run("upgrade-app", { app: app.address, deployImplementation: true, dryRun: true }), 2, /cannot be combined with --dry-run/);
    await expectNothingSent(mark);
  });

  it("disable-upgrades: refused without --yes (exit 2, nothing sent); --dry-run allowed; --yes freezes; then upgrades are refused", async function () {
    const app = await freshApp();
    const mark = await chainMark();
    expectError(await run("disable-upgrades", { app: app.address }), 2, /^Error: disable-upgrades is irreversible: .*re-run with --yes to confirm$/);
    const dry = await run("disable-upgrades", { app: app.address, dryRun: true, json: true });
    expect(dry.exitCode).to.equal(0);
    expect(decodeFunctionData({ abi: dstackAppAbi, data: dry.json.calls[0].data }).functionName).to.equal("disableUpgrades");
    await expectNothingSent(mark);
    expect((await readApp(app.address)).upgradesDisabled).to.equal(false);

    const done = await run("disable-upgrades", { app: app.address, yes: true });
    expect(done.exitCode).to.equal(0);
    expect(done.stdout).to.include("confirmed: upgrades are disabled for ever");
    expect((await readApp(app.address)).upgradesDisabled).to.equal(true);
    const mark2 = await chainMark();
    expect((await run("disable-upgrades", { app: app.address, yes: true })).stdout).to.equal("= upgrades: upgrades are already disabled; nothing to send");
    expectError(await run("upgrade-app", { app: app.address, deployImplementation: true }), 2, /upgrades of .* are disabled for ever/);
    await expectNothingSent(mark2);
  });
});

describe("tasks: transfer-ownership and accept-ownership", function () {
  restoreChainAfter();
  it("app: an EOA needs --to-eoa; the pending owner accepts with --from; the old owner loses control", async function () {
    const { accounts } = await chain();
    const app = await freshApp();
    const newOwner = accounts[1]!;
    const mark = await chainMark();
    expectError(await run("transfer-ownership", { app: app.address, to: newOwner }), 2, new RegExp(`--to: ${newOwner} has no code \\(an EOA\\?\\); pass --to-eoa`));
    await expectNothingSent(mark);

    const started = await run("transfer-ownership", { app: app.address, to: newOwner, toEoa: true, json: true });
    expect(started.exitCode).to.equal(0);
    expect(started.json.state).to.equal(`pending owner is ${newOwner}; it must now run accept-ownership`);
    expect(await readApp(app.address)).to.deep.include({ owner: accounts[0], pendingOwner: newOwner });
    const mark2 = await chainMark();
    expect((await run("transfer-ownership", { app: app.address, to: newOwner, toEoa: true })).stdout).to.include("is already the pending owner");
    // Not the pending owner: the message names it.
    expectError(await run("accept-ownership", { app: app.address }), 1, new RegExp(`^Error: signer ${accounts[0]} is not the pending owner of ${app.address}; the pending owner is ${newOwner}$`));
    await expectNothingSent(mark2);

    const accepted = await run("accept-ownership", { app: app.address, from: newOwner, json: true });
    expect(accepted.exitCode, accepted.stdout).to.equal(0);
    expect(accepted.json.state).to.equal(`owner is ${newOwner}`);
    expect(await readApp(app.address)).to.deep.include({ owner: newOwner, pendingOwner: zeroAddress });
    const { publicClient } = await chain();
    const tx = await publicClient.getTransaction({ hash: accepted.json.transactions[0].hash });
    expect(getAddress(tx.from)).to.equal(newOwner);

    // The former owner is now refused, with the new owner named; the new one can manage.
    const mark3 = await chainMark();
    expectError(await run("add-compose-hash", { app: app.address, hash: bytes32("after-transfer") }), 1, new RegExp(`the owner is ${newOwner}$`));
    await expectNothingSent(mark3);
    expect((await run("add-compose-hash", { app: app.address, hash: bytes32("after-transfer"), from: newOwner })).exitCode).to.equal(0);
    expectError(await run("accept-ownership", { app: app.address, from: newOwner }), 2, /has no pending owner; run transfer-ownership first/);
  });

  it("to a contract (a Safe, a timelock…) no --to-eoa is needed; exactly one of --app/--kms; no zero address", async function () {
    const app = await freshApp();
    const owner = await freshKms(); // any contract with code stands in for a Safe
    const result = await run("transfer-ownership", { app: app.address, to: owner.address });
    expect(result.exitCode, result.stderr).to.equal(0);
    expect((await readApp(app.address)).pendingOwner).to.equal(owner.address);
    const mark = await chainMark();
    expectError(await run("transfer-ownership", { app: app.address, kms: owner.address, to: owner.address }), 2, /give exactly one of --app ADDRESS or --kms ADDRESS/);
    expectError(await run("transfer-ownership", { to: owner.address }), 2, /give exactly one of --app ADDRESS or --kms ADDRESS/);
    expectError(await run("transfer-ownership", { app: app.address, to: zeroAddress, toEoa: true }), 2, /--to: the zero address cannot own a contract/);
    await expectNothingSent(mark);
  });
});
