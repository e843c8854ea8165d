/**
 * Produces the committed fork snapshot `fork/sepolia-snapshot.json` from a LOCAL
 * REPRODUCTION of a Sepolia governance set-up, recorded with the same recorder that
 * records real Sepolia (scripts/record-snapshot.ts):
 *
 *   npx hardhat run scripts/reproduce-sepolia-snapshot.ts
 *   SNAPSHOT_OUT=/tmp/s.json npx hardhat run scripts/reproduce-sepolia-snapshot.ts
 *
 * The reproduction is a simulated chain with Sepolia's chain id, Prague rules and
 * Sepolia-like block heights and times (block 7,836,331, Sepolia's Prague activation,
 * falls on its real date; 12 s per block). On it, with fixed keys and salts so that
 * re-running gives the same file:
 *  - Safe v1.4.1 (singleton, proxy factory, MultiSend, MultiSendCallOnly, fallback
 *    handler) deployed through the Safe singleton factory from the npm artifacts, which
 *    puts them at their canonical addresses, as on Sepolia; Multicall3 at its canonical
 *    address;
 *  - a DstackKms (owned by an EOA) with allowed OS images (one added then removed);
 *  - app "eoa": a DstackApp owned by an EOA with a history of added and removed compose
 *    hashes (single and batch);
 *  - app "safe": a DstackApp owned by an OpenZeppelin TimelockController whose only
 *    proposer and executor is a 2-of-3 Safe; one compose hash added through
 *    Safe → schedule → delay → Safe → execute, and one removal scheduled but not yet
 *    executable at the fork block;
 *  - app "attested": a DstackApp proxy AT the app-id of the tdx-lite attestation fixture
 *    (an address no deployment can produce: its proxy code and implementation slot are
 *    set directly, then it is initialised with the fixture's compose hash and registered
 *    with the KMS, which also allows the fixture's OS image).
 * The private keys are derived from public labels: they are test keys, worthless on any
 * real chain.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { createRequire } from "node:module";

import { artifacts, network } from "hardhat";
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  encodeDeployData,
  encodeFunctionData,
  getContractAddress,
  http,
  keccak256,
  pad,
  parseEther,
  sha256,
  toHex,
  zeroAddress,
  zeroHash,
  type Abi,
  type Address,
  type Hex,
  type PrivateKeyAccount,
} from "viem";
import { mnemonicToAccount, privateKeyToAccount } from "viem/accounts";

import { recordSnapshot } from "../src/fork/recorder.js";
import { serializeSnapshot } from "../src/fork/snapshot.js";
import { MULTICALL3_RUNTIME_CODE } from "../test/support/multicall3.js";

const OUT = resolve(process.env.SNAPSHOT_OUT ?? "fork/sepolia-snapshot.json");

// Sepolia's Prague activation (block, unix time): the reproduction's clock is aligned so
// that this block has its real time, with 12 s slots.
const PRAGUE = { block: 7_836_331, timestamp: 1_741_159_776 };
const SLOT_SECONDS = 12;
const GENESIS_TIME = PRAGUE.timestamp - PRAGUE.block * SLOT_SECONDS;
/** First block of the set-up, and the fork block (after Prague, before Sepolia's Osaka in Oct 2025). */
const START_BLOCK = 8_834_000n;
export const FORK_BLOCK = 8_891_712n;

const chain = defineChain({
  id: 11155111,
  name: "Sepolia (local reproduction)",
  nativeCurrency: { name: "Sepolia Ether", symbol: "ETH", decimals: 18 },
  rpcUrls: { default: { http: ["http://127.0.0.1"] } },
});

// The tdx-lite fixture (../shared/fixtures/dstack/tdx-lite-getquote.json): its app-id
// and compose-hash events and its os-image-hash event payload. Only these values go into
// the snapshot, never the fixture.
const ATTESTED_APP_ID: Address = "0x86b0e55f2fa8e4fb69d890f14f54d5612707646e";
const ATTESTED_COMPOSE_HASH: Hex = "0x86b0e55f2fa8e4fb69d890f14f54d5612707646e2573d54e0d2ddaaade77caa9";
const ATTESTED_OS_IMAGE_HASH: Hex = "0x07a2388c7a6a1b6a646d443f1517990a4ec294471d63146cda9d56972765051d";

