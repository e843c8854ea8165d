/**
 * What clients and indexers of upstream dstack see: the exact revert data of every case in
 * which upstream reverts, a repeated disableUpgrades, the order of the initialisation events,
 * and the state an upstream-style indexer rebuilds from `PolicyChanged` alone.
 */
import { expect } from "chai";
import { network } from "hardhat";
import {
  type BaseError,
  encodeAbiParameters,
  encodeDeployData,
  encodeErrorResult,
  encodeFunctionData,
  getAddress,
  keccak256,
  parseAbi,
  parseEventLogs,
  toHex,
  zeroAddress,
  zeroHash,
  type Abi,
  type Address,
  type Hex,
} from "viem";

import { deployAppProxy, deployKmsProxy } from "../support/contracts.js";

const { viem } = await network.create();
const publicClient = await viem.getPublicClient();
const [owner, other] = await viem.getWalletClients();
const OWNER = getAddress(owner!.account.address);
const OTHER = getAddress(other!.account.address);

const hash = (label: string) => keccak256(toHex(label));
const asWord = (address: Address): Hex => `0x${address.slice(2).toLowerCase().padStart(64, "0")}`;

// Upstream's policy names (Dstack-TEE/dstack kms/auth-eth, DstackApp.sol and DstackKms.sol),
// the only names an upstream-style indexer knows.
const UPSTREAM_APP_POLICIES = ["compose-hash", "device", "allow-any-device", "require-tcb-up-to-date", "upgrades-disabled", "implementation-upgrade"];
const UPSTREAM_KMS_POLICIES = ["kms-aggregated-mr", "kms-device", "os-image", "gateway-app-id", "registered-app", "app-implementation", "kms-info", "implementation-upgrade"];

const errorString = parseAbi(["error Error(string)"]);
const upstreamString = (reason: string) => encodeErrorResult({ abi: errorString, errorName: "Error", args: [reason] });

/** The raw revert data of a call (or of a deployment when `to` is absent). */
async function revertData(request: { to?: Address; data: Hex; from?: Address }): Promise<Hex> {
  try {
    await publicClient.call({ account: request.from ?? OWNER, to: request.to, data: request.data });
  } catch (error) {
    const found = (error as BaseError).walk((cause) => typeof (cause as { data?: unknown }).data === "string") as { data?: Hex } | null;
    if (found?.data !== undefined) return found.data;
    throw error;
  }
  throw new Error("the call did not revert");
}

async function artifactOf(name: string) {
  const { abi, bytecode } = await (await import("hardhat")).artifacts.readArtifact(name);
  return { abi: abi as Abi, bytecode: bytecode as Hex };
}

/** Deploy data of an ERC1967Proxy whose constructor runs `initData` on `implementation`. */
async function proxyDeployData(implementation: Address, initData: Hex): Promise<Hex> {
  const proxy = await artifactOf("ERC1967Proxy");
  return encodeDeployData({ abi: proxy.abi, bytecode: proxy.bytecode, args: [implementation, initData] });
}

interface IndexedApp {
  composeHashes: Map<Hex, boolean>;
  devices: Map<Hex, boolean>;
  allowAnyDevice: boolean;
  requireTcbUpToDate: boolean;
  upgradesDisabled: boolean;
  implementation: Address | undefined;
}

interface IndexedKms {
  aggregatedMrs: Map<Hex, boolean>;
  devices: Map<Hex, boolean>;
  osImages: Map<Hex, boolean>;
  registeredApps: Map<Address, boolean>;
  appImplementation: Address;
  gatewayAppIdHash: Hex | undefined;
  k256PubkeyHash: Hex | undefined;
  implementation: Address | undefined;
}

const policyChangedAbi = parseAbi(["event PolicyChanged(address indexed actor, bytes32 indexed policy, bytes32 indexed value, bool enabled)"]);

async function policyEvents(address: Address) {
  const logs = await publicClient.getLogs({ address, fromBlock: 0n, toBlock: "latest" });
  return parseEventLogs({ abi: policyChangedAbi, logs, eventName: "PolicyChanged" });
}

