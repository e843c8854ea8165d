import { expect } from "chai";
import { network } from "hardhat";
import { getAddress, keccak256, toHex, zeroAddress } from "viem";

import DstackAppModule from "../../ignition/modules/DstackApp.js";
import DstackAppViaKmsModule from "../../ignition/modules/DstackAppViaKms.js";
import DstackKmsModule from "../../ignition/modules/DstackKms.js";
import DstackKmsWithAppModule from "../../ignition/modules/DstackKmsWithApp.js";

const COMPOSE = keccak256(toHex("ignition-compose"));

describe("Ignition modules", () => {
  it("DstackApp deploys an initialised proxy with the given parameters", async () => {
    const { ignition, viem } = await network.create();
    const [, owner] = await viem.getWalletClients();
    const { app, implementation } = await ignition.deploy(DstackAppModule, {
      parameters: { DstackApp: { owner: owner!.account.address, initialComposeHash: COMPOSE, requireTcbUpToDate: true } },
    });
    expect(await app.read.owner()).to.equal(getAddress(owner!.account.address));
    expect(await app.read.allowedComposeHashes([COMPOSE])).to.equal(true);
    expect(await app.read.requireTcbUpToDate()).to.equal(true);
    expect(await app.read.allowAnyDevice()).to.equal(true);
    expect(getAddress(app.address)).to.not.equal(getAddress(implementation.address));
  });

  it("DstackKms without an app implementation leaves the factory unset", async () => {
    const { ignition, viem } = await network.create();
    const [deployer] = await viem.getWalletClients();
    const { kms } = await ignition.deploy(DstackKmsModule);
    expect(await kms.read.owner()).to.equal(getAddress(deployer!.account.address));
    expect(await kms.read.appImplementation()).to.equal(zeroAddress);
  });

  it("DstackKmsWithApp wires a fresh app implementation, and DstackAppViaKms deploys through the factory", async () => {
    const { ignition } = await network.create();
    const { kms, appImplementation } = await ignition.deploy(DstackKmsWithAppModule);
    expect(await kms.read.appImplementation()).to.equal(getAddress(appImplementation.address));

    const { app } = await ignition.deploy(DstackAppViaKmsModule, {
      parameters: { DstackAppViaKms: { kms: kms.address, initialComposeHash: COMPOSE } },
    });
    expect(await kms.read.registeredApps([app.address])).to.equal(true);
    expect(await app.read.allowedComposeHashes([COMPOSE])).to.equal(true);
  });
});
