/**
 * The KMS tasks in-process: deploy-kms, kms-info, the KMS allowlists (OS images, KMS
 * aggregated MRs and devices), register-app, set-app-implementation, set-gateway-app-id,
 * set-kms-info and the KMS's two-step ownership transfer.
 */
import { writeFileSync } from "node:fs";

import { expect } from "chai";
import { decodeFunctionData, getAddress, toHex, zeroAddress, type Address, type Hex } from "viem";

import { dstackKmsAbi } from "../../src/abi/dstack-kms.js";
import { bytes32, chain, chainMark, expectError, expectNothingSent, freshApp, freshKms, run, tempDir, restoreChainAfter } from "./fixture.js";

const readKms = async <T>(kms: Address, functionName: string, args: readonly unknown[] = []): Promise<T> =>
  (await chain()).publicClient.readContract({ address: kms, abi: dstackKmsAbi, functionName, args } as never) as Promise<T>;

describe("tasks: deploy-kms and kms-info", function () {
  restoreChainAfter();
  it("deploy-kms: app implementation + KMS implementation + proxy; kms-info reports the same", async function () {
    const { accounts, publicClient } = await chain();
    const before = await publicClient.getBlockNumber({ cacheTime: 0 });
    const result = await run("deploy-kms", { owner: accounts[2], json: true });
    expect(result.exitCode, result.stdout).to.equal(0);
    const { kms, appImplementation, deployed } = result.json;
    expect(Object.keys(deployed)).to.deep.equal(["appImplementation", "kmsImplementation", "kms"]);
    expect(await publicClient.getBlockNumber({ cacheTime: 0 })).to.equal(before + 3n);
    expect(getAddress(await readKms<Address>(kms, "owner"))).to.equal(accounts[2]);
    expect(getAddress(await readKms<Address>(kms, "appImplementation"))).to.equal(appImplementation);
    expect(appImplementation).to.equal(deployed.appImplementation.address);
    expect(await publicClient.getCode({ address: appImplementation })).to.match(/^0x[0-9a-f]{100,}$/);

    const info = await run("kms-info", { kms, json: true });
    expect(info.exitCode).to.equal(0);
    expect(info.json).to.deep.include({
      ok: true,
      address: kms,
      owner: accounts[2],
      pendingOwner: zeroAddress,
      implementation: deployed.kmsImplementation.address,
      appImplementation,
      gatewayAppId: "",
      kmsInfo: { k256Pubkey: "0x", caPubkey: "0x", quote: "0x", eventlog: "0x" },
    });
    const text = await run("kms-info", { kms });
    expect(text.stdout).to.include(`  app implementation  ${appImplementation}`);
    expect(text.stdout).to.include("  gateway app id      none");
  });

  it("deploy-kms --no-app-implementation / --app-implementation ADDR; conflicting or codeless → exit 2", async function () {
    const { accounts } = await chain();
    const none = await run("deploy-kms", { noAppImplementation: true, json: true });
    expect(none.exitCode).to.equal(0);
    expect(none.json.appImplementation).to.equal(zeroAddress);
    expect(Object.keys(none.json.deployed)).to.deep.equal(["kmsImplementation", "kms"]);
    expect(await readKms<Address>(none.json.kms, "appImplementation")).to.equal(zeroAddress);

    const existing = getAddress((await (await chain()).viem.deployContract("DstackApp")).address);
    const reuse = await run("deploy-kms", { appImplementation: existing, json: true });
    expect(reuse.exitCode).to.equal(0);
    expect(getAddress(await readKms<Address>(reuse.json.kms, "appImplementation"))).to.equal(existing);

    const mark = await chainMark();
    expectError(await run("deploy-kms", { appImplementation: existing, noAppImplementation: true }), 2, /--app-implementation and --no-app-implementation exclude each other/);
    expectError(await run("deploy-kms", { appImplementation: accounts[3] }), 2, new RegExp(`--app-implementation: no contract at ${accounts[3]}`));
    expectError(await run("deploy-kms", { owner: "0x1234" }), 2, /^Error: --owner: expected a 0x-prefixed 20-byte address, got "0x1234"$/);
    await expectNothingSent(mark);
  });
});

