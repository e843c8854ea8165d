/**
 * upgrade-app and upgrade-kms check the new implementation with OpenZeppelin upgrades-core
 * (upgrade safety, storage layout against the current implementation or upstream's) before
 * anything is sent, and print the validator's findings when they refuse.
 */
import { expect } from "chai";
import { getAddress, type Hex } from "viem";

import { ERC1967_IMPLEMENTATION_SLOT } from "../../src/chain/app-state.js";
import { chain, chainMark, expectError, expectNothingSent, freshApp, freshKms, restoreChainAfter, run } from "./fixture.js";

async function implementationOf(proxy: Hex): Promise<Hex> {
  const { publicClient } = await chain();
  const word = await publicClient.getStorageAt({ address: proxy, slot: ERC1967_IMPLEMENTATION_SLOT });
  return getAddress(`0x${word!.slice(-40)}`);
}

describe("tasks: the upgrade check of upgrade-app and upgrade-kms", function () {
  restoreChainAfter();

  it("upgrade-app --deploy-implementation refuses a layout-breaking contract with the validator's findings (nothing sent)", async function () {
    const app = await freshApp();
    const mark = await chainMark();
    const refused = await run("upgrade-app", { app: app.address, deployImplementation: true, contract: "DstackAppBrokenLayout" });
    expectError(refused, 1, /^Error: the storage layout of DstackAppBrokenLayout is incompatible with DstackApp's$/);
    expect(refused.stderr).to.match(/DstackAppBrokenLayout\.sol:\d+: Inserted `inserted` > New variables should be placed after all existing inherited variables/);
    const json = await run("upgrade-app", { app: app.address, deployImplementation: true, contract: "DstackAppBrokenLayout", json: true });
    expect(json.exitCode).to.equal(1);
    expect(json.json.error.code).to.equal("UNSAFE_UPGRADE");
    expect(json.json.error.details).to.match(/Inserted `inserted`\n/);
    await expectNothingSent(mark);
    expect(await implementationOf(app.address)).to.equal(getAddress(app.implementation.address));
  });

  it("upgrade-app refuses a contract that is not upgrade-safe, deployed or given (also in --dry-run; nothing sent)", async function () {
    const { viem } = await chain();
    const app = await freshApp();
    const unsafe = await viem.deployContract("DstackAppUnsafe");
    const mark = await chainMark();
    expectError(await run("upgrade-app", { app: app.address, deployImplementation: true, contract: "DstackAppUnsafe" }), 1, /^Error: DstackAppUnsafe is not upgrade-safe \(1 finding\)$/);
    const given = await run("upgrade-app", { app: app.address, implementation: unsafe.address, dryRun: true });
    expectError(given, 1, /^Error: DstackAppUnsafe is not upgrade-safe \(1 finding\)$/);
    expect(given.stderr).to.match(/Use of delegatecall is not allowed/);
    await expectNothingSent(mark);
  });

  it("upgrade-app accepts a compatible implementation and says so; --reference upstream checks against upstream's layout", async function () {
    const app = await freshApp();
    const result = await run("upgrade-app", { app: app.address, deployImplementation: true, json: true });
    expect(result.exitCode, result.stdout).to.equal(0);
    expect(result.json.upgradeCheck).to.deep.equal({ reference: "DstackApp", candidate: "DstackApp", validator: "@openzeppelin/upgrades-core" });

    const text = await run("upgrade-app", { app: app.address, deployImplementation: true, contract: "DstackAppNextVersion", reference: "upstream" });
    expect(text.exitCode, text.stderr).to.equal(0);
    expect(text.stdout).to.include("✔ upgrade check (@openzeppelin/upgrades-core): DstackAppNextVersion is upgrade-safe and keeps the storage layout of upstream dstack DstackApp");
    expect(text.stderr).to.match(/^sent: deploy DstackAppNextVersion: tx 0x[0-9a-f]{64}/m);
    expect(text.stderr).to.match(/^deployed DstackAppNextVersion implementation 0x[0-9a-fA-F]{40} \(tx 0x[0-9a-f]{64}\)$/m);
  });

  it("upgrade-app: an unidentifiable current implementation needs --reference; a wrong --contract or name is refused (exit 2, nothing sent)", async function () {
    const { publicClient, networkHelpers, viem } = await chain();
    const app = await freshApp();
    const next = await viem.deployContract("DstackAppNextVersion");
    // The same contract from another build: one byte of its metadata hash differs.
    const code = (await publicClient.getCode({ address: app.implementation.address }))!;
    const at = code.length - 30;
    await networkHelpers.setCode(app.implementation.address, `${code.slice(0, at)}${code.slice(at, at + 2) === "00" ? "01" : "00"}${code.slice(at + 2)}` as Hex);

    const mark = await chainMark();
    expectError(
      await run("upgrade-app", { app: app.address, implementation: next.address }),
      2,
      /^Error: --reference: the current implementation 0x[0-9a-fA-F]{40} is none of this project's compiled contracts, so its storage layout is unknown; pass --reference upstream/,
    );
    expectError(await run("upgrade-app", { app: app.address, implementation: next.address, contract: "DstackApp" }), 2, /^Error: --contract: the code at 0x[0-9a-fA-F]{40} is not DstackApp as compiled in this project$/);
    expectError(await run("upgrade-app", { app: app.address, implementation: next.address, reference: "NoSuchContract" }), 2, /^Error: --reference: no compiled contract named NoSuchContract/);
    expectError(await run("upgrade-app", { app: app.address, deployImplementation: true, contract: "NoSuchContract", reference: "upstream" }), 2, /^Error: --contract: no compiled contract named NoSuchContract/);
    await expectNothingSent(mark);

    const upgraded = await run("upgrade-app", { app: app.address, implementation: next.address, reference: "upstream", json: true });
    expect(upgraded.exitCode, upgraded.stdout).to.equal(0);
    expect(upgraded.json.upgradeCheck.reference).to.equal("upstream dstack DstackApp");
    expect(await implementationOf(app.address)).to.equal(getAddress(next.address));
  });

  it("upgrade-kms: checked the same way; refuses an app contract or a broken layout, accepts DstackKms", async function () {
    const kms = await freshKms();
    const before = await implementationOf(kms.address);
    const mark = await chainMark();
    expectError(await run("upgrade-kms", { kms: kms.address, deployImplementation: true, contract: "DstackAppBrokenLayout" }), 1, /^Error: the storage layout of DstackAppBrokenLayout is incompatible with DstackKms's$/);
    expectError(await run("upgrade-kms", { kms: kms.address, implementation: kms.appImplementation, dryRun: true }), 1, /^Error: the storage layout of DstackApp is incompatible with DstackKms's$/);
    expectError(await run("upgrade-kms", { kms: kms.address }), 2, /give exactly one of --implementation ADDRESS or --deploy-implementation/);
    await expectNothingSent(mark);
    expect(await implementationOf(kms.address)).to.equal(before);

    const result = await run("upgrade-kms", { kms: kms.address, deployImplementation: true, reference: "upstream", json: true });
    expect(result.exitCode, result.stdout).to.equal(0);
    expect(result.json.upgradeCheck).to.deep.equal({ reference: "upstream dstack DstackKms", candidate: "DstackKms", validator: "@openzeppelin/upgrades-core" });
    expect(result.json.confirmed).to.equal(true);
    expect(await implementationOf(kms.address)).to.equal(getAddress(result.json.deployedImplementation.address));
    const { publicClient } = await chain();
    const { dstackKmsAbi } = await import("../../src/abi/dstack-kms.js");
    expect(await publicClient.readContract({ address: kms.address, abi: dstackKmsAbi, functionName: "appImplementation" })).to.equal(kms.appImplementation);
  });
});