const SAFE_SINGLETON_FACTORY: Address = "0x914d7Fec6aaC8cd542e72Bca78B30650d45643d7";
// The Safe singleton factory's runtime code (the same CREATE2 deployer as Arachnid's).
const SAFE_SINGLETON_FACTORY_CODE: Hex =
  "0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf3";
const MULTICALL3: Address = "0xcA11bde05977b3631167028862bE2a173976CA11";
const ERC1967_IMPLEMENTATION_SLOT: Hex = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc";
const TIMELOCK_MIN_DELAY = 86_400n;
const SAFE_SALT_NONCE = 0x5e9011an;

// Hardhat's default local accounts: the `sepoliaFork` network lets Hardhat sign with them
// on the fork, and the forking node reads their state at the fork block, so they are recorded.
const hardhatAccounts = (count: number) =>
  Array.from({ length: count }, (_, i) => mnemonicToAccount("test test test test test test test test test test test junk", { addressIndex: i }).address);
const require = createRequire(import.meta.url);

const key = (label: string): PrivateKeyAccount => privateKeyToAccount(keccak256(toHex(`dstack-governance/sepolia-fork-reproduction/${label}`)));
const deployer = key("deployer");
const appOwner = key("app-owner");
const safeOwners = [key("safe-owner-1"), key("safe-owner-2"), key("safe-owner-3")];

/** An app-compose.json as dstack builds it, for a version of a fictional oracle service; its hash is SHA-256 of the bytes. */
function composeHash(app: string, version: string): Hex {
  const digest = sha256(toHex(`${app}:${version}`)).slice(2);
  const compose = JSON.stringify({
    manifest_version: 2,
    name: app,
    runner: "docker-compose",
    docker_compose_file: `services:\n  ${app}:\n    image: ghcr.io/example/${app}@sha256:${digest}\n    restart: always\n`,
    kms_enabled: true,
    gateway_enabled: true,
    local_key_provider_enabled: false,
    public_logs: false,
    public_sysinfo: true,
    allowed_envs: ["API_TOKEN"],
    no_instance_id: false,
    secure_time: false,
  });
  return sha256(toHex(compose));
}

function safeArtifact(path: string): { abi: Abi; bytecode: Hex } {
  const file = require.resolve(`@safe-global/safe-contracts/build/artifacts/contracts/${path}`);
  const { abi, bytecode } = require(file) as { abi: Abi; bytecode: Hex };
  return { abi, bytecode };
}

// --- the reproduction chain, served over HTTP so that the recorder reads it like any node
const server = await network.createServer(
  {
    network: "default",
    override: {
      chainId: 11155111,
      hardfork: "prague",
      initialDate: new Date(GENESIS_TIME * 1000).toISOString(),
      accounts: [],
      mining: { auto: true, interval: 0 },
    },
  },
  "127.0.0.1",
  0,
);
const { address: host, port } = await server.listen();
const url = `http://${host}:${port}`;
const publicClient = createPublicClient({ chain, transport: http(url) });
const rpc = (method: string, params: unknown[]) => publicClient.request({ method: method as never, params: params as never });

const transactions: Hex[] = [];
/** Blocks where state changed (transactions, set code, the last block of each hardhat_mine batch). */
const stateBlocks: number[] = [0];
/** Block at which each contract got its code (EDR cannot answer code history over blocks made by hardhat_mine). */
const codeSince: Record<string, number> = {};
const markCode = async (address: Address, blockNumber?: bigint) => {
  codeSince[address.toLowerCase()] = Number(blockNumber ?? (await publicClient.getBlockNumber({ cacheTime: 0 })));
};
const log = (line: string) => process.stderr.write(`${line}\n`);

