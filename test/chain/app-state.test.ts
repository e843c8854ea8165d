import { expect } from "chai";
import { network } from "hardhat";
import { createPublicClient, getAddress, http, keccak256, toHex, zeroAddress, type Address, type Hex, type PublicClient } from "viem";

import { dstackAppAbi } from "../../src/abi/dstack-app.js";
import { dstackKmsAbi } from "../../src/abi/dstack-kms.js";
import { MULTICALL3_ADDRESS } from "../../src/abi/multicall3.js";
import { readAppInfo, readKmsInfo } from "../../src/chain/app-state.js";
import { CallRevertedError, NoCodeError, NotAnAppContractError, RpcError } from "../../src/chain/errors.js";
import { hasMulticall3, readContracts } from "../../src/chain/multicall.js";
import { deployAppProxy, deployKmsProxy } from "../support/contracts.js";
import { MULTICALL3_RUNTIME_CODE, MULTICALL3_RUNTIME_CODE_HASH } from "../support/multicall3.js";
import { startRpcProxy, type RpcProxy } from "../support/rpc-proxy.js";
import { assertAppContract } from "../../src/chain/contract-checks.js";

const hash = (label: string): Hex => keccak256(toHex(label));

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("app and KMS state readers", function () {
  let connection: Awaited<ReturnType<typeof network.create>>;
  let proxy: RpcProxy;
  let client: PublicClient;
  let owner: Address;
  let other: Address;
  let deployed: Awaited<ReturnType<typeof deployAppProxy>>;
  let kmsDeployed: Awaited<ReturnType<typeof deployKmsProxy>>;

  before(async function () {
    connection = await network.create();
    const { viem } = connection;
    const [ownerWallet, otherWallet] = await viem.getWalletClients();
    // Hardhat hands out lowercase addresses; the readers return checksummed ones.
    owner = getAddress(ownerWallet!.account.address);
    other = getAddress(otherWallet!.account.address);
    deployed = await deployAppProxy(viem, { owner, allowAnyDevice: true, initialComposeHash: hash("init") });
    kmsDeployed = await deployKmsProxy(viem, owner, deployed.implementation.address);
    proxy = await startRpcProxy(connection.provider);
    client = createPublicClient({ transport: http(proxy.url, { retryCount: 0 }) });
  });

  after(async function () {
    await proxy?.close();
  });

  beforeEach(function () {
    proxy.failAll(false);
    proxy.resetCounts();
  });

  async function setMulticall(installed: boolean): Promise<void> {
    await connection.networkHelpers.setCode(MULTICALL3_ADDRESS, installed ? MULTICALL3_RUNTIME_CODE : "0x");
    const code = await connection.provider.request({ method: "eth_getCode", params: [MULTICALL3_ADDRESS, "latest"] });
    if (installed) expect(keccak256(code as Hex)).to.equal(MULTICALL3_RUNTIME_CODE_HASH);
    expect(await hasMulticall3(client)).to.equal(installed);
    proxy.resetCounts();
  }

  for (const multicall of [false, true]) {
    const path = multicall ? "Multicall3" : "plain eth_call";

    describe(`through ${path}`, function () {
      before(async function () {
        await setMulticall(multicall);
      });

      it("readAppInfo reads a fresh proxy", async function () {
        const info = await readAppInfo(client, deployed.proxy.address);
        expect(info.address).to.equal(getAddress(deployed.proxy.address));
        expect(info.chainId).to.equal(31337);
        expect(info.owner).to.equal(owner);
        expect(info.pendingOwner).to.equal(zeroAddress);
        expect(info.implementation).to.equal(getAddress(deployed.implementation.address));
        expect(info.version).to.equal(2n);
        expect(info.allowAnyDevice).to.equal(true);
        expect(info.requireTcbUpToDate).to.equal(false);
        expect(info.upgradesDisabled).to.equal(false);
        expect(info.interfaces).to.deep.equal({ appAuth: true, basicManagement: true, batchManagement: true });
        expect(info.warnings).to.deep.equal([]);
        // Eight getters: one aggregate3 call, or one eth_call each.
        expect(proxy.count("eth_call")).to.equal(multicall ? 1 : 8);
        expect(proxy.count("eth_getStorageAt")).to.equal(2);
      });

      it("readContracts reports a revert, a custom error and an EOA per item, not as false", async function () {
        const { results, via } = await readContracts(client, [
          { address: deployed.proxy.address, abi: dstackAppAbi, functionName: "allowedComposeHashes", args: [hash("init")] },
          { address: deployed.proxy.address, abi: dstackAppAbi, functionName: "allowedComposeHashes", args: [hash("nope")] },
          // UUPS: proxiableUUID() reverts with UUPSUnauthorizedCallContext() through the proxy.
          { address: deployed.proxy.address, abi: dstackAppAbi, functionName: "proxiableUUID" },
          // A function the KMS does not have.
          { address: kmsDeployed.proxy.address, abi: dstackAppAbi, functionName: "allowAnyDevice" },
          // No code at all.
          { address: other, abi: dstackAppAbi, functionName: "allowAnyDevice" },
        ]);
        expect(via).to.equal(multicall ? "multicall3" : "eth_call");
        const [allowed, notAllowed, custom, missing, eoa] = results;
        expect(allowed).to.deep.include({ status: "success", result: true });
        expect(notAllowed).to.deep.include({ status: "success", result: false });
        for (const failed of [custom, missing, eoa]) {
          expect(failed.status).to.equal("failure");
          expect(failed.error).to.be.instanceOf(CallRevertedError);
        }
        expect(custom.error?.message).to.include("UUPSUnauthorizedCallContext()");
        expect(eoa.error?.message).to.include("returned no data");
      });

      it("readKmsInfo reads the KMS proxy", async function () {
        await kmsDeployed.kms.write.setGatewayAppId(["gateway-app"]);
        await kmsDeployed.kms.write.setKmsInfo([{ k256Pubkey: "0x02aa", caPubkey: "0xbb", quote: "0xcc", eventlog: "0xdd" }]);
        const info = await readKmsInfo(client, kmsDeployed.proxy.address);
        expect(info.owner).to.equal(owner);
        expect(info.pendingOwner).to.equal(zeroAddress);
        expect(info.implementation).to.equal(getAddress(kmsDeployed.implementation.address));
        expect(info.appImplementation).to.equal(getAddress(deployed.implementation.address));
        expect(info.gatewayAppId).to.equal("gateway-app");
        expect(info.kmsInfo).to.deep.equal({ k256Pubkey: "0x02aa", caPubkey: "0xbb", quote: "0xcc", eventlog: "0xdd" });
      });

      it("assertAppContract accepts an app and rejects an EOA, a KMS and Multicall3", async function () {
        expect(await assertAppContract(client, deployed.proxy.address)).to.deep.equal({
          appAuth: true,
          basicManagement: true,
          batchManagement: true,
        });

        const eoa = await rejection(assertAppContract(client, other));
        expect(eoa).to.be.instanceOf(NoCodeError);
        expect((eoa as NoCodeError).message).to.equal(`no contract at ${other} on chain 31337`);

        // The KMS implements IAppAuth but not the management interface.
        const kms = await rejection(assertAppContract(client, kmsDeployed.proxy.address));
        expect(kms).to.be.instanceOf(NotAnAppContractError);
        expect((kms as NotAnAppContractError).details).to.include("IAppAuthBasicManagement");
        expect((kms as NotAnAppContractError).details).to.not.include("IAppAuth (");

        if (multicall) {
          // Multicall3 has no supportsInterface (and no fallback): the call reverts.
          const mc = await rejection(assertAppContract(client, MULTICALL3_ADDRESS));
          expect(mc).to.be.instanceOf(NotAnAppContractError);
          expect((mc as NotAnAppContractError).details).to.include("supportsInterface");
        }
      });

      it("readAppInfo refuses a KMS contract", async function () {
        const error = await rejection(readAppInfo(client, kmsDeployed.proxy.address));
        expect(error).to.be.instanceOf(NotAnAppContractError);
      });

      it("RPC failures are RpcError, never false", async function () {
        proxy.failAll("http-503");
        for (const promise of [
          assertAppContract(client, deployed.proxy.address),
          readAppInfo(client, deployed.proxy.address),
          readKmsInfo(client, kmsDeployed.proxy.address),
          readContracts(client, [{ address: deployed.proxy.address, abi: dstackAppAbi, functionName: "allowAnyDevice" }], { blockNumber: 1n }),
        ]) {
          const error = await rejection(promise);
          expect(error).to.be.instanceOf(RpcError);
          expect((error as RpcError).httpStatus).to.equal(503);
        }
        proxy.failAll(false);
        // Only the aggregate3/eth_call itself failing (after a successful code check) is also an RPC error.
        proxy.failMethodAfter("eth_call", 0, "rpc-internal");
        const error = await rejection(
          readContracts(client, [{ address: deployed.proxy.address, abi: dstackAppAbi, functionName: "allowAnyDevice" }]),
        );
        expect(error).to.be.instanceOf(RpcError);
        expect((error as RpcError).rpcCode).to.equal(-32603);
      });
    });
  }

  it("upgradesDisabled is read from slot 1 and follows disableUpgrades(), at any block", async function () {
    const { viem } = connection;
    const app = await deployAppProxy(viem, { owner, requireTcbUpToDate: true });
    const before = await readAppInfo(client, app.proxy.address);
    expect(before.upgradesDisabled).to.equal(false);
    expect(before.allowAnyDevice).to.equal(false);
    expect(before.requireTcbUpToDate).to.equal(true);

    await app.app.write.disableUpgrades();
    await app.app.write.transferOwnership([other]);
    const after = await readAppInfo(client, app.proxy.address);
    expect(after.upgradesDisabled).to.equal(true);
    expect(after.pendingOwner).to.equal(other);
    expect(after.owner).to.equal(owner);
    expect(after.blockNumber > before.blockNumber).to.equal(true);
    // Read as of the earlier block: the flag was still clear.
    const historical = await readAppInfo(client, app.proxy.address, { blockNumber: before.blockNumber });
    expect(historical.upgradesDisabled).to.equal(false);
    expect(historical.pendingOwner).to.equal(zeroAddress);
    // Agrees with this project's getter.
    expect(await app.app.read.upgradesDisabled()).to.equal(true);
  });

  it("readAppInfo flags a slot 1 that is not DstackApp's layout", async function () {
    const { viem } = connection;
    const app = await deployAppProxy(viem, { owner });
    // Offsets 0 and 1 set: upgrades disabled and allowAnyDevice, consistent with the getter.
    await connection.networkHelpers.setStorageAt(app.proxy.address, 1n, "0x0000000000000000000000000000000000000000000000000000000000000101");
    const packed = await readAppInfo(client, app.proxy.address);
    expect(packed).to.deep.include({ allowAnyDevice: true, upgradesDisabled: true, warnings: [] });
    // A byte beyond DstackApp's two flags: some other variable lives here, so offset 0 is not the flag.
    await connection.networkHelpers.setStorageAt(app.proxy.address, 1n, "0x0000000000000000000000000000000000000000000000000000000000ff0001");
    const odd = await readAppInfo(client, app.proxy.address);
    expect(odd.upgradesDisabled).to.equal(null);
    expect(odd.warnings[0]).to.include("does not match DstackApp's layout");
  });

  it("dstackKmsAbi registers an app deployed by the factory (sanity of the KMS ABI)", async function () {
    const { viem } = connection;
    const publicClient = await viem.getPublicClient();
    const [wallet] = await viem.getWalletClients();
    const { request, result } = await publicClient.simulateContract({
      account: wallet!.account,
      address: kmsDeployed.proxy.address,
      abi: dstackKmsAbi,
      functionName: "deployAndRegisterApp",
      args: [owner, false, false, true, hash("dev"), hash("factory")],
    });
    await wallet!.writeContract(request);
    const info = await readAppInfo(client, result);
    expect(info.implementation).to.equal(getAddress(deployed.implementation.address));
    expect(info.owner).to.equal(owner);
  });
});
