/**
 * The upgrade check (OpenZeppelin upgrades-core on Hardhat 3 build info): a move from
 * upstream's deployed layout to this project's implementations passes; a layout-breaking or
 * upgrade-unsafe implementation is refused with the validator's findings.
 */
import { expect } from "chai";
import { artifacts } from "hardhat";

import { assertSafeUpgrade, storageLayoutOf, UnsafeUpgradeError, type LayoutReference } from "../../src/upgrade/upgrade-safety.js";
import { UPSTREAM_DSTACK_APP_LAYOUT, UPSTREAM_DSTACK_KMS_LAYOUT } from "../../src/upgrade/upstream-layouts.js";
import { compiledContract } from "../../tasks/lib/upgrade-check.js";

const UPSTREAM_APP: LayoutReference = { name: "upstream DstackApp", layout: UPSTREAM_DSTACK_APP_LAYOUT };
const UPSTREAM_KMS: LayoutReference = { name: "upstream DstackKms", layout: UPSTREAM_DSTACK_KMS_LAYOUT };

const contract = (name: string) => compiledContract(artifacts, name, "--contract");
const referenceOf = async (name: string): Promise<LayoutReference> => ({ name, layout: storageLayoutOf(await contract(name)) });

function refusal(reference: LayoutReference, candidate: Awaited<ReturnType<typeof contract>>): UnsafeUpgradeError {
  try {
    assertSafeUpgrade(reference, candidate, candidate.name);
  } catch (error) {
    expect(error).to.be.instanceOf(UnsafeUpgradeError);
    return error as UnsafeUpgradeError;
  }
  throw new Error(`${candidate.name} was accepted as an upgrade of ${reference.name}`);
}

// An older upstream DstackApp layout (before the app id moved out of storage), as recorded in
// upstream's .openzeppelin manifest: `address appId` in slot 0 shifted everything by one.
const UPSTREAM_V1_APP: LayoutReference = {
  name: "upstream DstackApp v1",
  layout: {
    storage: [
      { contract: "DstackApp", label: "appId", type: "t_address", slot: "0", offset: 0, src: "contracts/DstackApp.sol" },
      { contract: "DstackApp", label: "allowedComposeHashes", type: "t_mapping(t_bytes32,t_bool)", slot: "1", offset: 0, src: "contracts/DstackApp.sol" },
      { contract: "DstackApp", label: "_upgradesDisabled", type: "t_bool", slot: "2", offset: 0, src: "contracts/DstackApp.sol" },
      { contract: "DstackApp", label: "allowAnyDevice", type: "t_bool", slot: "2", offset: 1, src: "contracts/DstackApp.sol" },
      { contract: "DstackApp", label: "allowedDeviceIds", type: "t_mapping(t_bytes32,t_bool)", slot: "3", offset: 0, src: "contracts/DstackApp.sol" },
      { contract: "DstackApp", label: "__gap", type: "t_array(t_uint256)50_storage", slot: "4", offset: 0, src: "contracts/DstackApp.sol" },
    ],
    types: {
      ...UPSTREAM_DSTACK_APP_LAYOUT.types,
      "t_array(t_uint256)50_storage": { label: "uint256[50]", numberOfBytes: "1600" },
    },
    namespaces: UPSTREAM_DSTACK_APP_LAYOUT.namespaces,
  },
};