async function latest() {
  return publicClient.getBlock({ blockTag: "latest" });
}
/** Mines `blocks` empty blocks, 12 s apart. */
async function idle(blocks: bigint) {
  if (blocks <= 0n) return;
  const head = await latest();
  await rpc("evm_setNextBlockTimestamp", [toHex(head.timestamp + BigInt(SLOT_SECONDS))]);
  await rpc("hardhat_mine", [toHex(blocks), toHex(SLOT_SECONDS)]);
  stateBlocks.push(Number(await publicClient.getBlockNumber({ cacheTime: 0 })));
}
/** Sends one transaction in its own block, 12 s after the previous one; fails on revert. */
async function send(account: PrivateKeyAccount, request: { to?: Address; data: Hex; value?: bigint }, what: string) {
  const head = await latest();
  await rpc("evm_setNextBlockTimestamp", [toHex(head.timestamp + BigInt(SLOT_SECONDS))]);
  const wallet = createWalletClient({ chain, transport: http(url), account });
  const hash = await wallet.sendTransaction({ ...request, to: request.to ?? null } as never);
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`${what}: transaction ${hash} reverted`);
  transactions.push(hash);
  stateBlocks.push(Number(receipt.blockNumber));
  log(`block ${receipt.blockNumber}: ${what}`);
  return receipt;
}
async function deploy(account: PrivateKeyAccount, abi: Abi, bytecode: Hex, args: unknown[], what: string): Promise<Address> {
  const receipt = await send(account, { data: encodeDeployData({ abi, bytecode, args }) }, what);
  await markCode(receipt.contractAddress!, receipt.blockNumber);
  return receipt.contractAddress!;
}

// Funding and the canonical helper contracts that exist on Sepolia but not on a fresh chain.
for (const account of [deployer, appOwner, ...safeOwners]) await rpc("hardhat_setBalance", [account.address, toHex(parseEther("5"))]);
await rpc("hardhat_mine", [toHex(START_BLOCK - 1n), toHex(SLOT_SECONDS)]);
stateBlocks.push(Number(START_BLOCK - 1n));
await rpc("hardhat_setCode", [SAFE_SINGLETON_FACTORY, SAFE_SINGLETON_FACTORY_CODE]);
await rpc("hardhat_setCode", [MULTICALL3, MULTICALL3_RUNTIME_CODE]);
await markCode(SAFE_SINGLETON_FACTORY);
await markCode(MULTICALL3);

// --- Safe v1.4.1 at its canonical addresses (CREATE2 through the singleton factory, salt 0)
const safeContracts = {
  singleton: safeArtifact("Safe.sol/Safe.json"),
  proxyFactory: safeArtifact("proxies/SafeProxyFactory.sol/SafeProxyFactory.json"),
  multiSend: safeArtifact("libraries/MultiSend.sol/MultiSend.json"),
  multiSendCallOnly: safeArtifact("libraries/MultiSendCallOnly.sol/MultiSendCallOnly.json"),
  fallbackHandler: safeArtifact("handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json"),
};
const safeAddresses = {} as Record<keyof typeof safeContracts, Address>;
for (const [name, artifact] of Object.entries(safeContracts) as Array<[keyof typeof safeContracts, { bytecode: Hex }]>) {
  const receipt = await send(deployer, { to: SAFE_SINGLETON_FACTORY, data: `${zeroHash}${artifact.bytecode.slice(2)}` }, `Safe ${name}`);
  safeAddresses[name] = getContractAddress({ opcode: "CREATE2", from: SAFE_SINGLETON_FACTORY, salt: zeroHash, bytecode: artifact.bytecode });
  await markCode(safeAddresses[name], receipt.blockNumber);
  if ((await publicClient.getCode({ address: safeAddresses[name] })) === undefined) throw new Error(`Safe ${name} not deployed at ${safeAddresses[name]}`);
}
await idle(2_100n);

