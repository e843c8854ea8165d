/**
 * Test-only Hardhat config for the CLI end-to-end test (test/cli/cli.test.ts): the project's
 * config with `localhost` pointed at the URL in DSTACK_TEST_RPC_URL (a `hardhat node` on a
 * free loopback port, or a closed port to play an unreachable RPC), and a `wrongchain`
 * network that expects another chain id. Everything else, including the tasks, is the
 * project's. Used with `npx hardhat --config test/cli/hardhat.cli.config.ts …`.
 */
import { defineConfig } from "hardhat/config";

import config from "../../hardhat.config.js";

const url = process.env.DSTACK_TEST_RPC_URL ?? "http://127.0.0.1:8545";

export default defineConfig({
  ...config,
  networks: {
    ...config.networks,
    localhost: { type: "http", chainType: "l1", url },
    wrongchain: { type: "http", chainType: "l1", url, chainId: 1 },
  },
});
