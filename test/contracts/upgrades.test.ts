import { expect } from "chai";
import { network } from "hardhat";
import { encodeFunctionData, getAddress, keccak256, toHex, type Address } from "viem";

import { deployAppProxy, deployKmsProxy } from "../support/contracts.js";

const { viem, networkHelpers } = await network.create();

const IMPLEMENTATION_SLOT = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc";
const HASHES = [1, 2, 3].map((i) => keccak256(toHex(`hash-${i}`)));
const DEVICE = keccak256(toHex("device"));

async function implementationOf(address: Address): Promise<Address> {
  const publicClient = await viem.getPublicClient();
  const word = await publicClient.getStorageAt({ address, slot: IMPLEMENTATION_SLOT });
  return getAddress(`0x${word!.slice(26)}`);
}

async function upgradeFixture() {
  const [owner, other] = await viem.getWalletClients();
  const deployed = await deployAppProxy(viem, {
    owner: owner!.account.address,
    requireTcbUpToDate: true,
    initialDeviceId: DEVICE,
    initialComposeHash: HASHES[0],
  });
  await deployed.app.write.addComposeHashes([HASHES.slice(1)]);
  await deployed.app.write.removeComposeHash([HASHES[1]!]);
  await deployed.app.write.transferOwnership([other!.account.address]);
  const next = await viem.deployContract("DstackAppNextVersion");
  return { ...deployed, next, owner: owner!, other: other! };
}

describe("UUPS upgrades", () => {
  it("lets the owner upgrade, and every allowlist entry, flag and owner survives", async () => {
    const { app, next, owner, other } = await networkHelpers.loadFixture(upgradeFixture);
    await viem.assertions.emitWithArgs(app.write.upgradeToAndCall([next.address, "0x"]), app, "Upgraded", [
      getAddress(next.address),
    ]);
    expect(await implementationOf(app.address)).to.equal(getAddress(next.address));
    const upgraded = await viem.getContractAt("DstackAppNextVersion", app.address);
    expect(await upgraded.read.version()).to.equal(3n);
    expect(await upgraded.read.allowedComposeHashes([HASHES[0]!])).to.equal(true);
    expect(await upgraded.read.allowedComposeHashes([HASHES[1]!])).to.equal(false);
    expect(await upgraded.read.allowedComposeHashes([HASHES[2]!])).to.equal(true);
    expect(await upgraded.read.allowedDeviceIds([DEVICE])).to.equal(true);
    expect(await upgraded.read.requireTcbUpToDate()).to.equal(true);
    expect(await upgraded.read.allowAnyDevice()).to.equal(false);
    expect(await upgraded.read.owner()).to.equal(getAddress(owner.account.address));
    expect(await upgraded.read.pendingOwner()).to.equal(getAddress(other.account.address));
  });

  it("upgrades to a user's extension (ExtendedDstackApp) with a reinitializer call; state kept, overrides active", async () => {
    const { app } = await networkHelpers.loadFixture(upgradeFixture);
    const extended = await viem.deployContract("ExtendedDstackApp");
    const initData = encodeFunctionData({ abi: extended.abi, functionName: "initializeV2", args: ["release-2"] });
    const upgraded = await viem.getContractAt("ExtendedDstackApp", app.address);
    await viem.assertions.emitWithArgs(app.write.upgradeToAndCall([extended.address, initData]), upgraded, "LabelSet", ["release-2"]);
    expect(await upgraded.read.label()).to.equal("release-2");
    expect(await upgraded.read.version()).to.equal(3n);
    expect(await upgraded.read.allowedComposeHashes([HASHES[2]!])).to.equal(true);
    expect(await upgraded.read.supportsInterface(["0x1e079198"])).to.equal(true);
    await viem.assertions.revertWithCustomError(upgraded.read.renounceOwnership(), upgraded, "RenounceForbidden");
    await viem.assertions.revertWithCustomError(upgraded.write.initializeV2(["again"]), upgraded, "InvalidInitialization");
    // Its _authorizeUpgrade extends DstackApp's: an address without code is refused by the extension.
    await viem.assertions.revertWith(upgraded.write.upgradeToAndCall([DEVICE.slice(0, 42) as Address, "0x"]), "no code");
  });

  it("refuses upgrades from anyone but the owner", async () => {
    const { app, next, other } = await networkHelpers.loadFixture(upgradeFixture);
    const asOther = await viem.getContractAt("DstackApp", app.address, { client: { wallet: other } });
    await viem.assertions.revertWithCustomErrorWithArgs(
      asOther.write.upgradeToAndCall([next.address, "0x"]),
      app,
      "OwnableUnauthorizedAccount",
      [getAddress(other.account.address)],
    );
  });

  it("refuses every upgrade for ever after disableUpgrades, even by the owner", async () => {
    const { app, next, implementation } = await networkHelpers.loadFixture(upgradeFixture);
    await viem.assertions.emit(app.write.disableUpgrades(), app, "UpgradesDisabled");
    expect(await app.read.upgradesDisabled()).to.equal(true);
    await viem.assertions.revertWith(app.write.upgradeToAndCall([next.address, "0x"]), "Upgrades are permanently disabled");
    expect(await implementationOf(app.address)).to.equal(getAddress(implementation.address));
  });

  it("refuses an upgrade to a contract that is not a UUPS implementation (here: a proxy)", async () => {
    const { app, owner } = await networkHelpers.loadFixture(upgradeFixture);
    const { proxy: notUups } = await deployAppProxy(viem, { owner: owner.account.address });
    await viem.assertions.revertWithCustomErrorWithArgs(
      app.write.upgradeToAndCall([notUups.address, "0x"]),
      app,
      "ERC1967InvalidImplementation",
      [getAddress(notUups.address)],
    );
  });

  it("refuses upgradeToAndCall on the implementation itself", async () => {
    const { implementation, next } = await networkHelpers.loadFixture(upgradeFixture);
    await viem.assertions.revertWithCustomError(
      implementation.write.upgradeToAndCall([next.address, "0x"]),
      implementation,
      "UUPSUnauthorizedCallContext",
    );
  });

  it("upgrades the KMS by its owner only, keeping its state", async () => {
    const [owner, other] = await viem.getWalletClients();
    const appImplementation = await viem.deployContract("DstackApp");
    const { kms } = await deployKmsProxy(viem, owner!.account.address, appImplementation.address);
    await kms.write.addOsImageHash([HASHES[0]!]);
    const nextKms = await viem.deployContract("DstackKms");
    const asOther = await viem.getContractAt("DstackKms", kms.address, { client: { wallet: other! } });
    await viem.assertions.revertWithCustomError(asOther.write.upgradeToAndCall([nextKms.address, "0x"]), kms, "OwnableUnauthorizedAccount");
    await kms.write.upgradeToAndCall([nextKms.address, "0x"]);
    expect(await implementationOf(kms.address)).to.equal(getAddress(nextKms.address));
    expect(await kms.read.allowedOsImages([HASHES[0]!])).to.equal(true);
    expect(await kms.read.appImplementation()).to.equal(getAddress(appImplementation.address));
  });
});