// --- KMS, app implementation
const appArtifact = await artifacts.readArtifact("DstackApp");
const kmsArtifact = await artifacts.readArtifact("DstackKms");
const proxyArtifact = await artifacts.readArtifact("ERC1967Proxy");
const timelockArtifact = await artifacts.readArtifact("TimelockController");
const appImplementation = await deploy(deployer, appArtifact.abi as Abi, appArtifact.bytecode as Hex, [], "DstackApp implementation");
const kmsImplementation = await deploy(deployer, kmsArtifact.abi as Abi, kmsArtifact.bytecode as Hex, [], "DstackKms implementation");
const kms = await deploy(
  deployer,
  proxyArtifact.abi as Abi,
  proxyArtifact.bytecode as Hex,
  [kmsImplementation, encodeFunctionData({ abi: kmsArtifact.abi, functionName: "initialize", args: [deployer.address, appImplementation] })],
  "DstackKms proxy",
);
const kmsCall = (functionName: string, args: unknown[]) => ({ to: kms, data: encodeFunctionData({ abi: kmsArtifact.abi as Abi, functionName, args }) });
const appCall = (app: Address, functionName: string, args: unknown[]) => ({ to: app, data: encodeFunctionData({ abi: appArtifact.abi as Abi, functionName, args }) });

const osImages = {
  retired: sha256(toHex("dstack-0.5.2 os image")),
  current: sha256(toHex("dstack-0.5.3 os image")),
  attested: ATTESTED_OS_IMAGE_HASH,
};
await send(deployer, kmsCall("addOsImageHash", [osImages.retired]), "KMS: allow OS image dstack-0.5.2");
await send(deployer, kmsCall("setGatewayAppId", ["0x3f0a5ba1d4e6c2d7bd3a3b4a8c97b0f1d2e4a6c8"]), "KMS: gateway app id");
await idle(1_800n);
await send(deployer, kmsCall("addOsImageHash", [osImages.current]), "KMS: allow OS image dstack-0.5.3");
await send(deployer, kmsCall("addOsImageHash", [osImages.attested]), "KMS: allow the attested OS image");
await idle(600n);

// --- app "eoa": owned by an EOA, deployed through the KMS factory, with a history
const eoaHashes = ["v1.0.0", "v1.1.0", "v1.2.0", "v1.2.1", "v1.3.0"].map((v) => ({ version: v, hash: composeHash("oracle", v) }));
const eoaHistory: Array<{ composeHash: Hex; action: "added" | "removed"; blockNumber: string; transactionHash: Hex }> = [];
const deployed = await send(
  appOwner,
  kmsCall("deployAndRegisterApp", [appOwner.address, false, false, true, zeroHash, eoaHashes[0]!.hash]),
  "app eoa: deployAndRegisterApp with oracle v1.0.0",
);
const created = deployed.logs.find((l) => l.address.toLowerCase() === kms.toLowerCase() && l.topics[0] === keccak256(toHex("AppDeployedViaFactory(address,address)")));
if (created === undefined) throw new Error("no AppDeployedViaFactory event");
const eoaApp = `0x${created.topics[1]!.slice(26)}` as Address;
await markCode(eoaApp, deployed.blockNumber);
eoaHistory.push({ composeHash: eoaHashes[0]!.hash, action: "added", blockNumber: String(deployed.blockNumber), transactionHash: deployed.transactionHash });
const eoaStep = async (action: "added" | "removed", indexes: number[], gap: bigint) => {
  await idle(gap);
  const hashes = indexes.map((i) => eoaHashes[i]!.hash);
  const fn = action === "added" ? (hashes.length > 1 ? "addComposeHashes" : "addComposeHash") : hashes.length > 1 ? "removeComposeHashes" : "removeComposeHash";
  const receipt = await send(appOwner, appCall(eoaApp, fn, [hashes.length > 1 ? hashes : hashes[0]]), `app eoa: ${fn} ${indexes.map((i) => eoaHashes[i]!.version).join(",")}`);
  for (const h of hashes) eoaHistory.push({ composeHash: h, action, blockNumber: String(receipt.blockNumber), transactionHash: receipt.transactionHash });
};
await eoaStep("added", [1], 2_400n);
await eoaStep("removed", [0], 3_100n);
await eoaStep("added", [2, 3], 4_200n); // batch
await eoaStep("removed", [1], 1_500n);

