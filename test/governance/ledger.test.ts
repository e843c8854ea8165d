/**
 * Signing with a Ledger through @nomicfoundation/hardhat-ledger: a network's
 * `ledgerAccounts` are accounts of the network, and `safe-sign --from` one of them sends
 * the same EIP-712 request (`eth_signTypedData_v4`) to the device. There is no device
 * here: what is tested is the wiring up to the device — the account is offered, the
 * signing request goes to the Ledger plugin, which tries to connect; the plugin then waits
 * (up to 60 × 30 s) for a device to be plugged in, so a test hook answers its "device not
 * connected" message as a user giving up would, and that is a one-line error with nothing
 * written. Signing on a real device (its screen, the approval) cannot be tested here.
 */
import { readFileSync, writeFileSync } from "node:fs";

import { expect } from "chai";
import { encodeFunctionData, getAddress, type Address } from "viem";

import { safeAbi } from "../../src/governance/abi/safe.js";
import { buildProposal, serializeProposal } from "../../src/governance/proposal.js";
import { safeTransaction } from "../../src/governance/safe-tx.js";
import { runTask } from "../support/run-task.js";
import { expectError, tempDir } from "../tasks/fixture.js";

const LEDGER = getAddress("0xa809931e3b38059adae9bc5455bc567d0509ab92");

describe("governance: a Ledger signer (hardhat-ledger), without a device", function () {
  const dir = tempDir("dstack-gov-ledger-");
  after(() => dir.cleanup());
  before(async function () {
    // An optional dependency: npm leaves it out where node-hid cannot be built.
    const installed = await import("@nomicfoundation/hardhat-ledger").then(() => true, () => false);
    if (!installed) {
      console.log("      skipping: @nomicfoundation/hardhat-ledger is not installed (node-hid needs libudev-dev and libusb-1.0-0-dev to build)");
      this.skip();
    }
  });

  it("LEDGER_ACCOUNTS: the live networks sign with those Ledger accounts, and no DEPLOYER_PRIVATE_KEY is asked for", async function () {
    const saved = process.env.LEDGER_ACCOUNTS;
    process.env.LEDGER_ACCOUNTS = ` ${LEDGER.toLowerCase()} `;
    try {
      // A fresh evaluation of the config (the query string makes it a new module).
      const { default: config } = (await import(`../../hardhat.config.js?ledger=${Date.now()}`)) as { default: { networks: Record<string, { accounts?: unknown; ledgerAccounts?: unknown }> } };
      for (const name of ["sepolia", "base", "mainnet"]) {
        expect(config.networks[name]!.ledgerAccounts, name).to.deep.equal([LEDGER.toLowerCase()]);
        expect(config.networks[name]!.accounts, name).to.deep.equal([]);
      }
    } finally {
      if (saved === undefined) delete process.env.LEDGER_ACCOUNTS;
      else process.env.LEDGER_ACCOUNTS = saved;
    }
    // Without it (as the test run's own configuration was loaded, unless it was set): the keystore key.
    if (saved === undefined) {
      const { default: usual } = await import("../../hardhat.config.js");
      expect((usual.networks!.sepolia as { ledgerAccounts?: unknown }).ledgerAccounts).to.equal(undefined);
    }
  });

  it("a configured Ledger account is offered by the network; safe-sign --from it asks the Ledger, and with none connected fails in one line, writing nothing", async function () {
    const messages: string[] = [];
    // Records what the Ledger plugin says, and gives up where it would wait for a device.
    const noDevice = {
      id: "test-no-ledger-device",
      hookHandlers: {
        userInterruptions: async () => ({
          default: async () => ({
            displayMessage: async (_context: unknown, interruptor: string, message: string) => {
              messages.push(`${interruptor}: ${message}`);
              if (/not connected/i.test(message)) throw new Error("no Ledger device connected (test)");
            },
          }),
        }),
      },
    };
    const { createHardhatRuntimeEnvironment } = await import("hardhat/hre");
    const { default: config } = await import("../../hardhat.config.js");
    const hre = await createHardhatRuntimeEnvironment(
      { ...config, plugins: [...(config.plugins ?? []), noDevice], networks: { ...config.networks, ledgerTest: { type: "edr-simulated", chainType: "l1", ledgerAccounts: [LEDGER] } } } as typeof config,
      { network: "ledgerTest" },
    );
    const connection = await hre.network.getOrCreate();
    const accounts = ((await connection.provider.request({ method: "eth_accounts" })) as string[]).map((account) => getAddress(account));
    expect(accounts).to.include(LEDGER);

    const safeContracts = dir.file("safe-contracts.json");
    expect((await runTask(hre, "deploy-safe-contracts", { out: safeContracts })).exitCode).to.equal(0);
    const deployed = await runTask(hre, "deploy-safe", { owners: `${LEDGER},${accounts[0]}`, threshold: "1", safeContracts, json: true });
    expect(deployed.exitCode, deployed.stdout + deployed.stderr).to.equal(0);
    const safe = getAddress(deployed.json.safe) as Address;
    const tx = safeTransaction({ to: safe, value: 0n, data: encodeFunctionData({ abi: safeAbi, functionName: "changeThreshold", args: [1n] }), operation: 0 }, 0n);
    const file = dir.file("ledger.json");
    writeFileSync(file, serializeProposal(buildProposal({ chainId: 31337, safe, tx, summaries: [], proposedBy: accounts[0]! })));
    const before = readFileSync(file, "utf8");

    const signed = await runTask(hre, "safe-sign", { proposal: file, from: LEDGER });
    expect(messages.some((message) => /hardhat-ledger: Connecting to Ledger/.test(message)), messages.join("\n")).to.equal(true);
    expectError(signed, 1, new RegExp(`^Error: the signer ${LEDGER} could not sign the proposal: no Ledger device connected \\(test\\)$`));
    expect(readFileSync(file, "utf8")).to.equal(before);
  });
});
