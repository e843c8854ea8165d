import { createRequire } from "node:module";

import hardhatIgnitionViem from "@nomicfoundation/hardhat-ignition-viem";
import hardhatKeystore from "@nomicfoundation/hardhat-keystore";
import hardhatMocha from "@nomicfoundation/hardhat-mocha";
import hardhatNetworkHelpers from "@nomicfoundation/hardhat-network-helpers";
import hardhatVerify from "@nomicfoundation/hardhat-verify";
import hardhatViem from "@nomicfoundation/hardhat-viem";
import hardhatViemAssertions from "@nomicfoundation/hardhat-viem-assertions";
import { configVariable, defineConfig } from "hardhat/config";

import forkSnapshot, { rpcUrlOrSnapshot } from "./hardhat-plugins/fork-snapshot/index.js";
import { tasks } from "./tasks/index.js";

// solc cannot be downloaded on every machine this project runs on (CI, air-gapped
// auditors), so the compiler comes from the pinned `solc` npm package. 0.8.28 with
// 200 optimizer runs is what upstream dstack uses, which keeps gas figures comparable.
const require = createRequire(import.meta.url);
const SOLC_VERSION = "0.8.28";
const soljsonPath = require.resolve("solc/soljson.js");

export default defineConfig({
  plugins: [
    hardhatViem,
    hardhatViemAssertions,
    hardhatMocha,
    hardhatNetworkHelpers,
    hardhatIgnitionViem,
    hardhatKeystore,
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
    // answers; signing uses DEPLOYER_PRIVATE_KEY, read-only commands need no key.
    custom: {
      type: "http",
      chainType: "l1",
      url: configVariable("RPC_URL"),
      accounts: [configVariable("DEPLOYER_PRIVATE_KEY")],
    },
    sepolia: {
      type: "http",
      chainType: "l1",
      chainId: 11155111,
      url: configVariable("SEPOLIA_RPC_URL"),
      accounts: [configVariable("DEPLOYER_PRIVATE_KEY")],
    },
    base: {
      type: "http",
      chainType: "op",
      chainId: 8453,
      url: configVariable("BASE_RPC_URL"),
      accounts: [configVariable("DEPLOYER_PRIVATE_KEY")],
    },
    mainnet: {
      type: "http",
      chainType: "l1",
      chainId: 1,
      url: configVariable("MAINNET_RPC_URL"),
      accounts: [configVariable("DEPLOYER_PRIVATE_KEY")],
    },
  },
});