// --- the Safe (2 of 3) and the timelock it drives
const safeAbi = safeContracts.singleton.abi;
const setup = encodeFunctionData({
  abi: safeAbi,
  functionName: "setup",
  args: [safeOwners.map((o) => o.address), 2n, zeroAddress, "0x", safeAddresses.fallbackHandler, zeroAddress, 0n, zeroAddress],
});
const safeCreated = await send(
  safeOwners[0]!,
  { to: safeAddresses.proxyFactory, data: encodeFunctionData({ abi: safeContracts.proxyFactory.abi, functionName: "createProxyWithNonce", args: [safeAddresses.singleton, setup, SAFE_SALT_NONCE] }) },
  "Safe 2-of-3: createProxyWithNonce",
);
const proxyCreation = safeCreated.logs.find((l) => l.address.toLowerCase() === safeAddresses.proxyFactory.toLowerCase());
if (proxyCreation === undefined) throw new Error("no ProxyCreation event");
const safe = `0x${proxyCreation.topics[1]!.slice(26)}` as Address;
await markCode(safe, safeCreated.blockNumber);
await idle(300n);
const timelock = await deploy(deployer, timelockArtifact.abi as Abi, timelockArtifact.bytecode as Hex, [TIMELOCK_MIN_DELAY, [safe], [safe], zeroAddress], "TimelockController (proposer/executor: the Safe)");
await idle(900n);

const safeHashes = ["v2.0.0", "v2.1.0"].map((v) => ({ version: v, hash: composeHash("vault", v) }));
const safeDeployed = await send(
  deployer,
  kmsCall("deployAndRegisterApp", [timelock, false, true, true, zeroHash, safeHashes[0]!.hash]),
  "app safe: deployAndRegisterApp owned by the timelock, vault v2.0.0",
);
const safeCreatedLog = safeDeployed.logs.find((l) => l.address.toLowerCase() === kms.toLowerCase() && l.topics[0] === keccak256(toHex("AppDeployedViaFactory(address,address)")));
const safeApp = `0x${safeCreatedLog!.topics[1]!.slice(26)}` as Address;
await markCode(safeApp, safeDeployed.blockNumber);
const safeHistory = [{ composeHash: safeHashes[0]!.hash, action: "added" as const, blockNumber: String(safeDeployed.blockNumber), transactionHash: safeDeployed.transactionHash }];

let safeNonce = 0n;
/** A Safe transaction signed by owners 1 and 2 (EIP-712), executed by owner 1. */
async function safeExec(to: Address, data: Hex, what: string) {
  const message = { to, value: 0n, data, operation: 0, safeTxGas: 0n, baseGas: 0n, gasPrice: 0n, gasToken: zeroAddress, refundReceiver: zeroAddress, nonce: safeNonce };
  const signers = [safeOwners[0]!, safeOwners[1]!].sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
  const signatures = await Promise.all(
    signers.map((s) =>
      s.signTypedData({
        domain: { chainId: chain.id, verifyingContract: safe },
        primaryType: "SafeTx",
        types: {
          SafeTx: [
            { name: "to", type: "address" },
            { name: "value", type: "uint256" },
            { name: "data", type: "bytes" },
            { name: "operation", type: "uint8" },
            { name: "safeTxGas", type: "uint256" },
            { name: "baseGas", type: "uint256" },
            { name: "gasPrice", type: "uint256" },
            { name: "gasToken", type: "address" },
            { name: "refundReceiver", type: "address" },
            { name: "nonce", type: "uint256" },
          ],
        },
        message,
      }),
    ),
  );
  const receipt = await send(
    safeOwners[0]!,
    {
      to: safe,
      data: encodeFunctionData({
        abi: safeAbi,
        functionName: "execTransaction",
        args: [to, 0n, data, 0, 0n, 0n, 0n, zeroAddress, zeroAddress, `0x${signatures.map((s) => s.slice(2)).join("")}`],
      }),
    },
    what,
  );
  const success = keccak256(toHex("ExecutionSuccess(bytes32,uint256)"));
  if (!receipt.logs.some((l) => l.address.toLowerCase() === safe.toLowerCase() && l.topics[0] === success)) throw new Error(`${what}: the Safe transaction failed`);
  safeNonce += 1n;
  return receipt;
}
const timelockCall = (functionName: string, args: unknown[]) => encodeFunctionData({ abi: timelockArtifact.abi as Abi, functionName, args });