/** An upstream-style indexer: it knows upstream's names only and fails on any other. */
function policyName(policy: Hex, names: string[]): string {
  const name = names.find((candidate) => hash(candidate) === policy);
  if (name === undefined) throw new Error(`PolicyChanged with a policy upstream does not emit: ${policy}`);
  return name;
}

const wordToAddress = (word: Hex): Address => getAddress(`0x${word.slice(-40)}`);

async function indexApp(address: Address): Promise<IndexedApp> {
  const state: IndexedApp = { composeHashes: new Map(), devices: new Map(), allowAnyDevice: false, requireTcbUpToDate: false, upgradesDisabled: false, implementation: undefined };
  for (const { args } of await policyEvents(address)) {
    const name = policyName(args.policy, UPSTREAM_APP_POLICIES);
    if (name === "compose-hash") state.composeHashes.set(args.value, args.enabled);
    else if (name === "device") state.devices.set(args.value, args.enabled);
    else if (name === "allow-any-device") state.allowAnyDevice = args.enabled;
    else if (name === "require-tcb-up-to-date") state.requireTcbUpToDate = args.enabled;
    else if (name === "upgrades-disabled") state.upgradesDisabled = true;
    else state.implementation = wordToAddress(args.value);
  }
  return state;
}

async function indexKms(address: Address): Promise<IndexedKms> {
  const state: IndexedKms = {
    aggregatedMrs: new Map(), devices: new Map(), osImages: new Map(), registeredApps: new Map(),
    appImplementation: zeroAddress, gatewayAppIdHash: undefined, k256PubkeyHash: undefined, implementation: undefined,
  };
  for (const { args } of await policyEvents(address)) {
    const name = policyName(args.policy, UPSTREAM_KMS_POLICIES);
    if (name === "kms-aggregated-mr") state.aggregatedMrs.set(args.value, args.enabled);
    else if (name === "kms-device") state.devices.set(args.value, args.enabled);
    else if (name === "os-image") state.osImages.set(args.value, args.enabled);
    else if (name === "registered-app") state.registeredApps.set(wordToAddress(args.value), args.enabled);
    else if (name === "app-implementation") state.appImplementation = wordToAddress(args.value);
    else if (name === "gateway-app-id") state.gatewayAppIdHash = args.value;
    else if (name === "kms-info") state.k256PubkeyHash = args.value;
    else state.implementation = wordToAddress(args.value);
  }
  return state;
}

const IMPLEMENTATION_SLOT = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc";
async function implementationOf(proxy: Address): Promise<Address> {
  return wordToAddress((await publicClient.getStorageAt({ address: proxy, slot: IMPLEMENTATION_SLOT }))!);
}

/** Compares an indexer's picture of an app with the getters, for every key it saw and one it did not. */
async function expectAppMatchesGetters(address: Address, indexed: IndexedApp, deployedImplementation: Address) {
  const app = await viem.getContractAt("DstackApp", address);
  for (const [key, allowed] of indexed.composeHashes) expect(await app.read.allowedComposeHashes([key]), `compose hash ${key}`).to.equal(allowed);
  for (const [key, allowed] of indexed.devices) expect(await app.read.allowedDeviceIds([key]), `device ${key}`).to.equal(allowed);
  expect(await app.read.allowedComposeHashes([hash("never-added")])).to.equal(false);
  expect(await app.read.allowAnyDevice(), "allowAnyDevice").to.equal(indexed.allowAnyDevice);
  expect(await app.read.requireTcbUpToDate(), "requireTcbUpToDate").to.equal(indexed.requireTcbUpToDate);
  expect(await app.read.upgradesDisabled(), "upgradesDisabled").to.equal(indexed.upgradesDisabled);
  expect(await implementationOf(address)).to.equal(indexed.implementation ?? deployedImplementation);
}