describe("upgrade check (OpenZeppelin upgrades-core)", () => {
  it("the recorded upstream layouts are the slots this project's contracts keep", async () => {
    for (const [name, recorded] of [["DstackApp", UPSTREAM_DSTACK_APP_LAYOUT], ["DstackKms", UPSTREAM_DSTACK_KMS_LAYOUT]] as const) {
      const compiled = storageLayoutOf(await contract(name));
      const shape = (layout: typeof compiled) => layout.storage.map((item) => [item.label, item.slot, item.offset, layout.types[item.type]?.label]);
      expect(shape(compiled), name).to.deep.equal(shape(recorded));
      // With the namespaced compilation, OpenZeppelin's ERC-7201 state has slots and offsets too.
      const namespaces = (layout: typeof compiled) =>
        Object.fromEntries(Object.entries(layout.namespaces ?? {}).map(([id, items]) => [id, items.map((item) => [item.label, item.slot, item.offset, layout.types[item.type]?.label])]));
      expect(namespaces(compiled), name).to.deep.equal(namespaces(recorded));
      expect(namespaces(compiled)["erc7201:openzeppelin.storage.Initializable"], name).to.deep.equal([["_initialized", "0", 0, "uint64"], ["_initializing", "0", 8, "bool"]]);
    }
  });

  it("accepts a move from upstream's deployed implementations to this project's", async () => {
    const app = await contract("DstackApp");
    const kms = await contract("DstackKms");
    assertSafeUpgrade(UPSTREAM_APP, app, app.name);
    assertSafeUpgrade(UPSTREAM_KMS, kms, kms.name);
    // And from this project's implementation to itself and to a later version.
    assertSafeUpgrade(await referenceOf("DstackApp"), app, app.name);
    assertSafeUpgrade(await referenceOf("DstackApp"), await contract("DstackAppNextVersion"), "DstackAppNextVersion");
  });

  it("accepts a user's extension (new state after the gap, a reinitializer) over upstream's and this project's DstackApp", async () => {
    const extended = await contract("ExtendedDstackApp");
    assertSafeUpgrade(UPSTREAM_APP, extended, extended.name);
    assertSafeUpgrade(await referenceOf("DstackApp"), extended, extended.name);
    const layout = storageLayoutOf(extended);
    expect(layout.storage.at(-1)).to.include({ label: "label", slot: "53" });
  });

  it("refuses an implementation that inserts a variable before the allowlist (layout broken)", async () => {
    const broken = await contract("DstackAppBrokenLayout");
    for (const reference of [UPSTREAM_APP, await referenceOf("DstackApp")]) {
      const error = refusal(reference, broken);
      expect(error.code).to.equal("UNSAFE_UPGRADE");
      expect(error.message).to.equal(`the storage layout of DstackAppBrokenLayout is incompatible with ${reference.name}'s`);
      expect(error.findings).to.match(/Inserted `inserted`/);
    }
  });

  it("refuses an implementation that is not upgrade-safe even with an unchanged layout (delegatecall)", async () => {
    const error = refusal(await referenceOf("DstackApp"), await contract("DstackAppUnsafe"));
    expect(error.message).to.equal("DstackAppUnsafe is not upgrade-safe (1 finding)");
    expect(error.findings).to.match(/Use of delegatecall is not allowed/);
  });

  it("compares OpenZeppelin's ERC-7201 namespaces too: a member the new implementation lacks is refused", async () => {
    const namespaces = UPSTREAM_DSTACK_APP_LAYOUT.namespaces!;
    const ownable = namespaces["erc7201:openzeppelin.storage.Ownable"]!;
    const reference: LayoutReference = {
      name: "an app whose Ownable namespace had a second member",
      layout: {
        ...UPSTREAM_DSTACK_APP_LAYOUT,
        namespaces: { ...namespaces, "erc7201:openzeppelin.storage.Ownable": [...ownable, { ...ownable[0]!, label: "_extra", type: "t_uint256", slot: "1" }] },
      },
    };
    expect(refusal(reference, await contract("DstackApp")).findings).to.match(/Deleted `_extra`/);
  });

  it("refuses a KMS implementation for an app, and this project's app over upstream's older layout", async () => {
    expect(refusal(UPSTREAM_APP, await contract("DstackKms")).findings).to.match(/allowedComposeHashes|kmsInfo/);
    expect(refusal(UPSTREAM_KMS, await contract("DstackApp")).message).to.match(/incompatible with upstream DstackKms's/);
    expect(refusal(UPSTREAM_V1_APP, await contract("DstackApp")).findings).to.match(/appId/);
  });
});