const addV21 = appCall(safeApp, "addComposeHash", [safeHashes[1]!.hash]).data;
const saltAdd = keccak256(toHex("vault v2.1.0"));
await idle(1_200n);
await safeExec(timelock, timelockCall("schedule", [safeApp, 0n, addV21, zeroHash, saltAdd, TIMELOCK_MIN_DELAY]), "Safe → timelock.schedule(app safe: addComposeHash vault v2.1.0)");
await idle(TIMELOCK_MIN_DELAY / BigInt(SLOT_SECONDS) + 60n);
const executed = await safeExec(timelock, timelockCall("execute", [safeApp, 0n, addV21, zeroHash, saltAdd]), "Safe → timelock.execute(app safe: addComposeHash vault v2.1.0)");
safeHistory.push({ composeHash: safeHashes[1]!.hash, action: "added", blockNumber: String(executed.blockNumber), transactionHash: executed.transactionHash });

// --- app "attested": a proxy at the fixture's app-id
await idle(2_000n);
const proxyRuntime = await publicClient.getCode({ address: kms }); // an ERC1967Proxy's runtime code (no immutables)
if (proxyRuntime === undefined || proxyRuntime !== (proxyArtifact.deployedBytecode as Hex)) throw new Error("unexpected ERC1967Proxy runtime code");
await rpc("hardhat_setCode", [ATTESTED_APP_ID, proxyRuntime]);
await rpc("hardhat_setStorageAt", [ATTESTED_APP_ID, ERC1967_IMPLEMENTATION_SLOT, pad(appImplementation, { size: 32 })]);
await markCode(ATTESTED_APP_ID);
const attestedInit = await send(
  appOwner,
  appCall(ATTESTED_APP_ID, "initialize", [appOwner.address, false, false, true, zeroHash, ATTESTED_COMPOSE_HASH]),
  "app attested: initialize with the fixture's compose hash",
);
await send(deployer, kmsCall("registerApp", [ATTESTED_APP_ID]), "KMS: registerApp(attested app)");

// --- late changes: one more compose hash on app eoa, an OS image retired, and a removal
// scheduled on the timelock that is not executable yet at the fork block
await eoaStep("added", [4], 3_000n);
await idle(900n);
await send(deployer, kmsCall("removeOsImageHash", [osImages.retired]), "KMS: retire OS image dstack-0.5.2");
// The removal is scheduled half a delay before the fork block, so that at the fork block
// it is still waiting: the fork tests see it pending, then ready after time travel.
const REMOVAL_LEAD_BLOCKS = TIMELOCK_MIN_DELAY / BigInt(SLOT_SECONDS) / 2n;
const beforeRemoval = await latest();
if (beforeRemoval.number + REMOVAL_LEAD_BLOCKS >= FORK_BLOCK) throw new Error(`the set-up ran too close to the fork block (${beforeRemoval.number})`);
await idle(FORK_BLOCK - REMOVAL_LEAD_BLOCKS - beforeRemoval.number);
const removeV20 = appCall(safeApp, "removeComposeHash", [safeHashes[0]!.hash]).data;
const saltRemove = keccak256(toHex("vault remove v2.0.0"));
const scheduled = await safeExec(timelock, timelockCall("schedule", [safeApp, 0n, removeV20, zeroHash, saltRemove, TIMELOCK_MIN_DELAY]), "Safe → timelock.schedule(app safe: removeComposeHash vault v2.0.0)");
const scheduledBlock = await publicClient.getBlock({ blockNumber: scheduled.blockNumber });

const head = await latest();
if (head.number >= FORK_BLOCK) throw new Error(`the set-up ran past the fork block (${head.number} >= ${FORK_BLOCK})`);
await idle(FORK_BLOCK - head.number);
const forkHead = await latest();
if (forkHead.number !== FORK_BLOCK) throw new Error(`expected to stop at ${FORK_BLOCK}, got ${forkHead.number}`);
if (scheduledBlock.timestamp + TIMELOCK_MIN_DELAY <= forkHead.timestamp) throw new Error("the scheduled removal would already be ready at the fork block");
log(`fork block ${forkHead.number} at ${new Date(Number(forkHead.timestamp) * 1000).toISOString()}`);

