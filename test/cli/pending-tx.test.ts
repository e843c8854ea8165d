/**
 * Operators never lose a transaction: the real CLI against a `hardhat node` with automine
 * off, reached through the project's own `custom` network (RPC_URL, no config edit).
 * A send prints its hash at once; the process is interrupted (SIGINT) while the
 * transaction waits in the mempool; a re-run of the same command finds it in the journal
 * and waits for it instead of sending a second one; `tx-status` reports it. Also: a
 * deployment recorded under a name and used as `--app <name>`, the warning of a
 * state-changing command without `--network`, and a misspelled `--network` (exit 2).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { getAddress, keccak256, toHex, type Address } from "viem";

import { cliRunner, parseJson, rpc, startHardhatNode, stop } from "../support/cli.js";

// Account #0 of every Hardhat node (the public test mnemonic): funded on the node.
const NODE_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const NODE_ACCOUNT = getAddress("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");

describe("CLI: pending transactions, custom RPC URL, deployments file (hardhat node, automine off)", function () {
  this.timeout(180_000);
  const runner = cliRunner();
  let node: Awaited<ReturnType<typeof startHardhatNode>> | undefined;
  let dir: string;
  let env: Record<string, string | undefined>;
  let app: Address;
  const onCustom = (args: string[], extra: Record<string, string | undefined> = {}) => runner.hardhat(["--network", "custom", ...args], { ...env, ...extra });
  const nonce = async (tag: "latest" | "pending") => Number(BigInt(await rpc(node!.url, "eth_getTransactionCount", [NODE_ACCOUNT, tag])));

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "dstack-pending-"));
    node = await startHardhatNode(runner);
    env = { RPC_URL: node.url, DEPLOYER_PRIVATE_KEY: NODE_KEY, DSTACK_DEPLOYMENTS_DIR: dir };
  });

  after(async function () {
    await stop(node?.child);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    expect(runner.spawned()).to.be.at.most(9);
  });

  it("deploy-app --save-as on --network custom (RPC_URL): recorded per chain id, then usable as --app <name>", async function () {
    const result = await onCustom(["deploy-app", "--save-as", "my-app", "--allow-any-device", "--json"]);
    expect(result.code, result.stderr + result.stdout).to.equal(0);
    const json = parseJson(result);
    app = getAddress(json.app);
    expect(json.savedAs).to.equal("my-app");
    const file = JSON.parse(readFileSync(path.join(dir, "chain-31337", "deployments.json"), "utf8"));
    expect(file.chainId).to.equal(31337);
    expect(file.contracts["my-app"]).to.include({ kind: "DstackApp", address: app, owner: NODE_ACCOUNT, implementation: getAddress(json.implementation) });
    const proxyTx = json.transactions.find((t: { step: string }) => t.step === "proxy");
    expect(file.contracts["my-app"].transactionHash).to.equal(proxyTx.transactionHash);
    const receipt = await rpc(node!.url, "eth_getTransactionReceipt", [proxyTx.transactionHash]);
    expect(file.contracts["my-app"].blockNumber).to.equal(BigInt(receipt.blockNumber).toString());
    // The hashes were printed as they were sent, on stderr.
    expect(result.stderr).to.match(new RegExp(`^sent: deploy ERC1967Proxy: tx ${proxyTx.transactionHash} \\(nonce \\d+\\)$`, "m"));
    // A read-only task names the app by its recorded name, no key needed.
    const info = await onCustom(["app-info", "--app", "my-app", "--json"], { DEPLOYER_PRIVATE_KEY: undefined });
    expect(info.code, info.stderr).to.equal(0);
    expect(getAddress(parseJson(info).address)).to.equal(app);
  });

  it("Ctrl-C while the transaction is pending loses nothing; the re-run sends nothing new and waits for it", async function () {
    await rpc(node!.url, "evm_setAutomine", [false]);
    const hash = keccak256(toHex("pending-compose"));
    const first = runner.start(["--network", "custom", "add-compose-hash", "--app", "my-app", "--hash", hash], env);
    const [, txHash] = await first.waitForStderr(/^sent: .*: tx (0x[0-9a-f]{64}) \(nonce \d+\)$/m);
    first.child.kill("SIGINT");
    const interrupted = await first.done;
    expect(interrupted.code, interrupted.stderr).to.equal(130);
    expect(interrupted.stderr).to.include(`interrupted: transaction ${txHash} (`);
    expect(interrupted.stderr).to.include("run the same command again (it waits for this transaction, nothing is sent twice) or `npx hardhat tx-status --network custom --wait`");
    expect(await nonce("pending")).to.equal((await nonce("latest")) + 1);

    const journal = JSON.parse(readFileSync(path.join(dir, "chain-31337", "pending-transactions.json"), "utf8"));
    expect(journal.transactions).to.have.length(1);
    expect(journal.transactions[0]).to.include({ hash: txHash, from: NODE_ACCOUNT });

    const status = await onCustom(["tx-status", "--json"]);
    expect(status.code, status.stderr).to.equal(0);
    expect(parseJson(status).transactions).to.deep.equal([
      { hash: txHash, from: NODE_ACCOUNT, nonce: journal.transactions[0].nonce, summary: journal.transactions[0].summary, state: "pending" },
    ]);

    // The re-run finds the journaled transaction and waits; it is mined while it waits.
    const again = runner.start(["--network", "custom", "add-compose-hash", "--app", "my-app", "--hash", hash, "--json"], env);
    await again.waitForStderr(new RegExp(`transaction ${txHash} .* from an earlier run is still pending: waiting for it, not sending it again`));
    expect(await nonce("pending")).to.equal((await nonce("latest")) + 1);
    await rpc(node!.url, "evm_mine");
    const rerun = await again.done;
    expect(rerun.code, rerun.stderr + rerun.stdout).to.equal(0);
    const json = parseJson(rerun);
    expect(json).to.include({ sent: true, confirmed: true });
    expect(json.transactions.map((t: { hash: string }) => t.hash)).to.deep.equal([txHash]);
    expect(rerun.stderr).to.not.match(/^sent: /m);
    expect(await nonce("pending")).to.equal(await nonce("latest"));
    const block = await rpc(node!.url, "eth_getBlockByNumber", ["latest", false]);
    expect(block.transactions).to.deep.equal([txHash]);
    expect(JSON.parse(readFileSync(path.join(dir, "chain-31337", "pending-transactions.json"), "utf8")).transactions).to.deep.equal([]);
    await rpc(node!.url, "evm_setAutomine", [true]);
  });

  it("a state-changing task without --network warns on stderr that nothing persists", async function () {
    const result = await runner.hardhat(["deploy-kms", "--json"], { HH_TEST: undefined, DSTACK_DEPLOYMENTS_DIR: dir });
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr).to.match(/^WARNING: no --network given: this runs on Hardhat's throwaway in-process chain and NOTHING PERSISTS after the command exits\. Use --network <name> \(localhost, custom, sepolia, base, mainnet; custom reads RPC_URL\)\.$/m);
    expect(parseJson(result).ok).to.equal(true);
  });

  it("a misspelled --network is a set-up error: exit 2, the configured networks listed", async function () {
    const result = await runner.hardhat(["--network", "sepolai", "app-info", "--app", NODE_ACCOUNT], env);
    expect(result.code).to.equal(2);
    expect(result.stderr.split("\n")[0]).to.equal('Error: --network: no network "sepolai" in the Hardhat configuration; configured: localhost, sepoliaFork, custom, sepolia, base, mainnet');
  });
});
