import { readFile } from "node:fs/promises";

import { expect } from "chai";
import { artifacts } from "hardhat";
import { toEventSignature, toFunctionSelector, toFunctionSignature, type Abi, type AbiEvent, type AbiFunction } from "viem";

// The facts of ../shared/spec/dstack-contracts-compat.md, written out here so that the
// suite also runs where ../shared is absent.
const APP_FUNCTIONS = [
  "UPGRADE_INTERFACE_VERSION()", "acceptOwnership()", "addComposeHash(bytes32)", "addDevice(bytes32)",
  "allowAnyDevice()", "allowedComposeHashes(bytes32)", "allowedDeviceIds(bytes32)", "disableUpgrades()",
  "initialize(address,bool,bool,bool,bytes32,bytes32)", "initialize(address,bool,bool,bytes32,bytes32)",
  "isAppAllowed((address,bytes32,address,bytes32,bytes32,bytes32,bytes32,string,string[]))", "owner()",
  "pendingOwner()", "proxiableUUID()", "removeComposeHash(bytes32)", "removeDevice(bytes32)", "renounceOwnership()",
  "requireTcbUpToDate()", "setAllowAnyDevice(bool)", "setRequireTcbUpToDate(bool)", "supportsInterface(bytes4)",
  "transferOwnership(address)", "upgradeToAndCall(address,bytes)", "version()",
];
const APP_EVENTS: Array<[string, boolean[]]> = [
  ["ComposeHashAdded(bytes32)", [false]],
  ["ComposeHashRemoved(bytes32)", [false]],
  ["DeviceAdded(bytes32)", [false]],
  ["DeviceRemoved(bytes32)", [false]],
  ["AllowAnyDeviceSet(bool)", [false]],
  ["RequireTcbUpToDateSet(bool)", [false]],
  ["UpgradesDisabled()", []],
  ["PolicyChanged(address,bytes32,bytes32,bool)", [true, true, true, false]],
  ["OwnershipTransferred(address,address)", [true, true]],
  ["OwnershipTransferStarted(address,address)", [true, true]],
  ["Upgraded(address)", [true]],
  ["Initialized(uint64)", [false]],
];
const KMS_FUNCTIONS = [
  "UPGRADE_INTERFACE_VERSION()", "acceptOwnership()", "addKmsAggregatedMr(bytes32)", "addKmsDevice(bytes32)",
  "addOsImageHash(bytes32)", "allowedOsImages(bytes32)", "appImplementation()",
  "deployAndRegisterApp(address,bool,bool,bool,bytes32,bytes32)", "deployAndRegisterApp(address,bool,bool,bytes32,bytes32)",
  "gatewayAppId()", "initialize(address,address)",
  "isAppAllowed((address,bytes32,address,bytes32,bytes32,bytes32,bytes32,string,string[]))",
  "isKmsAllowed((address,bytes32,address,bytes32,bytes32,bytes32,bytes32,string,string[]))",
  "kmsAllowedAggregatedMrs(bytes32)", "kmsAllowedDeviceIds(bytes32)", "kmsInfo()", "owner()", "pendingOwner()",
  "proxiableUUID()", "registerApp(address)", "registeredApps(address)", "removeKmsAggregatedMr(bytes32)",
  "removeKmsDevice(bytes32)", "removeOsImageHash(bytes32)", "renounceOwnership()", "setAppImplementation(address)",
  "setGatewayAppId(string)", "setKmsEventlog(bytes)", "setKmsInfo((bytes,bytes,bytes,bytes))", "setKmsQuote(bytes)",
  "supportsInterface(bytes4)", "transferOwnership(address)", "upgradeToAndCall(address,bytes)",
];
const KMS_EVENTS: Array<[string, boolean[]]> = [
  ["AppRegistered(address)", [false]],
  ["AppDeployedViaFactory(address,address)", [true, true]],
  ["AppImplementationSet(address)", [false]],
  ["GatewayAppIdSet(string)", [false]],
  ["KmsInfoSet(bytes)", [false]],
  ["KmsAggregatedMrAdded(bytes32)", [false]],
  ["KmsAggregatedMrRemoved(bytes32)", [false]],
  ["KmsDeviceAdded(bytes32)", [false]],
  ["KmsDeviceRemoved(bytes32)", [false]],
  ["OsImageHashAdded(bytes32)", [false]],
  ["OsImageHashRemoved(bytes32)", [false]],
  ["PolicyChanged(address,bytes32,bytes32,bool)", [true, true, true, false]],
];