const allowedEoa = [eoaHashes[2]!.hash, eoaHashes[3]!.hash, eoaHashes[4]!.hash];
const scenario = {
  description:
    "Local reproduction of a Sepolia dstack governance set-up (scripts/reproduce-sepolia-snapshot.ts): a KMS, an EOA-owned app, an app owned by a timelock driven by a 2-of-3 Safe, and an app at the tdx-lite fixture's app-id. Keys are derived from public labels.",
  kms: {
    address: kms,
    owner: deployer.address,
    implementation: kmsImplementation,
    appImplementation,
    osImages: { allowed: [osImages.current, osImages.attested], removed: [osImages.retired] },
  },
  apps: {
    eoa: { address: eoaApp, owner: appOwner.address, allowed: allowedEoa, history: eoaHistory, versions: Object.fromEntries(eoaHashes.map((h) => [h.hash, `oracle ${h.version}`])) },
    safe: {
      address: safeApp,
      owner: timelock,
      allowed: safeHashes.map((h) => h.hash),
      history: safeHistory,
      timelock: {
        address: timelock,
        minDelay: Number(TIMELOCK_MIN_DELAY),
        proposers: [safe],
        executors: [safe],
        pending: [
          {
            target: safeApp,
            data: removeV20,
            predecessor: zeroHash,
            salt: saltRemove,
            scheduledInBlock: String(scheduled.blockNumber),
            readyAt: String(scheduledBlock.timestamp + TIMELOCK_MIN_DELAY),
          },
        ],
      },
      safe: { address: safe, version: "1.4.1", owners: safeOwners.map((o) => o.address), threshold: 2, nonce: Number(safeNonce) },
    },
    attested: {
      address: ATTESTED_APP_ID,
      owner: appOwner.address,
      composeHash: ATTESTED_COMPOSE_HASH,
      osImageHash: ATTESTED_OS_IMAGE_HASH,
      registeredWithKms: true,
      initializedInBlock: String(attestedInit.blockNumber),
      note: "proxy code and implementation slot set directly (no deployment can produce this address); no Upgraded event",
    },
  },
  safeDeployments: { ...safeAddresses, singletonFactory: SAFE_SINGLETON_FACTORY },
  multicall3: MULTICALL3,
};

// Precompiles: the forking node loads their accounts when a contract calls them (the Safe's ecrecover).
const precompiles: Address[] = Array.from({ length: 0x11 }, (_, i) => pad(toHex(i + 1), { size: 20 }));
const snapshot = await recordSnapshot({
  url,
  blockNumber: FORK_BLOCK,
  addresses: [
    deployer.address,
    appOwner.address,
    ...safeOwners.map((o) => o.address),
    appImplementation,
    kmsImplementation,
    kms,
    eoaApp,
    safeApp,
    ATTESTED_APP_ID,
    safe,
    timelock,
    ...Object.values(safeAddresses),
    SAFE_SINGLETON_FACTORY,
    MULTICALL3,
    "0xc014ba5ec014ba5ec014ba5ec014ba5ec014ba5e", // the forking node's default coinbase
    zeroAddress, // tools ask for its code (e.g. app-info on a zero pending owner)
    ...hardhatAccounts(20),
    ...precompiles,
  ],
  logAddresses: [kms, eoaApp, safeApp, ATTESTED_APP_ID, safe, timelock],
  storage: { kind: "traced", transactions, extraSlots: [ERC1967_IMPLEMENTATION_SLOT] },
  codeSince,
  // EDR answers state at blocks made by hardhat_mine (but the last of a batch) as empty:
  // read the state where it last changed, which is the state at that block.
  historicalStateBlock: (n) => Math.max(...stateBlocks.filter((b) => b <= n)),
  source: { kind: "local-reproduction", description: "scripts/reproduce-sepolia-snapshot.ts: a simulated chain with Sepolia's chain id, heights and Prague rules" },
  scenario,
  onProgress: log,
});

mkdirSync(dirname(OUT), { recursive: true });
const text = serializeSnapshot(snapshot);
writeFileSync(OUT, text);
log(`wrote ${OUT} (${text.length} bytes, ${Object.keys(snapshot.accounts).length} accounts, ${snapshot.logs.length} logs, ${Object.keys(snapshot.blocks).length} blocks)`);
await server.close();
