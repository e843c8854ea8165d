/**
 * The change-plan library without Hardhat tasks: plans read from the simulated chain with
 * viem, applied with `applyPlan`, and the structured results and errors it returns.
 */
import { expect } from "chai";
import { getAddress, zeroHash, type Abi, type Address, type Hex } from "viem";

import { dstackAppAbi } from "../../src/abi/dstack-app.js";
import { planAllowlistChange } from "../../src/manage/allowlist-plan.js";
import { applyPlan } from "../../src/manage/apply-plan.js";
import { deployAppViaKms, deployAppWithProxy } from "../../src/manage/deploy-app.js";
import { NotOwnerError, OwnerWithoutCodeError } from "../../src/manage/errors.js";
import { planAcceptOwnership, planTransferOwnership } from "../../src/manage/ownership-plan.js";
import { InvalidInputError } from "../../src/util/errors.js";
import { renderErrorMessage } from "../../tasks/lib/output.js";
import { ownChain } from "../support/own-chain.js";
import { bytes32, hre } from "../tasks/fixture.js";
import { caught } from "../support/rejection.js";

const H1 = bytes32("manage:h1");
const H2 = bytes32("manage:h2");

const chain = await ownChain();
const { freshApp, freshKms } = chain;
const signer = async (index = 0) => chain.signer(index);
const chainMark = () => chain.mark();
async function expectNothingSent(mark: Awaited<ReturnType<typeof chainMark>>): Promise<void> {
  expect(await chainMark()).to.deep.equal(mark);
}

async function allowed(app: Address, hash: Hex): Promise<boolean> {
  const { publicClient } = chain;
  return (await publicClient.readContract({ address: app, abi: dstackAppAbi, functionName: "allowedComposeHashes", args: [hash] })) as boolean;
}