describe("upstream behaviour that clients and indexers see", () => {
  describe("revert data: upstream's Error(string) wherever upstream reverts with a string", () => {
    it("DstackKms: registerApp, setAppImplementation and both factory overloads", async () => {
      const appImplementation = await viem.deployContract("DstackApp");
      const { kms } = await deployKmsProxy(viem, OWNER);
      const call = (functionName: string, args: unknown[], from = OWNER) =>
        revertData({ to: kms.address, from, data: encodeFunctionData({ abi: kms.abi, functionName, args } as never) });

      expect(await call("registerApp", [zeroAddress], OTHER)).to.equal(upstreamString("Invalid app ID"));
      expect(await call("setAppImplementation", [zeroAddress])).to.equal(upstreamString("Invalid implementation address"));
      expect(await call("deployAndRegisterApp", [OWNER, false, false, false, zeroHash, zeroHash])).to.equal(upstreamString("DstackApp implementation not set"));
      expect(await call("deployAndRegisterApp", [OWNER, false, false, zeroHash, zeroHash])).to.equal(upstreamString("DstackApp implementation not set"));
      // Upstream checks the implementation before the owner: with neither, the first message.
      expect(await call("deployAndRegisterApp", [zeroAddress, false, false, false, zeroHash, zeroHash])).to.equal(upstreamString("DstackApp implementation not set"));

      await kms.write.setAppImplementation([appImplementation.address]);
      expect(await call("deployAndRegisterApp", [zeroAddress, false, false, false, zeroHash, zeroHash], OTHER)).to.equal(upstreamString("Invalid owner address"));
      expect(await call("deployAndRegisterApp", [zeroAddress, false, false, zeroHash, zeroHash], OTHER)).to.equal(upstreamString("Invalid owner address"));
    });

    it("DstackApp: an upgrade after disableUpgrades, and a zero owner at initialisation (both initializers)", async () => {
      const next = await viem.deployContract("DstackAppNextVersion");
      const { app, implementation } = await deployAppProxy(viem, { owner: OWNER, disableUpgrades: true });
      expect(await revertData({ to: app.address, data: encodeFunctionData({ abi: app.abi, functionName: "upgradeToAndCall", args: [next.address, "0x"] }) })).to.equal(
        upstreamString("Upgrades are permanently disabled"),
      );

      const current = encodeFunctionData({ abi: implementation.abi, functionName: "initialize", args: [zeroAddress, false, false, false, zeroHash, hash("c")] });
      const legacy = encodeFunctionData({ abi: implementation.abi, functionName: "initialize", args: [zeroAddress, false, false, zeroHash, hash("c")] });
      for (const initData of [current, legacy]) {
        // The proxy constructor bubbles the initializer's revert data up unchanged.
        expect(await revertData({ data: await proxyDeployData(implementation.address, initData) })).to.equal(upstreamString("invalid owner address"));
      }
    });

    it("keeps OpenZeppelin's custom errors where upstream has them too, and ours only where upstream has no such function", async () => {
      const { app } = await deployAppProxy(viem, { owner: OWNER });
      const ownable = parseAbi(["error OwnableUnauthorizedAccount(address account)", "error OwnableInvalidOwner(address owner)"]);
      expect(await revertData({ to: app.address, from: OTHER, data: encodeFunctionData({ abi: app.abi, functionName: "addComposeHash", args: [hash("x")] }) })).to.equal(
        encodeErrorResult({ abi: ownable, errorName: "OwnableUnauthorizedAccount", args: [OTHER] }),
      );
      // DstackKms.initialize has no check of its own upstream: OpenZeppelin's error, there as here.
      const kmsImplementation = await viem.deployContract("DstackKms");
      const kmsInit = encodeFunctionData({ abi: kmsImplementation.abi, functionName: "initialize", args: [zeroAddress, zeroAddress] });
      expect(await revertData({ data: await proxyDeployData(kmsImplementation.address, kmsInit) })).to.equal(
        encodeErrorResult({ abi: ownable, errorName: "OwnableInvalidOwner", args: [zeroAddress] }),
      );
      // The batch functions are ours; so is their error.
      const empty = encodeErrorResult({ abi: parseAbi(["error EmptyBatch()"]), errorName: "EmptyBatch" });
      expect(await revertData({ to: app.address, data: encodeFunctionData({ abi: app.abi, functionName: "addComposeHashes", args: [[]] }) })).to.equal(empty);
      expect(await revertData({ to: app.address, data: encodeFunctionData({ abi: app.abi, functionName: "removeComposeHashes", args: [[]] }) })).to.equal(empty);
    });
  });

  it("a second disableUpgrades succeeds and emits again, as upstream", async () => {
    const { app } = await deployAppProxy(viem, { owner: OWNER });
    await app.write.disableUpgrades();
    const receipt = await publicClient.waitForTransactionReceipt({ hash: await app.write.disableUpgrades() });
    expect(receipt.status).to.equal("success");
    const events = parseEventLogs({ abi: app.abi, logs: receipt.logs });
    expect(events.map((event) => event.eventName)).to.deep.equal(["UpgradesDisabled", "PolicyChanged"]);
    expect(await app.read.upgradesDisabled()).to.equal(true);
  });

  it("initialisation emits upstream's events in upstream's order; the flag events (ours) follow ownership", async () => {
    const appImplementation = await viem.deployContract("DstackApp");
    const { kms } = await deployKmsProxy(viem, OWNER, appImplementation.address);
    const receipt = await publicClient.waitForTransactionReceipt({
      hash: await kms.write.deployAndRegisterApp([OWNER, true, true, true, hash("device"), hash("compose")]),
    });
    const abi = [...appImplementation.abi, ...kms.abi.filter((item) => item.type === "event" && item.name !== "PolicyChanged")] as Abi;
    const names = parseEventLogs({ abi, logs: receipt.logs }).map((event) => {
      const args = event.args as { policy?: Hex };
      return event.eventName === "PolicyChanged" ? `PolicyChanged(${policyName(args.policy!, [...UPSTREAM_APP_POLICIES, ...UPSTREAM_KMS_POLICIES])})` : event.eventName;
    });
    expect(names).to.deep.equal([
      "Upgraded",
      // upstream's initializer
      "DeviceAdded", "PolicyChanged(device)", "ComposeHashAdded", "PolicyChanged(compose-hash)", "OwnershipTransferred",
      // ours: the three flags upstream sets silently
      "AllowAnyDeviceSet", "PolicyChanged(allow-any-device)",
      "RequireTcbUpToDateSet", "PolicyChanged(require-tcb-up-to-date)",
      "UpgradesDisabled", "PolicyChanged(upgrades-disabled)",
      "Initialized",
      // upstream's factory
      "AppRegistered", "PolicyChanged(registered-app)", "AppDeployedViaFactory",
    ]);
  });

  it("an upstream-style indexer rebuilds every DstackApp policy from PolicyChanged and matches the getters", async () => {
    const appImplementation = await viem.deployContract("DstackApp");
    const { kms } = await deployKmsProxy(viem, OWNER, appImplementation.address);
    const deploy = async (args: [boolean, boolean, boolean, Hex, Hex]) => {
      const receipt = await publicClient.waitForTransactionReceipt({ hash: await kms.write.deployAndRegisterApp([OWNER, ...args]) });
      const [event] = parseEventLogs({ abi: kms.abi, logs: receipt.logs, eventName: "AppDeployedViaFactory" });
      return viem.getContractAt("DstackApp", event!.args.appId);
    };
    // Every combination of initial flags, then every kind of change.
    const apps = [
      await deploy([false, false, false, zeroHash, zeroHash]),
      await deploy([false, true, true, hash("d0"), hash("c0")]),
      await deploy([true, false, true, zeroHash, hash("c0")]),
    ];
    const [plain, flagged, frozen] = apps as [typeof apps[0], typeof apps[0], typeof apps[0]];
    await plain.write.addComposeHash([hash("c1")]);
    await plain.write.addComposeHashes([[hash("c2"), hash("c3"), hash("c4")]]);
    await plain.write.removeComposeHashes([[hash("c2"), hash("c4")]]);
    await plain.write.removeComposeHash([hash("c1")]);
    await plain.write.addDevice([hash("d1")]);
    await plain.write.addDevice([hash("d2")]);
    await plain.write.removeDevice([hash("d1")]);
    await plain.write.setAllowAnyDevice([true]);
    await plain.write.setRequireTcbUpToDate([true]);
    await plain.write.setRequireTcbUpToDate([false]);
    const next = await viem.deployContract("DstackAppNextVersion");
    await plain.write.upgradeToAndCall([next.address, "0x"]);
    await plain.write.disableUpgrades();
    await flagged.write.setAllowAnyDevice([false]);
    await flagged.write.removeDevice([hash("d0")]);
    await frozen.write.disableUpgrades();

    for (const app of apps) await expectAppMatchesGetters(app.address, await indexApp(app.address), getAddress(appImplementation.address));
    // The test can fail: the indexer saw the upgrade and the initial flags.
    const plainIndexed = await indexApp(plain.address);
    expect(plainIndexed.implementation).to.equal(getAddress(next.address));
    expect((await indexApp(flagged.address)).requireTcbUpToDate).to.equal(true);
    expect((await indexApp(frozen.address)).upgradesDisabled).to.equal(true);
    expect([...plainIndexed.composeHashes.entries()].filter(([, allowed]) => allowed).map(([key]) => key)).to.deep.equal([hash("c3")]);
  });

  it("an upstream-style indexer rebuilds every DstackKms policy from PolicyChanged and matches the getters", async () => {
    const appImplementation = await viem.deployContract("DstackApp");
    const { kms } = await deployKmsProxy(viem, OWNER, appImplementation.address);
    const asOther = await viem.getContractAt("DstackKms", kms.address, { client: { wallet: other! } });
    await kms.write.addKmsAggregatedMr([hash("mr1")]);
    await kms.write.addKmsAggregatedMr([hash("mr2")]);
    await kms.write.removeKmsAggregatedMr([hash("mr1")]);
    await kms.write.addKmsDevice([hash("kd1")]);
    await kms.write.addOsImageHash([hash("os1")]);
    await kms.write.addOsImageHash([hash("os2")]);
    await kms.write.removeOsImageHash([hash("os2")]);
    await kms.write.setGatewayAppId(["gateway-app"]);
    await kms.write.setKmsInfo([{ k256Pubkey: "0x02aa", caPubkey: "0x03bb", quote: "0x04", eventlog: "0x05" }]);
    const { app: external } = await deployAppProxy(viem, { owner: OTHER });
    await asOther.write.registerApp([external.address]);
    await kms.write.deployAndRegisterApp([OWNER, false, false, true, zeroHash, hash("c")]);
    const secondImplementation = await viem.deployContract("DstackApp");
    await kms.write.setAppImplementation([secondImplementation.address]);
    const nextKms = await viem.deployContract("DstackKms");
    await kms.write.upgradeToAndCall([nextKms.address, "0x"]);

    const indexed = await indexKms(kms.address);
    for (const [key, allowed] of indexed.aggregatedMrs) expect(await kms.read.kmsAllowedAggregatedMrs([key])).to.equal(allowed);
    for (const [key, allowed] of indexed.devices) expect(await kms.read.kmsAllowedDeviceIds([key])).to.equal(allowed);
    for (const [key, allowed] of indexed.osImages) expect(await kms.read.allowedOsImages([key])).to.equal(allowed);
    for (const [key, registered] of indexed.registeredApps) expect(await kms.read.registeredApps([key])).to.equal(registered);
    expect(indexed.registeredApps.size).to.equal(2);
    expect(indexed.registeredApps.get(getAddress(external.address))).to.equal(true);
    expect(await kms.read.appImplementation()).to.equal(indexed.appImplementation);
    expect(indexed.gatewayAppIdHash).to.equal(keccak256(toHex(await kms.read.gatewayAppId())));
    const [k256Pubkey] = await kms.read.kmsInfo();
    expect(indexed.k256PubkeyHash).to.equal(keccak256(k256Pubkey));
    expect(await implementationOf(kms.address)).to.equal(indexed.implementation);
    expect(indexed.implementation).to.equal(getAddress(nextKms.address));
  });

  it("encodes addresses in PolicyChanged as upstream: left-padded words", async () => {
    const { kms } = await deployKmsProxy(viem, OWNER);
    const { app } = await deployAppProxy(viem, { owner: OWNER });
    const receipt = await publicClient.waitForTransactionReceipt({ hash: await kms.write.registerApp([app.address]) });
    const [event] = parseEventLogs({ abi: policyChangedAbi, logs: receipt.logs });
    expect(event!.args.policy).to.equal(hash("registered-app"));
    expect(event!.args.value).to.equal(asWord(getAddress(app.address)));
    expect(encodeAbiParameters([{ type: "address" }], [getAddress(app.address)])).to.equal(asWord(getAddress(app.address)));
  });
});
