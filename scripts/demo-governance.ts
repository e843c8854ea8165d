/**
 * The multisig workflow on Hardhat's simulated chain, through the same tasks a signer runs:
 * Safe v1.4.1 contracts, a 2-of-3 Safe, a timelock (1-day delay) whose proposer and
 * executor is the Safe, an app handed EOA → Safe → timelock, then a compose hash allowed
 * through Safe proposal → schedule → delay → execution. Account #0 proposes, #1 co-signs.
 *
 *   npm run demo:governance   (npx hardhat run scripts/demo-governance.ts)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import hre from "hardhat";

import { escapeTerminalText } from "../src/util/terminal-text.js";
import { collectCommandOutcomes, type CommandOutcome } from "../tasks/lib/output.js";

const dir = mkdtempSync(path.join(tmpdir(), "dstack-governance-demo-"));
const file = (name: string) => path.join(dir, name);
const connection = await hre.network.getOrCreate();
const accounts = (await connection.viem.getWalletClients()).map((wallet) => wallet.account.address);

/** Runs a task and returns what it ended with (nothing is printed by the task itself). */
async function outcomeOf(name: string, args: Record<string, unknown>): Promise<CommandOutcome> {
  let outcome: CommandOutcome | undefined;
  await collectCommandOutcomes(
    (ended) => {
      outcome = ended;
    },
    () => hre.tasks.getTask(name).run({ ...args, json: false }),
  );
  if (outcome === undefined) throw new Error(`demo: ${name} reported no result`);
  return outcome;
}

/** Runs a task that must succeed; prints its report (indented) unless `quiet`; returns its data. */
async function task(name: string, args: Record<string, unknown>, options: { quiet?: boolean } = {}): Promise<Record<string, unknown>> {
  const outcome = await outcomeOf(name, args);
  if (outcome.error !== undefined || outcome.exitCode !== 0) {
    console.error(`demo: ${name} failed (exit code ${outcome.exitCode}):\n${outcome.error === undefined ? outcome.lines.join("\n") : outcome.error.message}`);
    process.exit(1);
  }
  // Escaped as the task would print them: lines may quote files and answers from others.
  if (options.quiet !== true) for (const line of outcome.lines) console.log(`   ${escapeTerminalText(line)}`);
  return outcome.data;
}

const step = (text: string) => console.log(`\n== ${text}`);
/** A proposal, signed by its proposer: owner #1 signs and anyone executes. */
async function signAndExecute(proposal: string, show = false): Promise<void> {
  await task("safe-sign", { proposal, from: accounts[1] }, { quiet: !show });
  await task("safe-execute", { proposal }, { quiet: !show });
}

try {
  step("deploy-safe-contracts (a local chain has no canonical Safe deployment)");
  const safeContracts = file("safe-contracts.json");
  await task("deploy-safe-contracts", { out: safeContracts }, { quiet: true });
  console.log(`   written to ${safeContracts}`);

  step("deploy-safe --owners #0,#1,#2 --threshold 2");
  const { safe } = await task("deploy-safe", { owners: accounts.slice(0, 3).join(","), threshold: "2", safeContracts }, { quiet: true });
  console.log(`   Safe ${safe}`);

  step("deploy-timelock --min-delay 1d --proposers SAFE --executors SAFE");
  const { timelock } = await task("deploy-timelock", { minDelay: "1d", proposers: safe, executors: safe }, { quiet: true });
  console.log(`   timelock ${timelock}`);

  step("deploy-app (owned by account #0 for now)");
  const { app } = await task("deploy-app", {}, { quiet: true });
  console.log(`   app ${app}`);

  step("transfer-ownership --to SAFE, then accept-ownership --via safe (proposed, co-signed, executed)");
  await task("transfer-ownership", { app, to: safe }, { quiet: true });
  await task("accept-ownership", { app, via: "safe", safe, proposalOut: file("1-accept.json") }, { quiet: true });
  await signAndExecute(file("1-accept.json"));
  console.log(`   owner: Safe ${safe}`);

  step("transfer-ownership --to TIMELOCK --via safe; the timelock accepts via safe,timelock after the delay");
  await task("transfer-ownership", { app, to: timelock, via: "safe", safe, proposalOut: file("2-move.json") }, { quiet: true });
  await signAndExecute(file("2-move.json"));
  await task("accept-ownership", { app, via: "safe,timelock", safe, timelock, proposalOut: file("3-accept.json") }, { quiet: true });
  await signAndExecute(file("3-accept.json"));
  await connection.networkHelpers.time.increase(86_400);
  await task("timelock-execute", { operation: file("3-accept.json"), via: "safe", safe, proposalOut: file("4-execute.json") }, { quiet: true });
  await signAndExecute(file("4-execute.json"));
  console.log(`   owner: timelock ${timelock}`);

  step("governance-status");
  await task("governance-status", { app });

  step("Alice: add-compose-hash --app-compose examples/app-compose.json --via safe,timelock");
  const release = file("release.json");
  await task("add-compose-hash", { app, appCompose: "examples/app-compose.json", via: "safe,timelock", safe, timelock, proposalOut: release });

  step("Bob: safe-sign (checks the file against its hash, its data and the Safe, shows it, signs)");
  await task("safe-sign", { proposal: release, from: accounts[1] });

  step("anyone: safe-execute (the Safe schedules the operation on the timelock)");
  await task("safe-execute", { proposal: release, from: accounts[5] });

  step("timelock-execute before the delay: refused");
  const early = await outcomeOf("timelock-execute", { operation: release, via: "safe", safe });
  // The demo fails if the timelock would let the operation through early.
  if (early.exitCode !== 1 || early.error === undefined) {
    console.error(`demo: timelock-execute before the delay was not refused (exit code ${early.exitCode})`);
    process.exit(1);
  }
  console.log(`   Error: ${escapeTerminalText(early.error.message)}`);

  step("one day later: timelock-execute --via safe, co-signed and executed");
  await connection.networkHelpers.time.increase(86_400);
  await task("timelock-execute", { operation: release, via: "safe", safe, proposalOut: file("release-execute.json") }, { quiet: true });
  await signAndExecute(file("release-execute.json"));
  await task("check-compose-hash", { app, appCompose: "examples/app-compose.json" });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