describe("manage library: plans applied without tasks", function () {
  it("direct route: a dry run simulates (gas per call, nothing sent); a real run sends, confirms and reports each transaction", async function () {
    const { publicClient } = chain;
    const { address: app } = await freshApp();
    const plan = await planAllowlistChange(publicClient, "compose-hash", app, [H1, H2], "add");
    expect(plan.calls.length).to.be.greaterThan(0);

    const mark = await chainMark();
    const dry = await applyPlan(publicClient, await signer(), plan, { dryRun: true, confirm: async () => ({ ok: true, detail: "" }) });
    expect(dry).to.include({ ok: true, route: "direct", dryRun: true });
    if (dry.route !== "direct" || !dry.dryRun) throw new Error("unreachable");
    expect(dry.gas).to.have.length(plan.calls.length);
    for (const gas of dry.gas) expect(gas > 21_000n).to.equal(true);
    await expectNothingSent(mark);

    let confirmed = 0;
    const sent = await applyPlan(publicClient, await signer(), plan, {
      dryRun: false,
      confirm: async () => {
        confirmed += 1;
        return { ok: (await allowed(app, H1)) && (await allowed(app, H2)), detail: "both allowed" };
      },
    });
    expect(confirmed).to.equal(1);
    if (sent.route !== "direct" || sent.dryRun) throw new Error(`unexpected route ${sent.route}`);
    expect(sent.ok).to.equal(true);
    expect(sent.confirmation).to.deep.equal({ ok: true, detail: "both allowed" });
    expect(sent.transactions).to.have.length(plan.calls.length);
    const receipt = await publicClient.getTransactionReceipt({ hash: sent.transactions[0]!.hash });
    expect(receipt.status).to.equal("success");
    expect(sent.calls.map((call) => call.functionName)).to.deep.equal(plan.calls.map((call) => call.functionName));

    // The same change again: nothing to send, and the plan says why.
    const again = await planAllowlistChange(publicClient, "compose-hash", app, [H1], "add");
    const none = await applyPlan(publicClient, await signer(), again, { dryRun: false, confirm: async () => ({ ok: false, detail: "must not be asked" }) });
    expect(none.route).to.equal("none");
    expect(none.ok).to.equal(true);
    expect(again.unchanged.map((entry) => entry.item)).to.deep.equal([H1.toLowerCase()]);
  });

  it("a confirmation that does not hold makes the result not ok (the change was sent)", async function () {
    const { publicClient } = chain;
    const { address: app } = await freshApp();
    const plan = await planAllowlistChange(publicClient, "compose-hash", app, [H1], "add");
    const result = await applyPlan(publicClient, await signer(), plan, { dryRun: false, confirm: async () => ({ ok: false, detail: "state differs" }) });
    expect(result.ok).to.equal(false);
    expect(await allowed(app, H1)).to.equal(true);
  });

  it("a signer that is not the owner is refused before anything is sent", async function () {
    const { publicClient } = chain;
    const { address: app } = await freshApp();
    const plan = await planAllowlistChange(publicClient, "compose-hash", app, [H1], "add");
    const mark = await chainMark();
    const error = await caught(applyPlan(publicClient, await signer(3), plan, { dryRun: false, confirm: async () => ({ ok: true, detail: "" }) }));
    expect(error).to.be.instanceOf(NotOwnerError);
    await expectNothingSent(mark);
    expect(await allowed(app, H1)).to.equal(false);
  });

  it("ownership plans: errors name the option (field), and the CLI renders it as its flag with the hint", async function () {
    const { publicClient, accounts } = chain;
    const { address: app } = await freshApp();
    const eoa = await caught(planTransferOwnership(publicClient, "app", app, accounts[4]!, { allowEoa: false }));
    expect(eoa).to.be.instanceOf(OwnerWithoutCodeError);
    expect((eoa as OwnerWithoutCodeError).field).to.equal("to");
    expect(eoa.message).to.equal(`to: ${accounts[4]} has no code (an EOA?)`);
    expect(eoa.message).to.not.match(/--/);
    expect(renderErrorMessage(eoa as OwnerWithoutCodeError)).to.equal(`--to: ${accounts[4]} has no code (an EOA?); pass --to-eoa to transfer to an externally owned account`);

    const noPending = await caught(planAcceptOwnership(publicClient, "app", app));
    expect(noPending).to.be.instanceOf(InvalidInputError);
    expect((noPending as InvalidInputError).field).to.equal("app");
    expect(renderErrorMessage(noPending as InvalidInputError)).to.match(/^--app: 0x[0-9a-fA-F]{40} has no pending owner/);

    // Two steps through the library: transfer by the owner, accept by the new owner.
    const transfer = await planTransferOwnership(publicClient, "app", app, accounts[4]!, { allowEoa: true });
    await applyPlan(publicClient, await signer(0), transfer, { dryRun: false, confirm: async () => ({ ok: true, detail: "" }) });
    const accept = await planAcceptOwnership(publicClient, "app", app);
    const accepted = await applyPlan(publicClient, await signer(4), accept, { dryRun: false, confirm: async () => ({ ok: true, detail: "" }) });
    expect(accepted.route).to.equal("direct");
    expect(getAddress((await publicClient.readContract({ address: app, abi: dstackAppAbi, functionName: "owner" })) as Address)).to.equal(accounts[4]);
  });

  it("deploys an app through a KMS factory (address from its event) and on its own (implementation + proxy)", async function () {
    const { publicClient, accounts } = chain;
    const kms = await freshKms();
    const init = { owner: accounts[2]!, disableUpgrades: false, requireTcbUpToDate: true, allowAnyDevice: false, device: zeroHash, composeHash: H1 };
    const viaKms = await deployAppViaKms(publicClient, await signer(), kms.address, init);
    expect(viaKms.implementation).to.equal(kms.appImplementation);
    expect(viaKms.transactions.map((t) => t.step)).to.deep.equal(["deployAndRegisterApp"]);
    expect(await allowed(viaKms.app, H1)).to.equal(true);
    expect(getAddress((await publicClient.readContract({ address: viaKms.app, abi: dstackAppAbi, functionName: "owner" })) as Address)).to.equal(accounts[2]);

    const code = async (name: "DstackApp" | "ERC1967Proxy") => {
      const artifact = await hre.artifacts.readArtifact(name);
      return { abi: artifact.abi as Abi, bytecode: artifact.bytecode as Hex };
    };
    const own = await deployAppWithProxy(publicClient, await signer(), { app: await code("DstackApp"), proxy: await code("ERC1967Proxy") }, { ...init, composeHash: H2 });
    expect(own.transactions.map((t) => t.step)).to.deep.equal(["implementation", "proxy"]);
    expect(own.app).to.not.equal(own.implementation);
    expect(await allowed(own.app, H2)).to.equal(true);
    expect(await allowed(own.app, H1)).to.equal(false);

    const notKms = await caught(deployAppViaKms(publicClient, await signer(), own.app, init));
    expect(notKms).to.be.instanceOf(Error);
  });
});