// [slot, offset, label, solc type] from the spec's storage tables.
const APP_STORAGE: Array<[number, number, string, string]> = [
  [0, 0, "allowedComposeHashes", "t_mapping(t_bytes32,t_bool)"],
  [1, 0, "_upgradesDisabled", "t_bool"],
  [1, 1, "allowAnyDevice", "t_bool"],
  [2, 0, "allowedDeviceIds", "t_mapping(t_bytes32,t_bool)"],
  [3, 0, "requireTcbUpToDate", "t_bool"],
  [4, 0, "__gap", "t_array(t_uint256)49_storage"],
];
const KMS_STORAGE: Array<[number, number, string, string]> = [
  [0, 0, "kmsInfo", "t_struct(KmsInfo)"],
  [4, 0, "gatewayAppId", "t_string_storage"],
  [5, 0, "registeredApps", "t_mapping(t_address,t_bool)"],
  [6, 0, "kmsAllowedAggregatedMrs", "t_mapping(t_bytes32,t_bool)"],
  [7, 0, "kmsAllowedDeviceIds", "t_mapping(t_bytes32,t_bool)"],
  [8, 0, "allowedOsImages", "t_mapping(t_bytes32,t_bool)"],
  [9, 0, "appImplementation", "t_address"],
  [10, 0, "__gap", "t_array(t_uint256)50_storage"],
];

function functionSignatures(abi: Abi): string[] {
  return abi.filter((item): item is AbiFunction => item.type === "function").map((item) => toFunctionSignature(item));
}

function eventShapes(abi: Abi): Map<string, boolean[]> {
  return new Map(
    abi
      .filter((item): item is AbiEvent => item.type === "event")
      .map((item) => [toEventSignature(item).replace(/ indexed/g, "").replace(/ \w+(?=[,)])/g, ""), item.inputs.map((input) => input.indexed === true)]),
  );
}

function interfaceId(signatures: string[]): string {
  const id = signatures.map((signature) => Number.parseInt(toFunctionSelector(`function ${signature}`).slice(2), 16)).reduce((a, b) => (a ^ b) >>> 0, 0);
  return `0x${id.toString(16).padStart(8, "0")}`;
}

interface StorageEntry { label: string; slot: string; offset: number; type: string }

async function storageLayout(contractName: string): Promise<StorageEntry[]> {
  const buildInfoId = await artifacts.getBuildInfoId(contractName);
  const outputPath = buildInfoId === undefined ? undefined : await artifacts.getBuildInfoOutputPath(buildInfoId);
  if (outputPath === undefined) throw new Error(`no build info for ${contractName}; run the build first`);
  const output = JSON.parse(await readFile(outputPath, "utf8"));
  const sourceName = `project/contracts/${contractName}.sol`;
  const layout = output.output.contracts[sourceName]?.[contractName]?.storageLayout;
  if (layout === undefined) throw new Error(`no storageLayout for ${sourceName}:${contractName} (outputSelection must request it)`);
  return layout.storage;
}

describe("upstream compatibility", () => {
  for (const [name, functions, events] of [
    ["DstackApp", APP_FUNCTIONS, APP_EVENTS],
    ["DstackKms", KMS_FUNCTIONS, KMS_EVENTS],
  ] as const) {
    it(`${name} has every upstream function signature`, async () => {
      const { abi } = await artifacts.readArtifact(name);
      const present = new Set(functionSignatures(abi as Abi));
      const missing = functions.filter((signature) => !present.has(signature));
      expect(missing, `missing from ${name}`).to.deep.equal([]);
    });

    it(`${name} has every upstream event with the same indexed arguments`, async () => {
      const { abi } = await artifacts.readArtifact(name);
      const present = eventShapes(abi as Abi);
      for (const [signature, indexed] of events) {
        expect(present.get(signature), signature).to.deep.equal(indexed);
      }
    });
  }

  it("computes the spec's ERC-165 ids from the interfaces' selectors", () => {
    expect(interfaceId(["isAppAllowed((address,bytes32,address,bytes32,bytes32,bytes32,bytes32,string,string[]))"])).to.equal("0x1e079198");
    expect(interfaceId(["addComposeHash(bytes32)", "removeComposeHash(bytes32)", "addDevice(bytes32)", "removeDevice(bytes32)"])).to.equal("0x8fd37527");
    expect(interfaceId(["supportsInterface(bytes4)"])).to.equal("0x01ffc9a7");
  });

  for (const [name, expected] of [
    ["DstackApp", APP_STORAGE],
    ["DstackKms", KMS_STORAGE],
  ] as const) {
    it(`${name} keeps the upstream storage slots, offsets and types`, async () => {
      const layout = await storageLayout(name);
      const actual = layout.map((entry) => [Number(entry.slot), entry.offset, entry.label, entry.type.replace(/(t_struct\(\w+\))\d+_storage/, "$1")]);
      expect(actual).to.deep.equal(expected);
    });
  }
});
