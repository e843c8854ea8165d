import { expect } from "chai";
import { network } from "hardhat";
import { getAddress, keccak256, parseEventLogs, toHex, zeroAddress, zeroHash, type Hex } from "viem";

import { bootInfo, deployAppProxy, deployKmsProxy } from "../support/contracts.js";

const { viem, networkHelpers } = await network.create();

const OS_IMAGE = keccak256(toHex("os-image-1"));
const OTHER_IMAGE = keccak256(toHex("os-image-2"));
const COMPOSE = keccak256(toHex("compose"));
const DEVICE = keccak256(toHex("device"));
const KMS_MR = keccak256(toHex("kms-mr"));
const policy = (name: string) => keccak256(toHex(name));

async function kmsFixture() {
  const [owner, other] = await viem.getWalletClients();
  const publicClient = await viem.getPublicClient();
  const appImplementation = await viem.deployContract("DstackApp");
  const deployed = await deployKmsProxy(viem, owner!.account.address, appImplementation.address);
  const asOther = await viem.getContractAt("DstackKms", deployed.kms.address, { client: { wallet: other! } });
  return { ...deployed, appImplementation, owner: owner!, other: other!, publicClient, asOther };
}

describe("DstackKms", () => {
  it("initialises owner and app implementation, and cannot be initialised again", async () => {
    const { kms, implementation, owner, appImplementation } = await networkHelpers.loadFixture(kmsFixture);
    expect(await kms.read.owner()).to.equal(getAddress(owner.account.address));
    expect(await kms.read.appImplementation()).to.equal(getAddress(appImplementation.address));
    expect(await kms.read.gatewayAppId()).to.equal("");
    await viem.assertions.revertWithCustomError(kms.write.initialize([owner.account.address, zeroAddress]), kms, "InvalidInitialization");
    await viem.assertions.revertWithCustomError(
      implementation.write.initialize([owner.account.address, zeroAddress]),
      implementation,
      "InvalidInitialization",
    );
  });

  it("accepts a zero app implementation at initialisation and then refuses the factory", async () => {
    const [owner] = await viem.getWalletClients();
    const { kms } = await deployKmsProxy(viem, owner!.account.address);
    expect(await kms.read.appImplementation()).to.equal(zeroAddress);
    await viem.assertions.revertWith(
      kms.write.deployAndRegisterApp([owner!.account.address, false, false, true, zeroHash, COMPOSE]),
      "DstackApp implementation not set",
    );
  });

  it("manages OS images, aggregated MRs and KMS devices with events", async () => {
    const { kms, owner } = await networkHelpers.loadFixture(kmsFixture);
    const actor = getAddress(owner.account.address);
    const pairs: Array<[string, string, string, Hex, (v: Hex) => Promise<Hex>, (v: Hex) => Promise<Hex>, (v: Hex) => Promise<boolean>]> = [
      ["OsImageHashAdded", "OsImageHashRemoved", "os-image", OS_IMAGE, (v) => kms.write.addOsImageHash([v]), (v) => kms.write.removeOsImageHash([v]), (v) => kms.read.allowedOsImages([v])],
      ["KmsAggregatedMrAdded", "KmsAggregatedMrRemoved", "kms-aggregated-mr", KMS_MR, (v) => kms.write.addKmsAggregatedMr([v]), (v) => kms.write.removeKmsAggregatedMr([v]), (v) => kms.read.kmsAllowedAggregatedMrs([v])],
      ["KmsDeviceAdded", "KmsDeviceRemoved", "kms-device", DEVICE, (v) => kms.write.addKmsDevice([v]), (v) => kms.write.removeKmsDevice([v]), (v) => kms.read.kmsAllowedDeviceIds([v])],
    ];
    for (const [addedEvent, removedEvent, policyName, value, add, remove, read] of pairs) {
      // biome-ignore lint/suspicious/noExplicitAny: the event name comes from the table above (a string), emitWithArgs wants the ABI's literal union
      await viem.assertions.emitWithArgs(add(value), kms, addedEvent as any, [value]);
      expect(await read(value), policyName).to.equal(true);
      await viem.assertions.emitWithArgs(remove(value), kms, "PolicyChanged", [actor, policy(policyName), value, false]);
      expect(await read(value), policyName).to.equal(false);
      await add(value);
      // biome-ignore lint/suspicious/noExplicitAny: the event name comes from the table above (a string), emitWithArgs wants the ABI's literal union
      await viem.assertions.emitWithArgs(remove(value), kms, removedEvent as any, [value]);
    }
  });

  it("sets KMS info, quote, event log, gateway app id and app implementation", async () => {
    const { kms, appImplementation } = await networkHelpers.loadFixture(kmsFixture);
    const info = { k256Pubkey: "0x02aa" as Hex, caPubkey: "0x03bb" as Hex, quote: "0x0400" as Hex, eventlog: "0x5b5d" as Hex };
    await viem.assertions.emitWithArgs(kms.write.setKmsInfo([info]), kms, "KmsInfoSet", ["0x02aa"]);
    expect(await kms.read.kmsInfo()).to.deep.equal(["0x02aa", "0x03bb", "0x0400", "0x5b5d"]);
    await viem.assertions.emitWithArgs(kms.write.setKmsQuote(["0x0401"]), kms, "KmsQuoteSet", [keccak256("0x0401")]);
    await viem.assertions.emitWithArgs(kms.write.setKmsEventlog(["0x7b7d"]), kms, "KmsEventlogSet", [keccak256("0x7b7d")]);
    expect(await kms.read.kmsInfo()).to.deep.equal(["0x02aa", "0x03bb", "0x0401", "0x7b7d"]);
    await viem.assertions.emitWithArgs(kms.write.setGatewayAppId(["gateway-1"]), kms, "GatewayAppIdSet", ["gateway-1"]);
    expect(await kms.read.gatewayAppId()).to.equal("gateway-1");

    const next = await viem.deployContract("DstackApp");
    await viem.assertions.emitWithArgs(kms.write.setAppImplementation([next.address]), kms, "AppImplementationSet", [
      getAddress(next.address),
    ]);
    expect(await kms.read.appImplementation()).to.equal(getAddress(next.address));
    expect(next.address).to.not.equal(appImplementation.address);
    await viem.assertions.revertWith(kms.write.setAppImplementation([zeroAddress]), "Invalid implementation address");
  });

  it("lets anyone register an app, but not the zero address", async () => {
    const { kms, asOther, other } = await networkHelpers.loadFixture(kmsFixture);
    const { app } = await deployAppProxy(viem, { owner: other.account.address });
    await viem.assertions.emitWithArgs(asOther.write.registerApp([app.address]), kms, "AppRegistered", [getAddress(app.address)]);
    expect(await kms.read.registeredApps([app.address])).to.equal(true);
    await viem.assertions.revertWith(asOther.write.registerApp([zeroAddress]), "Invalid app ID");
  });

  it("deploys and registers an app through the factory (current and legacy overloads)", async () => {
    const { kms, owner, other, asOther, publicClient, appImplementation } = await networkHelpers.loadFixture(kmsFixture);
    const txHash = await asOther.write.deployAndRegisterApp([owner.account.address, false, true, false, DEVICE, COMPOSE]);
    const receipt = await publicClient.waitForTransactionReceipt({ hash: txHash });
    const [deployedEvent] = parseEventLogs({ abi: kms.abi, logs: receipt.logs, eventName: "AppDeployedViaFactory" });
    expect(deployedEvent, "AppDeployedViaFactory emitted").to.not.equal(undefined);
    const appId = deployedEvent!.args.appId;
    expect(deployedEvent!.args.deployer).to.equal(getAddress(other.account.address));
    const [registered] = parseEventLogs({ abi: kms.abi, logs: receipt.logs, eventName: "AppRegistered" });
    expect(registered!.args.appId).to.equal(appId);
    expect(await kms.read.registeredApps([appId])).to.equal(true);

    const app = await viem.getContractAt("DstackApp", appId);
    expect(await app.read.owner()).to.equal(getAddress(owner.account.address));
    expect(await app.read.requireTcbUpToDate()).to.equal(true);
    expect(await app.read.allowAnyDevice()).to.equal(false);
    expect(await app.read.allowedComposeHashes([COMPOSE])).to.equal(true);
    expect(await app.read.allowedDeviceIds([DEVICE])).to.equal(true);
    const implementationSlot = await publicClient.getStorageAt({
      address: appId,
      slot: "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc",
    });
    expect(getAddress(`0x${implementationSlot!.slice(26)}`)).to.equal(getAddress(appImplementation.address));

    const legacyTx = await kms.write.deployAndRegisterApp([owner.account.address, true, true, zeroHash, COMPOSE]);
    const legacyReceipt = await publicClient.waitForTransactionReceipt({ hash: legacyTx });
    const [legacyEvent] = parseEventLogs({ abi: kms.abi, logs: legacyReceipt.logs, eventName: "AppDeployedViaFactory" });
    const legacyApp = await viem.getContractAt("DstackApp", legacyEvent!.args.appId);
    expect(await legacyApp.read.requireTcbUpToDate()).to.equal(false);
    expect(await legacyApp.read.upgradesDisabled()).to.equal(true);
    expect(await legacyApp.read.allowAnyDevice()).to.equal(true);
  });

  it("refuses the factory with a zero owner", async () => {
    const { kms } = await networkHelpers.loadFixture(kmsFixture);
    await viem.assertions.revertWith(
      kms.write.deployAndRegisterApp([zeroAddress, false, false, true, zeroHash, COMPOSE]),
      "Invalid owner address",
    );
  });

  describe("isAppAllowed", () => {
    it("checks registration, OS image and code before asking the app, in upstream order", async () => {
      const { kms, owner } = await networkHelpers.loadFixture(kmsFixture);
      const { app } = await deployAppProxy(viem, { owner: owner.account.address, allowAnyDevice: true, initialComposeHash: COMPOSE });
      const eoa = "0x00000000000000000000000000000000000000e0";

      const ask = (overrides: Parameters<typeof bootInfo>[0]) =>
        kms.read.isAppAllowed([bootInfo({ appId: app.address, composeHash: COMPOSE, osImageHash: OS_IMAGE, ...overrides })]);

      expect(await ask({})).to.deep.equal([false, "App not registered"]);
      await kms.write.registerApp([app.address]);
      expect(await ask({})).to.deep.equal([false, "OS image is not allowed"]);
      await kms.write.addOsImageHash([OS_IMAGE]);
      expect(await ask({ osImageHash: OTHER_IMAGE })).to.deep.equal([false, "OS image is not allowed"]);
      expect(await ask({})).to.deep.equal([true, ""]);
      // The app contract's own answer is passed through.
      expect(await ask({ composeHash: OTHER_IMAGE })).to.deep.equal([false, "Compose hash not allowed"]);
      await app.write.setRequireTcbUpToDate([true]);
      expect(await ask({ tcbStatus: "OutOfDate" })).to.deep.equal([false, "TCB status is not up to date"]);

      await kms.write.registerApp([eoa]);
      expect(await ask({ appId: eoa })).to.deep.equal([false, "App not deployed or invalid address"]);
      // Registration is checked before the OS image.
      expect(await ask({ appId: "0x00000000000000000000000000000000000000e1", osImageHash: OTHER_IMAGE })).to.deep.equal([
        false,
        "App not registered",
      ]);
    });
  });

  describe("isKmsAllowed", () => {
    it("requires an up-to-date TCB, an allowed OS image, MR and device, in that order", async () => {
      const { kms } = await networkHelpers.loadFixture(kmsFixture);
      const ask = (overrides: Parameters<typeof bootInfo>[0]) =>
        kms.read.isKmsAllowed([bootInfo({ osImageHash: OS_IMAGE, mrAggregated: KMS_MR, deviceId: DEVICE, ...overrides })]);

      expect(await ask({ tcbStatus: "OutOfDate" })).to.deep.equal([false, "TCB status is not up to date"]);
      expect(await ask({})).to.deep.equal([false, "OS image is not allowed"]);
      await kms.write.addOsImageHash([OS_IMAGE]);
      expect(await ask({})).to.deep.equal([false, "Aggregated MR not allowed"]);
      await kms.write.addKmsAggregatedMr([KMS_MR]);
      expect(await ask({})).to.deep.equal([false, "KMS is not allowed to boot on this device"]);
      await kms.write.addKmsDevice([DEVICE]);
      expect(await ask({})).to.deep.equal([true, ""]);
      expect(await ask({ tcbStatus: "OutOfDate" })).to.deep.equal([false, "TCB status is not up to date"]);
    });
  });

  describe("access control", () => {
    // biome-ignore lint/suspicious/noExplicitAny: a table over the deployed contract's viem instance, whose generated type is not nameable here; each call runs against the real contract
    const calls: Array<[string, (kms: any) => Promise<Hex>]> = [
      ["addOsImageHash", (kms) => kms.write.addOsImageHash([OS_IMAGE])],
      ["removeOsImageHash", (kms) => kms.write.removeOsImageHash([OS_IMAGE])],
      ["addKmsAggregatedMr", (kms) => kms.write.addKmsAggregatedMr([KMS_MR])],
      ["removeKmsAggregatedMr", (kms) => kms.write.removeKmsAggregatedMr([KMS_MR])],
      ["addKmsDevice", (kms) => kms.write.addKmsDevice([DEVICE])],
      ["removeKmsDevice", (kms) => kms.write.removeKmsDevice([DEVICE])],
      ["setKmsInfo", (kms) => kms.write.setKmsInfo([{ k256Pubkey: "0x", caPubkey: "0x", quote: "0x", eventlog: "0x" }])],
      ["setKmsQuote", (kms) => kms.write.setKmsQuote(["0x01"])],
      ["setKmsEventlog", (kms) => kms.write.setKmsEventlog(["0x01"])],
      ["setGatewayAppId", (kms) => kms.write.setGatewayAppId(["x"])],
      ["setAppImplementation", (kms) => kms.write.setAppImplementation(["0x00000000000000000000000000000000000000aa"])],
      ["transferOwnership", (kms) => kms.write.transferOwnership(["0x00000000000000000000000000000000000000aa"])],
      ["upgradeToAndCall", (kms) => kms.write.upgradeToAndCall(["0x00000000000000000000000000000000000000aa", "0x"])],
    ];
    for (const [name, call] of calls) {
      it(`refuses ${name} from a non-owner`, async () => {
        const { kms, asOther, other } = await networkHelpers.loadFixture(kmsFixture);
        await viem.assertions.revertWithCustomErrorWithArgs(call(asOther), kms, "OwnableUnauthorizedAccount", [
          getAddress(other.account.address),
        ]);
      });
    }
  });

  it("answers ERC-165 for IAppAuth and IERC165", async () => {
    const { kms } = await networkHelpers.loadFixture(kmsFixture);
    expect(await kms.read.supportsInterface(["0x1e079198"])).to.equal(true);
    expect(await kms.read.supportsInterface(["0x01ffc9a7"])).to.equal(true);
    expect(await kms.read.supportsInterface(["0x8fd37527"])).to.equal(false);
    expect(await kms.read.supportsInterface(["0xffffffff"])).to.equal(false);
  });
});