describe("tasks: KMS allowlists", function () {
  restoreChainAfter();
  let kms: Address;
  before(async function () {
    kms = (await freshKms()).address;
  });

  const cases = [
    { add: "add-os-image", remove: "remove-os-image", option: "image", read: "allowedOsImages", addFn: "addOsImageHash", noun: "OS image" },
    { add: "add-kms-mr", remove: "remove-kms-mr", option: "mr", read: "kmsAllowedAggregatedMrs", addFn: "addKmsAggregatedMr", noun: "KMS aggregated MR" },
    { add: "add-kms-device", remove: "remove-kms-device", option: "device", read: "kmsAllowedDeviceIds", addFn: "addKmsDevice", noun: "KMS device" },
  ] as const;

  for (const c of cases) {
    it(`${c.add} / ${c.remove}: one tx per value, state re-read, idempotent, dry run decodes`, async function () {
      const { publicClient } = await chain();
      const values = [bytes32(`${c.option}-1`), bytes32(`${c.option}-2`)];
      const isAllowed = (value: Hex) => readKms<boolean>(kms, c.read, [value]);

      const mark = await chainMark();
      const dry = await run(c.add, { kms, [c.option]: values[0], dryRun: true, json: true });
      expect(dry.exitCode).to.equal(0);
      const decoded = decodeFunctionData({ abi: dstackKmsAbi, data: dry.json.calls[0].data });
      expect(decoded.functionName).to.equal(c.addFn);
      expect(decoded.args).to.deep.equal([values[0]]);
      await expectNothingSent(mark);

      const added = await run(c.add, { kms, [c.option]: values.join(","), json: true });
      expect(added.exitCode, added.stdout).to.equal(0);
      expect(added.json.transactions).to.have.length(2);
      expect(await publicClient.getBlockNumber({ cacheTime: 0 })).to.equal(mark.block + 2n);
      for (const value of values) expect(await isAllowed(value)).to.equal(true);

      const mark2 = await chainMark();
      expect((await run(c.add, { kms, [c.option]: values[1] })).stdout).to.equal(`= ${values[1]}: ${c.noun} already allowed; nothing to send`);
      await expectNothingSent(mark2);

      const removed = await run(c.remove, { kms, [c.option]: values[0] });
      expect(removed.exitCode).to.equal(0);
      expect(await isAllowed(values[0]!)).to.equal(false);
      expect(await isAllowed(values[1]!)).to.equal(true);
      const mark3 = await chainMark();
      expect((await run(c.remove, { kms, [c.option]: values[0] })).stdout).to.equal(`= ${values[0]}: ${c.noun} not allowed; nothing to send`);
      expectError(await run(c.add, { kms }), 2, new RegExp(`^Error: --${c.option} is required`));
      await expectNothingSent(mark3);
    });
  }

  it("a KMS allowlist task on an app contract is refused (not a KMS), nothing sent", async function () {
    const app = await freshApp();
    const mark = await chainMark();
    expectError(await run("add-os-image", { kms: app.address, image: bytes32("img") }), 1, /is not a DstackKms-compatible contract/);
    await expectNothingSent(mark);
  });
});

