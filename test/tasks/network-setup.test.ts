/**
 * Reaching a node, and the set-up mistakes on the way, from the task's point of view: a
 * hung RPC ends in bounded time with exit 3 (the redacted URL named), and each
 * configuration error says what to do, with exit 2 and nothing sent: an unset RPC URL
 * variable, a private key of the wrong length (named, never printed), a keystore
 * variable without a terminal to type the password.
 */
import { writeFileSync } from "node:fs";

import { expect } from "chai";
import { configVariable } from "hardhat/config";

import { assertKeystoreReadable } from "../../tasks/lib/connection.js";
import { InvalidInputError } from "../../src/util/errors.js";
import { startRpcProxy, type RpcProxy } from "../support/rpc-proxy.js";
import { runTask } from "../support/run-task.js";
import { startSilentServer } from "../support/silent-server.js";
import { bytes32, chain, chainMark, expectError, expectNothingSent, freshApp, hreWithNetwork, restoreChainAfter, tempDir } from "./fixture.js";

describe("tasks: network set-up", function () {
  restoreChainAfter();
  let proxy: RpcProxy;
  let app: `0x${string}`;
  before(async function () {
    const { connection } = await chain();
    proxy = await startRpcProxy(connection.provider);
    app = (await freshApp()).address;
  });
  after(async function () {
    await proxy?.close();
  });

  /** Sets environment variables for the duration of `body`. */
  async function withEnv<T>(values: Record<string, string | undefined>, body: () => Promise<T>): Promise<T> {
    const saved = Object.fromEntries(Object.keys(values).map((key) => [key, process.env[key]]));
    for (const [key, value] of Object.entries(values)) if (value === undefined) delete process.env[key];
    else process.env[key] = value;
    try {
      return await body();
    } finally {
      for (const [key, value] of Object.entries(saved)) if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }

  it("a hung RPC (accepts TCP, never answers): exit 3 within seconds, the redacted URL named, a progress line per retry", async function () {
    const server = await startSilentServer();
    try {
      const key = "0123456789abcdef0123456789abcdef";
      const hung = await hreWithNetwork("hung", { type: "http", chainType: "l1", url: `http://127.0.0.1:${server.port}/v3/${key}` });
      const started = Date.now();
      const result = await withEnv({ DSTACK_RPC_TIMEOUT: "0.4", DSTACK_RPC_RETRIES: "1" }, () => runTask(hung, "check-compose-hash", { app, hash: bytes32("hung") }));
      const elapsed = Date.now() - started;
      expect(result.exitCode, result.stderr).to.equal(3);
      const lines = result.stderr.split("\n");
      expect(lines).to.include(`RPC eth_chainId at http://127.0.0.1:${server.port}/v3/***: no answer within 0.4 s; retrying (1/1)`);
      expect(lines).to.include(`Error: RPC eth_chainId failed at http://127.0.0.1:${server.port}/v3/***: cannot reach network "hung"`);
      expect(lines).to.include(`  RPC eth_chainId failed at http://127.0.0.1:${server.port}/v3/***: no answer within 0.4 s (2 attempts)`);
      expect(result.stderr).to.not.include(key);
      expect(elapsed).to.be.below(15_000);
    } finally {
      await server.close();
    }
  });

  it("DSTACK_RPC_TIMEOUT that is not a number: exit 2, the variable named", async function () {
    const right = await hreWithNetwork("proxied", { type: "http", chainType: "l1", url: proxy.url });
    const result = await withEnv({ DSTACK_RPC_TIMEOUT: "soon" }, () => runTask(right, "app-info", { app }));
    expectError(result, 2, /^Error: DSTACK_RPC_TIMEOUT: expected a number of seconds >= 0.1, got "soon"$/);
  });

  it("an unset RPC URL variable: exit 2, says how to set it (environment or keystore)", async function () {
    const variable = "DSTACK_TEST_UNSET_RPC_URL";
    const unset = await hreWithNetwork("unseturl", { type: "http", chainType: "l1", url: configVariable(variable) });
    const result = await withEnv({ [variable]: undefined }, () => runTask(unset, "app-info", { app }));
    expectError(result, 2, new RegExp(`^Error: ${variable} is not set \\(needed by --network unseturl\\)$`));
    expect(result.stderr.split("\n")[1]).to.equal(`  set it in the environment (export ${variable}=https://…) or store it with \`npx hardhat keystore set ${variable}\``);
  });

  it("a 31-byte private key: exit 2, the variable named, the value never printed; nothing sent", async function () {
    const variable = "DSTACK_TEST_SHORT_KEY";
    const shortKey = `0x${"5a".repeat(31)}`;
    const network = await hreWithNetwork("shortkey", { type: "http", chainType: "l1", url: proxy.url, accounts: [configVariable(variable)] });
    const mark = await chainMark();
    const result = await withEnv({ [variable]: shortKey }, () => runTask(network, "add-compose-hash", { app, hash: bytes32("short-key") }));
    expectError(result, 2, new RegExp(`^Error: ${variable} is not a private key: expected 32 bytes \\(64 hex digits, 0x optional\\), got 31 bytes$`));
    expect(result.stderr).to.not.include("5a5a5a");
    expect(result.stderr).to.not.match(/Field\.fromBytes/);
    await expectNothingSent(mark);
    // A read-only task on the same network needs no key, so the bad one does not matter there.
    const read = await withEnv({ [variable]: shortKey }, () => runTask(network, "app-info", { app }));
    expect(read.exitCode, read.stderr).to.equal(0);
  });

  it("a variable only the keystore holds, no terminal to ask its password: fails at once with the fix", function () {
    const { file, cleanup } = tempDir("dstack-keystore-");
    try {
      const keystore = file("keystore.json");
      writeFileSync(keystore, JSON.stringify({ _format: "hh-unencrypted-keystore", version: 1, crypto: {}, secrets: { SEPOLIA_RPC_URL: { iv: "", cypher: "" } } }));
      const noTerminal = { isTTY: false, ci: false };
      const thrown = (() => {
        try {
          assertKeystoreReadable(keystore, "SEPOLIA_RPC_URL", noTerminal);
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      expect(thrown).to.be.instanceOf(InvalidInputError);
      expect((thrown as InvalidInputError).message).to.equal("SEPOLIA_RPC_URL is in the Hardhat keystore, whose password cannot be asked: there is no terminal (stdin is not a TTY)");
      expect((thrown as InvalidInputError).details).to.equal("export SEPOLIA_RPC_URL in the environment for this run (e.g. a CI secret), or run the command in a terminal");
      // A terminal (the prompt works), CI (Hardhat skips the keystore), or a variable the keystore does not hold: no objection.
      expect(() => assertKeystoreReadable(keystore, "SEPOLIA_RPC_URL", { isTTY: true, ci: false })).to.not.throw();
      expect(() => assertKeystoreReadable(keystore, "SEPOLIA_RPC_URL", { isTTY: false, ci: true })).to.not.throw();
      expect(() => assertKeystoreReadable(keystore, "BASE_RPC_URL", noTerminal)).to.not.throw();
      expect(() => assertKeystoreReadable(file("missing.json"), "SEPOLIA_RPC_URL", noTerminal)).to.not.throw();
    } finally {
      cleanup();
    }
  });

  it("a state-changing task on the in-process chain warns that nothing persists; an HTTP network does not", async function () {
    const { hre } = await import("./fixture.js");
    const simulated = await withEnv({ HH_TEST: undefined }, () => runTask(hre, "add-compose-hash", { app, hash: bytes32("warned"), dryRun: true }));
    expect(simulated.exitCode, simulated.stderr).to.equal(0);
    expect(simulated.stderr).to.match(/^WARNING: no --network given: this runs on Hardhat's throwaway in-process chain and NOTHING PERSISTS after the command exits\./);
    const remote = await hreWithNetwork("proxied2", { type: "http", chainType: "l1", url: proxy.url });
    const real = await withEnv({ HH_TEST: undefined }, () => runTask(remote, "add-compose-hash", { app, hash: bytes32("not-warned"), dryRun: true }));
    expect(real.exitCode, real.stderr).to.equal(0);
    expect(real.stderr).to.not.include("WARNING");
  });
});
