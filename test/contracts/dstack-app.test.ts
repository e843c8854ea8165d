import { expect } from "chai";
import { network } from "hardhat";
import { encodeFunctionData, getAddress, keccak256, parseEventLogs, toHex, zeroHash, type Hex } from "viem";

import { bootInfo, deployAppProxy } from "../support/contracts.js";

const { viem, networkHelpers } = await network.create();

const HASH_A = keccak256(toHex("compose-a"));
const HASH_B = keccak256(toHex("compose-b"));
const HASH_C = keccak256(toHex("compose-c"));
const DEVICE_1 = keccak256(toHex("device-1"));
const DEVICE_2 = keccak256(toHex("device-2"));
const policy = (name: string) => keccak256(toHex(name));

async function appFixture() {
  const [owner, other, third] = await viem.getWalletClients();
  const publicClient = await viem.getPublicClient();
  const deployed = await deployAppProxy(viem, {
    owner: owner!.account.address,
    initialComposeHash: HASH_A,
    initialDeviceId: DEVICE_1,
  });
  const asOther = await viem.getContractAt("DstackApp", deployed.app.address, { client: { wallet: other! } });
  return { ...deployed, owner: owner!, other: other!, third: third!, publicClient, asOther };
}

describe("DstackApp", () => {
  describe("initialisation", () => {
    it("sets the owner, flags and the initial hash and device, with events", async () => {
      const { app, owner, publicClient } = await networkHelpers.loadFixture(appFixture);
      expect(await app.read.owner()).to.equal(getAddress(owner.account.address));
      expect(await app.read.pendingOwner()).to.equal("0x0000000000000000000000000000000000000000");
      expect(await app.read.allowedComposeHashes([HASH_A])).to.equal(true);
      expect(await app.read.allowedComposeHashes([HASH_B])).to.equal(false);
      expect(await app.read.allowedDeviceIds([DEVICE_1])).to.equal(true);
      expect(await app.read.allowAnyDevice()).to.equal(false);
      expect(await app.read.requireTcbUpToDate()).to.equal(false);
      expect(await app.read.upgradesDisabled()).to.equal(false);
      expect(await app.read.version()).to.equal(2n);

      const events = await publicClient.getContractEvents({ address: app.address, abi: app.abi, fromBlock: 0n });
      const names = events.map((event) => event.eventName);
      expect(names).to.include.members(["ComposeHashAdded", "DeviceAdded", "OwnershipTransferred", "Initialized"]);
      expect(names).to.not.include("UpgradesDisabled");
    });

    it("initialises every flag through the six-argument initializer", async () => {
      const [owner] = await viem.getWalletClients();
      const { app } = await deployAppProxy(viem, {
        owner: owner!.account.address,
        disableUpgrades: true,
        requireTcbUpToDate: true,
        allowAnyDevice: true,
      });
      expect(await app.read.upgradesDisabled()).to.equal(true);
      expect(await app.read.requireTcbUpToDate()).to.equal(true);
      expect(await app.read.allowAnyDevice()).to.equal(true);
      expect(await app.read.allowedComposeHashes([zeroHash])).to.equal(false);
    });

    it("supports the legacy five-argument initializer, without a TCB requirement", async () => {
      const [owner] = await viem.getWalletClients();
      const implementation = await viem.deployContract("DstackApp");
      const initData = encodeFunctionData({
        abi: implementation.abi,
        functionName: "initialize",
        args: [owner!.account.address, false, true, DEVICE_2, HASH_B],
      });
      const proxy = await viem.deployContract("ERC1967Proxy", [implementation.address, initData]);
      const app = await viem.getContractAt("DstackApp", proxy.address);
      expect(await app.read.requireTcbUpToDate()).to.equal(false);
      expect(await app.read.allowAnyDevice()).to.equal(true);
      expect(await app.read.allowedComposeHashes([HASH_B])).to.equal(true);
      expect(await app.read.allowedDeviceIds([DEVICE_2])).to.equal(true);
    });

    it("cannot be initialised twice, and the implementation cannot be initialised at all", async () => {
      const { app, implementation, owner } = await networkHelpers.loadFixture(appFixture);
      const args = [owner.account.address, false, false, false, zeroHash, zeroHash] as const;
      await viem.assertions.revertWithCustomError(app.write.initialize(args), app, "InvalidInitialization");
      await viem.assertions.revertWithCustomError(
        implementation.write.initialize(args),
        implementation,
        "InvalidInitialization",
      );
    });

    it("rejects the zero owner", async () => {
      const implementation = await viem.deployContract("DstackApp");
      const initData = encodeFunctionData({
        abi: implementation.abi,
        functionName: "initialize",
        args: ["0x0000000000000000000000000000000000000000", false, false, false, zeroHash, zeroHash],
      });
      await viem.assertions.revertWith(viem.deployContract("ERC1967Proxy", [implementation.address, initData]), "invalid owner address");
    });
  });

  describe("compose hashes", () => {
    it("adds and removes a hash, emitting the upstream event and PolicyChanged", async () => {
      const { app, owner } = await networkHelpers.loadFixture(appFixture);
      const actor = getAddress(owner.account.address);

      const added = app.write.addComposeHash([HASH_B]);
      await viem.assertions.emitWithArgs(added, app, "ComposeHashAdded", [HASH_B]);
      expect(await app.read.allowedComposeHashes([HASH_B])).to.equal(true);

      await viem.assertions.emitWithArgs(app.write.addComposeHash([HASH_C]), app, "PolicyChanged", [
        actor,
        policy("compose-hash"),
        HASH_C,
        true,
      ]);

      await viem.assertions.emitWithArgs(app.write.removeComposeHash([HASH_B]), app, "ComposeHashRemoved", [HASH_B]);
      expect(await app.read.allowedComposeHashes([HASH_B])).to.equal(false);
      await viem.assertions.emitWithArgs(app.write.removeComposeHash([HASH_C]), app, "PolicyChanged", [
        actor,
        policy("compose-hash"),
        HASH_C,
        false,
      ]);
      expect(await app.read.allowedComposeHashes([HASH_A])).to.equal(true);
    });

    it("adds and removes a batch, with the same per-hash events in order", async () => {
      const { app, publicClient } = await networkHelpers.loadFixture(appFixture);
      const hashes = Array.from({ length: 5 }, (_, i) => keccak256(toHex(`batch-${i}`)));

      const addTx = await app.write.addComposeHashes([hashes]);
      const addReceipt = await publicClient.waitForTransactionReceipt({ hash: addTx });
      const addEvents = parseEventLogs({ abi: app.abi, logs: addReceipt.logs, eventName: "ComposeHashAdded" });
      expect(addEvents.map((event) => event.args.composeHash)).to.deep.equal(hashes);
      const policyEvents = parseEventLogs({ abi: app.abi, logs: addReceipt.logs, eventName: "PolicyChanged" });
      expect(policyEvents.map((event) => [event.args.value, event.args.enabled])).to.deep.equal(
        hashes.map((hash) => [hash, true]),
      );
      for (const hash of hashes) expect(await app.read.allowedComposeHashes([hash])).to.equal(true);

      const removed = hashes.slice(0, 3);
      const removeTx = await app.write.removeComposeHashes([removed]);
      const removeReceipt = await publicClient.waitForTransactionReceipt({ hash: removeTx });
      const removeEvents = parseEventLogs({ abi: app.abi, logs: removeReceipt.logs, eventName: "ComposeHashRemoved" });
      expect(removeEvents.map((event) => event.args.composeHash)).to.deep.equal(removed);
      for (const [i, hash] of hashes.entries()) {
        expect(await app.read.allowedComposeHashes([hash])).to.equal(i >= 3);
      }
    });

    it("rejects empty batches", async () => {
      const { app } = await networkHelpers.loadFixture(appFixture);
      await viem.assertions.revertWithCustomError(app.write.addComposeHashes([[]]), app, "EmptyBatch");
      await viem.assertions.revertWithCustomError(app.write.removeComposeHashes([[]]), app, "EmptyBatch");
    });
  });

  describe("devices and flags", () => {
    it("adds and removes devices with events", async () => {
      const { app, owner } = await networkHelpers.loadFixture(appFixture);
      await viem.assertions.emitWithArgs(app.write.addDevice([DEVICE_2]), app, "DeviceAdded", [DEVICE_2]);
      expect(await app.read.allowedDeviceIds([DEVICE_2])).to.equal(true);
      await viem.assertions.emitWithArgs(app.write.removeDevice([DEVICE_2]), app, "PolicyChanged", [
        getAddress(owner.account.address),
        policy("device"),
        DEVICE_2,
        false,
      ]);
      expect(await app.read.allowedDeviceIds([DEVICE_2])).to.equal(false);
      await viem.assertions.emitWithArgs(app.write.removeDevice([DEVICE_1]), app, "DeviceRemoved", [DEVICE_1]);
    });

    it("switches allowAnyDevice and requireTcbUpToDate with events", async () => {
      const { app, owner } = await networkHelpers.loadFixture(appFixture);
      const actor = getAddress(owner.account.address);
      await viem.assertions.emitWithArgs(app.write.setAllowAnyDevice([true]), app, "AllowAnyDeviceSet", [true]);
      expect(await app.read.allowAnyDevice()).to.equal(true);
      await viem.assertions.emitWithArgs(app.write.setAllowAnyDevice([false]), app, "PolicyChanged", [
        actor,
        policy("allow-any-device"),
        zeroHash,
        false,
      ]);
      expect(await app.read.allowAnyDevice()).to.equal(false);
      await viem.assertions.emitWithArgs(app.write.setRequireTcbUpToDate([true]), app, "RequireTcbUpToDateSet", [
        true,
      ]);
      expect(await app.read.requireTcbUpToDate()).to.equal(true);
      await viem.assertions.emitWithArgs(app.write.setRequireTcbUpToDate([false]), app, "PolicyChanged", [
        actor,
        policy("require-tcb-up-to-date"),
        zeroHash,
        false,
      ]);
    });
  });

  describe("access control", () => {
    // biome-ignore lint/suspicious/noExplicitAny: a table over the deployed contract's viem instance, whose generated type is not nameable here; each call runs against the real contract
    const ownerOnlyCalls: Array<[string, (app: any) => Promise<Hex>]> = [
      ["addComposeHash", (app) => app.write.addComposeHash([HASH_B])],
      ["removeComposeHash", (app) => app.write.removeComposeHash([HASH_A])],
      ["addComposeHashes", (app) => app.write.addComposeHashes([[HASH_B]])],
      ["removeComposeHashes", (app) => app.write.removeComposeHashes([[HASH_A]])],
      ["addDevice", (app) => app.write.addDevice([DEVICE_2])],
      ["removeDevice", (app) => app.write.removeDevice([DEVICE_1])],
      ["setAllowAnyDevice", (app) => app.write.setAllowAnyDevice([true])],
      ["setRequireTcbUpToDate", (app) => app.write.setRequireTcbUpToDate([true])],
      ["disableUpgrades", (app) => app.write.disableUpgrades()],
      ["transferOwnership", (app) => app.write.transferOwnership(["0x00000000000000000000000000000000000000aa"])],
      ["renounceOwnership", (app) => app.write.renounceOwnership()],
      ["upgradeToAndCall", (app) => app.write.upgradeToAndCall(["0x00000000000000000000000000000000000000aa", "0x"])],
    ];

    for (const [name, call] of ownerOnlyCalls) {
      it(`refuses ${name} from a non-owner with OwnableUnauthorizedAccount`, async () => {
        const { app, asOther, other } = await networkHelpers.loadFixture(appFixture);
        await viem.assertions.revertWithCustomErrorWithArgs(call(asOther), app, "OwnableUnauthorizedAccount", [
          getAddress(other.account.address),
        ]);
      });
    }
  });

  describe("two-step ownership", () => {
    it("transfers only when the pending owner accepts", async () => {
      const { app, asOther, owner, other, third } = await networkHelpers.loadFixture(appFixture);
      await viem.assertions.emitWithArgs(
        app.write.transferOwnership([other.account.address]),
        app,
        "OwnershipTransferStarted",
        [getAddress(owner.account.address), getAddress(other.account.address)],
      );
      expect(await app.read.owner()).to.equal(getAddress(owner.account.address));
      expect(await app.read.pendingOwner()).to.equal(getAddress(other.account.address));

      const asThird = await viem.getContractAt("DstackApp", app.address, { client: { wallet: third } });
      await viem.assertions.revertWithCustomErrorWithArgs(
        asThird.write.acceptOwnership(),
        app,
        "OwnableUnauthorizedAccount",
        [getAddress(third.account.address)],
      );

      await viem.assertions.emitWithArgs(asOther.write.acceptOwnership(), app, "OwnershipTransferred", [
        getAddress(owner.account.address),
        getAddress(other.account.address),
      ]);
      expect(await app.read.owner()).to.equal(getAddress(other.account.address));
      expect(await app.read.pendingOwner()).to.equal("0x0000000000000000000000000000000000000000");
      await viem.assertions.revertWithCustomError(app.write.addComposeHash([HASH_B]), app, "OwnableUnauthorizedAccount");
      await asOther.write.addComposeHash([HASH_B]);
      expect(await app.read.allowedComposeHashes([HASH_B])).to.equal(true);
    });

    it("renounces ownership for good", async () => {
      const { app } = await networkHelpers.loadFixture(appFixture);
      await app.write.renounceOwnership();
      expect(await app.read.owner()).to.equal("0x0000000000000000000000000000000000000000");
      await viem.assertions.revertWithCustomError(app.write.addComposeHash([HASH_B]), app, "OwnableUnauthorizedAccount");
    });
  });

  describe("isAppAllowed", () => {
    // The upstream decision order, written independently of the contract.
    function expected(state: MatrixCase): [boolean, string] {
      if (state.requireTcb && state.tcbStatus !== "UpToDate") return [false, "TCB status is not up to date"];
      if (!state.hashAllowed) return [false, "Compose hash not allowed"];
      if (!state.anyDevice && !state.deviceAllowed) return [false, "Device not allowed"];
      return [true, ""];
    }

    interface MatrixCase {
      requireTcb: boolean;
      tcbStatus: string;
      hashAllowed: boolean;
      anyDevice: boolean;
      deviceAllowed: boolean;
    }

    const cases: MatrixCase[] = [];
    for (const requireTcb of [false, true])
      for (const tcbStatus of ["UpToDate", "OutOfDate", ""])
        for (const hashAllowed of [false, true])
          for (const anyDevice of [false, true])
            for (const deviceAllowed of [false, true]) cases.push({ requireTcb, tcbStatus, hashAllowed, anyDevice, deviceAllowed });

    it(`decides all ${cases.length} combinations in upstream order with upstream reasons`, async () => {
      const { app } = await networkHelpers.loadFixture(appFixture);
      const seenReasons = new Set<string>();
      for (const state of cases) {
        if ((await app.read.requireTcbUpToDate()) !== state.requireTcb) await app.write.setRequireTcbUpToDate([state.requireTcb]);
        if ((await app.read.allowAnyDevice()) !== state.anyDevice) await app.write.setAllowAnyDevice([state.anyDevice]);
        const info = bootInfo({
          appId: app.address,
          composeHash: state.hashAllowed ? HASH_A : HASH_C,
          deviceId: state.deviceAllowed ? DEVICE_1 : DEVICE_2,
          tcbStatus: state.tcbStatus,
          advisoryIds: ["INTEL-SA-00001"],
        });
        const answer = await app.read.isAppAllowed([info]);
        expect(answer, JSON.stringify(state)).to.deep.equal(expected(state));
        seenReasons.add(answer[1]);
      }
      expect([...seenReasons].sort()).to.deep.equal(
        ["", "Compose hash not allowed", "Device not allowed", "TCB status is not up to date"].sort(),
      );
    });
  });

  describe("ERC-165", () => {
    it("answers the upstream interface ids and the batch extension, and nothing else", async () => {
      const { app } = await networkHelpers.loadFixture(appFixture);
      expect(await app.read.supportsInterface(["0x1e079198"])).to.equal(true);
      expect(await app.read.supportsInterface(["0x8fd37527"])).to.equal(true);
      expect(await app.read.supportsInterface(["0x01ffc9a7"])).to.equal(true);
      expect(await app.read.supportsInterface(["0xffffffff"])).to.equal(false);
      expect(await app.read.supportsInterface(["0x12345678"])).to.equal(false);
    });
  });
});
