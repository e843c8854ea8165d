import { createRequire } from "node:module";

import hardhatIgnitionViem from "@nomicfoundation/hardhat-ignition-viem";
import hardhatKeystore from "@nomicfoundation/hardhat-keystore";
import hardhatMocha from "@nomicfoundation/hardhat-mocha";
import hardhatNetworkHelpers from "@nomicfoundation/hardhat-network-helpers";
import hardhatVerify from "@nomicfoundation/hardhat-verify";
import hardhatViem from "@nomicfoundation/hardhat-viem";
import hardhatViemAssertions from "@nomicfoundation/hardhat-viem-assertions";
import { configVariable, defineConfig } from "hardhat/config";
import type { HardhatPlugin } from "hardhat/types/plugins";

import forkSnapshot, { rpcUrlOrSnapshot } from "./hardhat-plugins/fork-snapshot/index.js";
import { tasks } from "./tasks/index.js";

// solc cannot be downloaded on every machine this project runs on (CI, air-gapped
// auditors), so the compiler comes from the pinned `solc` npm package. 0.8.28 with
// 200 optimizer runs is what upstream dstack uses, which keeps gas figures comparable.
const require = createRequire(import.meta.url);
const SOLC_VERSION = "0.8.28";
const soljsonPath = require.resolve("solc/soljson.js");

// Signers with a Ledger: LEDGER_ACCOUNTS lists their addresses (public, comma-separated).
// On the live networks those accounts then sign (EIP-712 on the device, through
// @nomicfoundation/hardhat-ledger) instead of a DEPLOYER_PRIVATE_KEY, which is not asked for.
const ledgerAccounts = (process.env.LEDGER_ACCOUNTS ?? "")
  .split(",")
  .map((address) => address.trim())
  .filter((address) => address !== "") as Array<`0x${string}`>;
// An optional dependency: its node-hid is compiled at install time and needs Debian's
// libudev-dev and libusb-1.0-0-dev; where they are missing npm leaves the plugin out, and
// everything but Ledger signing works.
const hardhatLedger: HardhatPlugin | undefined = await import("@nomicfoundation/hardhat-ledger").then(
  (module) => module.default,
  () => undefined,
);
if (ledgerAccounts.length > 0 && hardhatLedger === undefined) {
  throw new Error(
    "LEDGER_ACCOUNTS is set, but @nomicfoundation/hardhat-ledger is not installed: install libudev-dev and libusb-1.0-0-dev (Debian/Ubuntu), then run npm install again",
  );
}
const liveAccounts = () => (ledgerAccounts.length > 0 ? { accounts: [], ledgerAccounts } : { accounts: [configVariable("DEPLOYER_PRIVATE_KEY")] });

export default defineConfig({
  plugins: [
    hardhatViem,
    hardhatViemAssertions,
    hardhatMocha,
    hardhatNetworkHelpers,
    hardhatIgnitionViem,
    hardhatKeystore,
    ...(hardhatLedger === undefined ? [] : [hardhatLedger]),
    hardhatVerify,
    forkSnapshot,
  ],
  tasks,
  solidity: {
    version: SOLC_VERSION,
    path: soljsonPath,
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: "cancun",
      outputSelection: { "*": { "*": ["storageLayout"] } },
    },
    npmFilesToBuild: [
      "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol",
      "@openzeppelin/contracts/governance/TimelockController.sol",
    ],
  },
  paths: {
    tests: { mocha: "test" },
  },
  test: {
    mocha: { timeout: 120_000 },
  },
  networks: {
    default: {
      type: "edr-simulated",
      chainType: "l1",
    },
    localhost: {
      type: "http",
      chainType: "l1",
      url: "http://127.0.0.1:8545",
    },
    // Sepolia forked at a pinned block: through SEPOLIA_RPC_URL when it is set (environment
    // or keystore), otherwise offline from the recorded snapshot, served on 127.0.0.1 by a
    // server that starts on demand (hardhat-plugins/fork-snapshot). The block must be the
    // snapshot's (scripts/record-snapshot.ts prints it); Prague, as Sepolia at that block.
    sepoliaFork: {
      type: "edr-simulated",
      chainType: "l1",
      chainId: 11155111,
      hardfork: "prague",
      forking: {
        url: rpcUrlOrSnapshot("SEPOLIA_RPC_URL", "fork/sepolia-snapshot.json"),
        blockNumber: 8_891_712,
      },
    },
    // Any node, without editing this file: `RPC_URL=https://… npx hardhat --network custom …`
    // (the variable upstream dstack's tasks read). The chain id is whatever the node
    // answers; signing uses DEPLOYER_PRIVATE_KEY (or LEDGER_ACCOUNTS), read-only commands need no key.
    custom: {
      type: "http",
      chainType: "l1",
      url: configVariable("RPC_URL"),
      ...liveAccounts(),
    },
    sepolia: {
      type: "http",
      chainType: "l1",
      chainId: 11155111,
      url: configVariable("SEPOLIA_RPC_URL"),
      ...liveAccounts(),
    },
    base: {
      type: "http",
      chainType: "op",
      chainId: 8453,
      url: configVariable("BASE_RPC_URL"),
      ...liveAccounts(),
    },
    mainnet: {
      type: "http",
      chainType: "l1",
      chainId: 1,
      url: configVariable("MAINNET_RPC_URL"),
      ...liveAccounts(),
    },
  },
});