describe("tasks: KMS settings", function () {
  restoreChainAfter();
  const tmp = tempDir("kms-task-");
  let kms: Awaited<ReturnType<typeof freshKms>>;
  before(async function () {
    kms = await freshKms();
  });
  after(() => tmp.cleanup());

  it("register-app: registers (anyone may), a second run is a no-op, a non-app is refused", async function () {
    const { accounts } = await chain();
    const app = await freshApp();
    const result = await run("register-app", { kms: kms.address, app: app.address, from: accounts[3] });
    expect(result.exitCode, result.stderr).to.equal(0);
    expect(await readKms<boolean>(kms.address, "registeredApps", [app.address])).to.equal(true);
    const mark = await chainMark();
    expect((await run("register-app", { kms: kms.address, app: app.address })).stdout).to.equal(`= ${app.address}: app already registered; nothing to send`);
    expectError(await run("register-app", { kms: kms.address, app: kms.address }), 1, /is not a DstackApp-compatible contract/);
    await expectNothingSent(mark);
  });

  it("set-app-implementation: sets it (the factory then deploys that one); same again is a no-op", async function () {
    const { viem } = await chain();
    const next = getAddress((await viem.deployContract("DstackApp")).address);
    const result = await run("set-app-implementation", { kms: kms.address, implementation: next });
    expect(result.exitCode).to.equal(0);
    expect(result.stdout).to.include(`confirmed: app implementation is ${next}`);
    expect(getAddress(await readKms<Address>(kms.address, "appImplementation"))).to.equal(next);
    const viaFactory = await run("deploy-app", { kms: kms.address, json: true });
    expect(viaFactory.json.implementation).to.equal(next);
    const mark = await chainMark();
    expect((await run("set-app-implementation", { kms: kms.address, implementation: next })).stdout).to.equal(`= appImplementation: already ${next}; nothing to send`);
    expectError(await run("set-app-implementation", { kms: kms.address, implementation: zeroAddress }), 2, /--implementation: must not be the zero address/);
    await expectNothingSent(mark);
  });

  it("set-gateway-app-id: sets the string; same again is a no-op; missing value → exit 2", async function () {
    const result = await run("set-gateway-app-id", { kms: kms.address, gatewayAppId: "gateway-app-7", json: true });
    expect(result.exitCode).to.equal(0);
    expect(await readKms<string>(kms.address, "gatewayAppId")).to.equal("gateway-app-7");
    const mark = await chainMark();
    expect((await run("set-gateway-app-id", { kms: kms.address, gatewayAppId: "gateway-app-7" })).exitCode).to.equal(0);
    expectError(await run("set-gateway-app-id", { kms: kms.address }), 2, /^Error: --gateway-app-id is required/);
    await expectNothingSent(mark);
  });

  it("set-kms-info: keys as hex, quote as hex or file (hex text or raw bytes), event log file; kms-info shows them", async function () {
    const k256 = `0x02${"ab".repeat(32)}` as Hex;
    const ca = `0x04${"cd".repeat(64)}` as Hex;
    const eventlog = tmp.file("eventlog.json");
    const eventlogText = JSON.stringify([{ imr: 3, event: "compose-hash", digest: "00".repeat(48) }]);
    writeFileSync(eventlog, eventlogText);

    const inline = await run("set-kms-info", { kms: kms.address, k256Pubkey: k256, caPubkey: ca, quote: "0x0400020081", eventlog, json: true });
    expect(inline.exitCode, JSON.stringify(inline.json)).to.equal(0);
    let onChain = await readKms<readonly Hex[]>(kms.address, "kmsInfo");
    expect([...onChain]).to.deep.equal([k256, ca, "0x0400020081", toHex(Buffer.from(eventlogText))]);

    const rawQuote = tmp.file("quote.bin");
    const quoteBytes = Buffer.from([0x04, 0x00, 0x02, 0x00, 0x81, 0x00, 0xff, 0x10, 0x7a]);
    writeFileSync(rawQuote, quoteBytes);
    const fromFile = await run("set-kms-info", { kms: kms.address, k256Pubkey: k256, caPubkey: ca, quote: rawQuote, eventlog });
    expect(fromFile.exitCode).to.equal(0);
    onChain = await readKms<readonly Hex[]>(kms.address, "kmsInfo");
    expect(onChain[2]).to.equal(toHex(quoteBytes));

    // A quote file whose name is all hex digits is still a file (cwd-relative path).
    const cwd = process.cwd();
    writeFileSync(tmp.file("cafe"), "0x04000200aabbcc\n");
    try {
      process.chdir(tmp.dir);
      const hexNamed = await run("set-kms-info", { kms: kms.address, k256Pubkey: k256, caPubkey: ca, quote: "cafe", eventlog });
      expect(hexNamed.exitCode, hexNamed.stderr).to.equal(0);
    } finally {
      process.chdir(cwd);
    }
    expect((await readKms<readonly Hex[]>(kms.address, "kmsInfo"))[2]).to.equal("0x04000200aabbcc");
    expect((await run("set-kms-info", { kms: kms.address, k256Pubkey: k256, caPubkey: ca, quote: rawQuote, eventlog })).exitCode).to.equal(0);

    const info = await run("kms-info", { kms: kms.address, json: true });
    expect(info.json.kmsInfo).to.deep.equal({ k256Pubkey: k256, caPubkey: ca, quote: toHex(quoteBytes), eventlog: toHex(Buffer.from(eventlogText)) });

    const mark = await chainMark();
    expect((await run("set-kms-info", { kms: kms.address, k256Pubkey: k256, caPubkey: ca, quote: rawQuote, eventlog })).stdout).to.equal(
      "= kmsInfo: KMS info already has these values; nothing to send",
    );
    expectError(await run("set-kms-info", { kms: kms.address, k256Pubkey: k256, caPubkey: ca, quote: "0x00", eventlog: tmp.file("nope") }), 2, /^Error: --eventlog: cannot read .*nope \(ENOENT\)$/);
    expectError(await run("set-kms-info", { kms: kms.address, k256Pubkey: "0xzz", caPubkey: ca, quote: "0x00", eventlog }), 2, /^Error: --k256-pubkey/);
    await expectNothingSent(mark);
  });

  it("KMS ownership: transfer to an EOA with --to-eoa, accept with --from, the new owner manages", async function () {
    const { accounts } = await chain();
    const own = await freshKms();
    const newOwner = accounts[2]!;
    const mark = await chainMark();
    expectError(await run("transfer-ownership", { kms: own.address, to: newOwner }), 2, /pass --to-eoa/);
    await expectNothingSent(mark);
    expect((await run("transfer-ownership", { kms: own.address, to: newOwner, toEoa: true })).exitCode).to.equal(0);
    expect(getAddress(await readKms<Address>(own.address, "pendingOwner"))).to.equal(newOwner);
    const accepted = await run("accept-ownership", { kms: own.address, from: newOwner });
    expect(accepted.exitCode, accepted.stderr).to.equal(0);
    expect(getAddress(await readKms<Address>(own.address, "owner"))).to.equal(newOwner);
    const mark2 = await chainMark();
    expectError(await run("add-os-image", { kms: own.address, image: bytes32("x") }), 1, new RegExp(`is not the owner of ${own.address}; the owner is ${newOwner}$`));
    await expectNothingSent(mark2);
    expect((await run("add-os-image", { kms: own.address, image: bytes32("x"), from: newOwner })).exitCode).to.equal(0);
  });
});
