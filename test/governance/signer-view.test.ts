/**
 * What a Safe signer sees and approves, against a hostile proposer: every attack below is
 * a proposal file that is consistent with itself and signed by a real owner (the
 * proposer), so only the signer's view and the toolkit's refusals stand between it and
 * the Safe. Gas-refund drains, screen spoofing with free text, authority changes hidden
 * in nested calls, oversized files, addresses with a broken checksum, schedules below the
 * timelock's minimum delay, an operation blocked by a cancelled predecessor.
 */
import { readFileSync, writeFileSync } from "node:fs";

import { expect } from "chai";
import { encodeFunctionData, getAddress, parseEther, zeroAddress, type Address, type Hex } from "viem";

import { dstackAppAbi } from "../../src/abi/dstack-app.js";
import { ERC1967_IMPLEMENTATION_SLOT } from "../../src/chain/app-state.js";
import { safeAbi } from "../../src/governance/abi/safe.js";
import { timelockControllerAbi } from "../../src/governance/abi/timelock-controller.js";
import { decodeCall, decodeSafeTransaction, MAX_DECODE_DEPTH } from "../../src/governance/decode.js";
import { jsonNestingDepth } from "../../src/governance/json-fields.js";
import { encodeMultiSendCall } from "../../src/governance/multisend.js";
import { buildProposal, proposalTransaction, serializeProposal } from "../../src/governance/proposal.js";
import { safeTransaction, safeTxTypedData, type SafeTransaction } from "../../src/governance/safe-tx.js";
import { ROLE_IDS } from "../../src/governance/timelock-state.js";
import { addressProblem } from "../../src/util/address.js";
import {
  bytes32,
  chain,
  chainMark,
  expectError,
  expectNothingSent,
  freshApp,
  freshSafe,
  freshTimelock,
  ownerOf,
  readProposal,
  run,
  safeContractsFile,
  suiteWorkDir,
  timeTravel,
  writeProposal,
} from "./fixture.js";

/** The same address with the case of one letter flipped: a broken EIP-55 checksum. */
function breakChecksum(address: Address): string {
  const i = address.slice(2).search(/[a-fA-F]/) + 2;
  const c = address[i]!;
  return address.slice(0, i) + (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) + address.slice(i + 1);
}

const addComposeHashData = (hash: Hex): Hex => encodeFunctionData({ abi: dstackAppAbi, functionName: "addComposeHash", args: [hash] });

describe("governance: what a Safe signer sees and approves", function () {
  const dir = suiteWorkDir("dstack-gov-signer-");

  let accounts: Address[];
  let safeContracts: string;
  let safe: Address;
  let app: Address;
  let attacker: Address;
  let counter = 0;

  before(async function () {
    ({ accounts } = await chain());
    attacker = accounts[9]!;
    safeContracts = await safeContractsFile(dir);
    safe = await freshSafe(safeContracts, [accounts[0]!, accounts[1]!, accounts[2]!], 2);
    app = (await freshApp()).address;
    expect((await run("transfer-ownership", { app, to: safe })).exitCode).to.equal(0);
    const accept = dir.file("accept.json");
    expect((await run("accept-ownership", { app, via: "safe", safe, proposalOut: accept })).exitCode).to.equal(0);
    expect((await run("safe-sign", { proposal: accept, from: accounts[1] })).exitCode).to.equal(0);
    expect((await run("safe-execute", { proposal: accept })).exitCode).to.equal(0);
    expect((await ownerOf(app)).owner).to.equal(safe);
    // The Safe holds ETH: what a refund would drain.
    const { connection } = await chain();
    const wallet = await connection.viem.getWalletClient(accounts[0]!);
    const { publicClient } = await chain();
    await publicClient.waitForTransactionReceipt({ hash: await wallet.sendTransaction({ to: safe, value: parseEther("10") }) });
  });

  /** A proposal file written by a hostile proposer (owner 0, who signs it): consistent, signed, any fields. */
  async function hostileProposal(
    call: { to: Address; data: Hex; operation?: 0 | 1 },
    fields: Partial<SafeTransaction> = {},
    options: { summaries?: string[]; signers?: Address[] } = {},
  ): Promise<string> {
    const { publicClient, connection } = await chain();
    const nonce = await publicClient.readContract({ address: safe, abi: safeAbi, functionName: "nonce" });
    const tx: SafeTransaction = { ...safeTransaction({ to: call.to, value: 0n, data: call.data, operation: call.operation ?? 0 }, nonce), ...fields };
    const proposal = buildProposal({ chainId: 31337, safe, tx, summaries: options.summaries ?? ["allow a compose hash"], proposedBy: accounts[0]! });
    const signatures = [];
    for (const signer of options.signers ?? [accounts[0]!]) {
      const wallet = await connection.viem.getWalletClient(signer);
      signatures.push({ signer, signature: await wallet.signTypedData({ account: wallet.account, ...safeTxTypedData(31337, safe, tx) }) });
    }
    counter += 1;
    const file = dir.file(`hostile-${counter}.json`);
    writeFileSync(file, serializeProposal({ ...proposal, signatures }));
    return file;
  }

  describe("gas-refund fields", function () {
    const drain = { safeTxGas: 200_000n, baseGas: 4_000_000_000n, gasPrice: 1_000_000_000_000n };

    it("a refund to the attacker is refused by safe-sign --dry-run, safe-sign and safe-execute (fully signed), naming every field and the payment; nothing is paid", async function () {
      const { publicClient } = await chain();
      const file = await hostileProposal({ to: app, data: addComposeHashData(bytes32("refund")) }, { ...drain, refundReceiver: attacker }, { signers: [accounts[0]!, accounts[2]!] });
      const before = await publicClient.getBalance({ address: attacker });
      const mark = await chainMark();
      const pattern = new RegExp(
        `safeTxGas 200000, baseGas 4000000000, gasPrice 1000000000000, gasToken ${zeroAddress}, refundReceiver ${attacker}: the Safe pays ${attacker} \\(gas used \\+ baseGas\\) × the lower of gasPrice and the executing transaction's gas price, which the executor chooses: up to [0-9.]+ ETH \\(\\d+ gas used, the block gas limit\\); baseGas alone at gasPrice is 4000 ETH.*Refused; .*--allow-gas-refund`,
      );
      expectError(await run("safe-sign", { proposal: file, from: accounts[1], dryRun: true }), 1, pattern);
      expectError(await run("safe-sign", { proposal: file, from: accounts[1] }), 1, pattern);
      expect(readProposal(file).signatures).to.have.length(2);
      const executed = await run("safe-execute", { proposal: file, json: true });
      expect(executed.exitCode).to.equal(1);
      expect(executed.json.error.code).to.equal("GAS_REFUND");
      await expectNothingSent(mark);
      expect(await publicClient.getBalance({ address: attacker })).to.equal(before);
    });

    it("an ERC-20 gas token is said to be uncapped; a zero refund receiver pays whoever executes", async function () {
      const token = (await freshApp()).address; // any contract: the refusal comes before anything reads it
      const file = await hostileProposal({ to: app, data: addComposeHashData(bytes32("token")) }, { ...drain, gasToken: token });
      expectError(
        await run("safe-sign", { proposal: file, from: accounts[1], dryRun: true }),
        1,
        new RegExp(`the Safe pays the account that executes it \\(tx.origin, anyone\\) \\(gas used \\+ baseGas\\) × gasPrice in token ${token}, not capped by the transaction's gas price: at least 4000000000000000000000 units of token ${token}`),
      );
    });

    it("with --allow-gas-refund the terms are shown first, in a warning, before the decoded actions; --json carries them", async function () {
      const file = await hostileProposal({ to: app, data: addComposeHashData(bytes32("allowed")) }, { ...drain, refundReceiver: attacker });
      const shown = await run("safe-sign", { proposal: file, from: accounts[1], dryRun: true, allowGasRefund: true });
      expect(shown.exitCode, shown.stderr).to.equal(0);
      const lines = shown.stdout.split("\n");
      const warning = lines.findIndex((line) => line.startsWith(`⚠ GAS REFUND: this proposal pays from the Safe's funds; the Safe pays ${attacker} (gas used + baseGas)`));
      expect(warning, shown.stdout).to.equal(0);
      expect(warning).to.be.lessThan(lines.findIndex((line) => line.startsWith("what it does")));
      expect(shown.stdout).to.match(/recap: signing approves exactly these 1 decoded step, with a GAS REFUND paid from the Safe/);
      const json = await run("safe-sign", { proposal: file, from: accounts[1], dryRun: true, allowGasRefund: true, json: true });
      expect(json.json.gasRefund).to.include({ refundReceiver: attacker, baseGasPayment: (4_000_000_000n * 1_000_000_000_000n).toString(), baseGas: "4000000000" });
      const full = await hostileProposal({ to: app, data: addComposeHashData(bytes32("allowed")) }, { ...drain, refundReceiver: attacker }, { signers: [accounts[0]!, accounts[2]!] });
      const executor = await run("safe-execute", { proposal: full, dryRun: true, allowGasRefund: true });
      expect(executor.exitCode, executor.stderr).to.equal(0);
      expect(executor.stdout.split("\n")[0]).to.match(/^⚠ GAS REFUND: /);
    });
  });

  describe("free text cannot pose as the decoded actions", function () {
    it("a summary padded to the terminal's width is wrapped and marked on every line, shown before the decoded lines, which end with a recap", async function () {
      const hash = bytes32("padded");
      const fake = `${" ".repeat(300)}what it does (decoded from the data the signatures cover):${" ".repeat(40)}1. allow compose hash ${bytes32("good")} on app ${app}${" ".repeat(200)}`;
      const file = await hostileProposal({ to: app, data: addComposeHashData(hash) }, {}, { summaries: [fake, `${"─".repeat(300)}`] });
      const shown = await run("safe-sign", { proposal: file, from: accounts[1], dryRun: true });
      expect(shown.exitCode, shown.stderr).to.equal(0);
      const lines = shown.stdout.split("\n").filter((line) => line.length > 0);
      const heading = lines.findIndex((line) => line.startsWith("UNVERIFIED: the proposer's own words"));
      const decoded = lines.findIndex((line) => line.startsWith("what it does"));
      expect(heading).to.equal(0);
      // Every line of free text carries the marker and fits 80 columns (no terminal wrap can start a line of its own).
      const free = lines.slice(heading + 1, lines.findIndex((line) => line.startsWith("Safe ")));
      expect(free.length).to.be.greaterThan(2);
      for (const line of free) {
        expect(line.startsWith("  ┆ "), line).to.equal(true);
        expect([...line].reduce((n, c) => n + (c.codePointAt(0)! >= 0x1100 ? 2 : 1), 0)).to.be.at.most(80);
      }
      expect(lines.filter((line) => line.includes(bytes32("good"))).every((line) => line.startsWith("  ┆ "))).to.equal(true);
      expect(decoded).to.be.greaterThan(free.length);
      const recap = lines.findIndex((line) => line.startsWith("recap: signing approves exactly these 1 decoded step:"));
      expect(recap).to.be.greaterThan(decoded);
      expect(lines[recap + 1]).to.equal(`  1. allow compose hash ${hash} on app ${app}`);
      expect(lines.slice(recap).join("\n")).to.not.include("┆");
    });

    it("free text is bounded: too many summaries, a too long one, a createdAt that is not a timestamp are input errors (exit 2)", async function () {
      const file = await hostileProposal({ to: app, data: addComposeHashData(bytes32("bounds")) });
      const original = readProposal(file);
      const mark = await chainMark();
      writeProposal(file, { ...original, summaries: Array.from({ length: 65 }, (_, i) => `line ${i}`) });
      expectError(await run("safe-sign", { proposal: file, from: accounts[1], dryRun: true }), 2, /field "summaries" has 65 entries; at most 64/);
      writeProposal(file, { ...original, summaries: ["x".repeat(5000)] });
      expectError(await run("safe-execute", { proposal: file, dryRun: true }), 2, /summary 1 is 5000 characters long; at most 4096/);
      writeProposal(file, { ...original, summaries: Array.from({ length: 5 }, () => "y".repeat(4000)) });
      expectError(await run("safe-sign", { proposal: file, from: accounts[1], dryRun: true }), 2, /the summaries hold 20000 characters in all; at most 16384/);
      // What the toolkit writes itself always fits: long descriptions are cut, not refused later.
      const own = buildProposal({ chainId: 31337, safe, tx: proposalTransaction(original), summaries: Array.from({ length: 100 }, () => "z".repeat(5000)), proposedBy: accounts[0]! });
      expect(own.summaries.length).to.be.at.most(64);
      expect(own.summaries.join("").length).to.be.at.most(16_384);
      expect(own.summaries.at(-1)).to.match(/^… and \d+ more \(cut\)$/);
      writeProposal(file, { ...original, summaries: own.summaries });
      expect((await run("safe-sign", { proposal: file, from: accounts[1], dryRun: true })).exitCode).to.equal(0);
      writeProposal(file, { ...original, createdAt: `2026-01-01T00:00:00.000Z${" ".repeat(200)}1. allow` });
      expectError(await run("safe-sign", { proposal: file, from: accounts[1], dryRun: true }), 2, /field "createdAt" must be an ISO 8601 UTC timestamp/);
      await expectNothingSent(mark);
    });

    it("--json escapes bidi, isolate, separator and zero-width characters as the text mode does; the value reads back the same", async function () {
      const tricky = "a\u202eb\u2066c\u2069d\u2028e\u2029f\u061cg\u200bh";
      const file = await hostileProposal({ to: app, data: addComposeHashData(bytes32("bidi")) }, {}, { summaries: [tricky] });
      const result = await run("safe-sign", { proposal: file, from: accounts[1], dryRun: true, json: true });
      expect(result.exitCode, result.stderr).to.equal(0);
      expect(result.stdout).to.not.match(/[\u202e\u2066\u2069\u2028\u2029\u061c\u200b]/);
      expect(result.stdout).to.include("a\\u202eb\\u2066c\\u2069d\\u2028e\\u2029f\\u061cg\\u200bh");
      expect(result.json.summaries).to.deep.equal([tricky]);
      const text = await run("safe-sign", { proposal: file, from: accounts[1], dryRun: true });
      expect(text.stdout).to.not.match(/[\u202e\u2066\u2069\u2028\u2029\u061c\u200b]/);
    });
  });

  describe("authority changes are flagged, nested calls decoded", function () {
    it("transferOwnership to an EOA: a CONTROL line naming who gains control, and a chain note that it is one key", async function () {
      const data = encodeFunctionData({ abi: dstackAppAbi, functionName: "transferOwnership", args: [attacker] });
      const file = await hostileProposal({ to: app, data });
      // The same proposal with the threshold met, as the executor sees it.
      const full = await hostileProposal({ to: app, data }, {}, { signers: [accounts[0]!, accounts[2]!] });
      for (const [command, options] of [
        ["safe-sign", { proposal: file, from: accounts[1], dryRun: true }],
        ["safe-execute", { proposal: full, dryRun: true }],
      ] as const) {
        const shown = await run(command, options);
        expect(shown.exitCode, shown.stderr).to.equal(0);
        expect(shown.stdout).to.include(`⚠ CONTROL CHANGES: ${attacker} becomes pending owner of ${app}: once it accepts, it controls ${app} and the current owner loses control`);
        expect(shown.stdout).to.include(`⚠ step 1: ${attacker} has no contract code: it is an externally owned account, ONE private key (no multisig, no timelock) would hold this control`);
        expect(shown.stdout).to.match(/recap: signing approves exactly these 1 decoded step, with 1 control change, 1 note from the chain/);
        expect(shown.stdout).to.include(`  1. [CONTROL] start transferring ownership of ${app} to ${attacker}`);
      }
      const json = await run("safe-sign", { proposal: file, from: accounts[1], dryRun: true, json: true });
      expect(json.json.actions[0].authority).to.deep.include({ gains: [attacker], loses: [] });
      expect(json.json.notes).to.have.length(1);

      // A file written before the `authority` field existed still verifies, and still shows the change (from the decoding);
      // a file whose `authority` says something else is refused.
      const stored = readProposal(file);
      const { authority: _dropped, ...older } = stored.actions[0]!;
      writeProposal(file, { ...stored, actions: [older] });
      const old = await run("safe-sign", { proposal: file, from: accounts[1], dryRun: true });
      expect(old.exitCode, old.stderr).to.equal(0);
      expect(old.stdout).to.include(`⚠ CONTROL CHANGES: ${attacker} becomes pending owner of ${app}`);
      writeProposal(file, { ...stored, actions: [{ ...stored.actions[0]!, authority: { change: "nothing", gains: [], loses: [] } }] });
      expectError(await run("safe-sign", { proposal: file, from: accounts[1], dryRun: true }), 1, /action 1 in the file does not match the transaction data/);
    });

    it("a same-implementation upgradeToAndCall hiding transferOwnership: the inner call is decoded and flagged, the no-op upgrade named", async function () {
      const { publicClient } = await chain();
      const slot = await publicClient.getStorageAt({ address: app, slot: ERC1967_IMPLEMENTATION_SLOT });
      const implementation = getAddress(`0x${slot!.slice(-40)}`);
      const inner = encodeFunctionData({ abi: dstackAppAbi, functionName: "transferOwnership", args: [attacker] });
      const file = await hostileProposal({ to: app, data: encodeFunctionData({ abi: dstackAppAbi, functionName: "upgradeToAndCall", args: [implementation, inner] }) });
      const shown = await run("safe-sign", { proposal: file, from: accounts[1], dryRun: true });
      expect(shown.exitCode, shown.stderr).to.equal(0);
      expect(shown.stdout).to.include(`1.1. during the upgrade, ${app} runs in the new code: start transferring ownership of ${app} to ${attacker}`);
      expect(shown.stdout).to.include(`⚠ CONTROL CHANGES: ${attacker} becomes pending owner of ${app}`);
      expect(shown.stdout).to.include(`⚠ step 1: ${implementation} is ALREADY the implementation of ${app}: this "upgrade" changes no code; its only effect is the call it carries (step 1.1)`);
      expect(shown.stdout).to.match(/recap: signing approves exactly these 2 decoded steps, with 2 control changes/);
    });

    it("a MultiSend batch changing the Safe's owners, threshold, fallback handler, guard and modules: every step flagged with who gains or loses", async function () {
      const contracts = JSON.parse(readFileSync(safeContracts, "utf8"))["31337"];
      const self = (functionName: string, args: readonly unknown[]) => ({ to: safe, value: 0n, data: encodeFunctionData({ abi: safeAbi, functionName, args } as never) as Hex });
      const sentinel = "0x0000000000000000000000000000000000000001";
      const calls = [
        self("addOwnerWithThreshold", [attacker, 1n]),
        self("removeOwner", [sentinel, accounts[2]!, 1n]),
        self("swapOwner", [sentinel, accounts[1]!, accounts[8]!]),
        self("changeThreshold", [1n]),
        self("setFallbackHandler", [attacker]),
        self("setGuard", [attacker]),
        self("enableModule", [attacker]),
      ];
      const file = await hostileProposal({ to: contracts.multiSendCallOnlyAddress, data: encodeMultiSendCall(calls), operation: 1 });
      const result = await run("safe-sign", { proposal: file, from: accounts[1], dryRun: true, json: true });
      expect(result.exitCode, result.stdout).to.equal(0);
      const authority = (step: string) => result.json.actions.find((a: { step: string }) => a.step === step).authority;
      expect(authority("1.1")).to.deep.equal({ change: `${attacker} becomes an owner of Safe ${safe}; 1 signatures are needed from then on`, gains: [attacker], loses: [] });
      expect(authority("1.2")).to.include({ change: `${accounts[2]} stops being an owner of Safe ${safe}; 1 signatures are needed from then on` });
      expect(authority("1.3")).to.deep.include({ gains: [accounts[8]], loses: [accounts[1]] });
      expect(authority("1.4").change).to.equal(`1 signatures are needed for Safe ${safe} from then on`);
      expect(authority("1.5").change).to.include("including EIP-1271 signature checks made in the Safe's name");
      expect(authority("1.6").change).to.include(`can block, every future transaction of Safe ${safe}`);
      expect(authority("1.7").change).to.equal(`${attacker} can execute ANY transaction from Safe ${safe} without any owner's signature`);
      const text = await run("safe-sign", { proposal: file, from: accounts[1], dryRun: true });
      expect(text.stdout.match(/⚠ CONTROL CHANGES: /g)).to.have.length(7);
      expect(text.stdout).to.match(/with 7 control changes/);
    });

    it("timelock roles and delay, disableUpgrades: flagged from the calldata (library)", function () {
      const timelock = getAddress("0x00000000000000000000000000000000000000aa");
      const decode = (functionName: string, args: readonly unknown[]) =>
        decodeCall({ to: timelock, value: 0n, data: encodeFunctionData({ abi: [...timelockControllerAbi, ...dstackAppAbi], functionName, args } as never) as Hex }, "1")[0]!;
      expect(decode("grantRole", [ROLE_IDS.admin, attacker]).authority).to.deep.equal({
        change: `${attacker} gains DEFAULT_ADMIN_ROLE on ${timelock}: it can grant and revoke every role at once, without any delay`,
        gains: [attacker],
        loses: [],
      });
      expect(decode("grantRole", [ROLE_IDS.executor, zeroAddress]).authority!.change).to.match(/^ANYONE \(the zero address opens the role\) gains EXECUTOR_ROLE/);
      expect(decode("revokeRole", [ROLE_IDS.proposer, accounts[0]!]).authority).to.deep.include({ loses: [accounts[0]] });
      expect(decode("updateDelay", [60n]).authority!.change).to.match(/becomes 1m$/);
      expect(decode("disableUpgrades", []).authority!.change).to.include("can never be changed again");
      expect(decode("transferOwnership", [zeroAddress]).authority).to.deep.equal({ change: `any pending ownership transfer of ${timelock} is cancelled (the owner keeps control)`, gains: [], loses: [] });
    });

    it("a MultiSend reached with a plain call is unpacked too, and said to act as that contract (library)", function () {
      const multiSend = getAddress("0x00000000000000000000000000000000000000bb");
      const inner = encodeFunctionData({ abi: dstackAppAbi, functionName: "transferOwnership", args: [attacker] });
      const actions = decodeSafeTransaction({ to: multiSend, value: 0n, data: encodeMultiSendCall([{ to: app, value: 0n, data: inner }]), operation: 0 });
      expect(actions.map((a) => a.step)).to.deep.equal(["1", "1.1"]);
      expect(actions[0]!.description).to.equal(`batch of 1 calls sent by the contract ${multiSend} (they run as ${multiSend}, not as the caller)`);
      expect(actions[1]!.authority!.gains).to.deep.equal([attacker]);
    });

    it("nesting is bounded: calldata nested deeper than the bound is refused, not cut (library and safe-sign)", async function () {
      let data = encodeFunctionData({ abi: dstackAppAbi, functionName: "transferOwnership", args: [attacker] });
      for (let i = 0; i < MAX_DECODE_DEPTH; i += 1) data = encodeFunctionData({ abi: dstackAppAbi, functionName: "upgradeToAndCall", args: [app, data] });
      expect(() => decodeSafeTransaction({ to: app, value: 0n, data, operation: 0 })).to.throw(/calls nested more than 6 levels deep/);
      const { publicClient } = await chain();
      const nonce = await publicClient.readContract({ address: safe, abi: safeAbi, functionName: "nonce" });
      const tx = safeTransaction({ to: app, value: 0n, data, operation: 0 }, nonce);
      const file = dir.file("deep-calldata.json");
      // buildProposal cannot decode it either; the file is what a hand-made forgery would be.
      expect(() => buildProposal({ chainId: 31337, safe, tx, summaries: [], proposedBy: accounts[0]! })).to.throw(/nested more than/);
      const honest = readProposal(await hostileProposal({ to: app, data: addComposeHashData(bytes32("deep")) }));
      const { safeTxHash } = await import("../../src/governance/safe-tx.js");
      writeProposal(file, { ...honest, data, safeTxHash: safeTxHash(31337, safe, tx), signatures: [] });
      expectError(await run("safe-sign", { proposal: file, from: accounts[1], dryRun: true }), 1, /the transaction data does not decode: step 1(\.1){6}: calls nested more than 6 levels deep/);
    });
  });

  describe("input bounds", function () {
    it("a 5 MiB proposal and a 200,000-deep nesting are input errors naming the flag, without a stack overflow", async function () {
      const honest = readProposal(await hostileProposal({ to: app, data: addComposeHashData(bytes32("big")) }));
      const big = dir.file("big.json");
      writeProposal(big, { ...honest, summaries: ["x".repeat(5 * 1024 * 1024)] });
      expectError(await run("safe-sign", { proposal: big, from: accounts[1], dryRun: true }), 2, /^Error: --proposal: .*big\.json is 5\.0 MiB; a governance file is at most 4\.0 MiB/);
      expectError(await run("safe-execute", { proposal: big }), 2, /is 5\.0 MiB/);
      const deep = dir.file("deep.json");
      writeFileSync(deep, `{"format":"dstack-governance/safe-proposal","x":${"[".repeat(200_000)}${"]".repeat(200_000)}}`);
      expectError(await run("safe-sign", { proposal: deep, from: accounts[1], dryRun: true }), 2, /deep\.json: JSON nested more than 32 levels deep/);
      expectError(await run("timelock-status", { operation: deep }), 2, /JSON nested more than 32 levels deep/);
      expect(jsonNestingDepth('{"a":"[[[[","b":[{"c":"\\"]"}]}')).to.equal(3);
    });
  });

  describe("addresses: the EIP-55 checksum is enforced", function () {
    it("a mixed-case address with one wrong letter is refused in flags and files; all-lowercase is accepted", async function () {
      const broken = breakChecksum(safe);
      expect(addressProblem(broken)).to.match(/wrong EIP-55 checksum/);
      expect(addressProblem(safe)).to.equal(undefined);
      expect(addressProblem(safe.toLowerCase())).to.equal(undefined);
      const mark = await chainMark();
      expectError(await run("safe-status", { safe: broken }), 2, new RegExp(`^Error: --safe: the mixed-case address ${broken} has a wrong EIP-55 checksum`));
      expect((await run("safe-status", { safe: safe.toLowerCase(), json: true })).json.address).to.equal(safe);
      expectError(await run("deploy-safe", { owners: `${accounts[0]},${breakChecksum(accounts[1]!)}`, threshold: "1", safeContracts }), 2, /^Error: --owners: the mixed-case address .* wrong EIP-55 checksum/);
      expectError(await run("transfer-ownership", { app, to: breakChecksum(attacker), via: "safe", safe }), 2, /^Error: --to: the mixed-case address/);
      expectError(await run("add-compose-hash", { app, hash: bytes32("x"), via: "safe", safe: broken }), 2, /^Error: --safe: the mixed-case address/);
      const file = await hostileProposal({ to: app, data: addComposeHashData(bytes32("checksum")) });
      writeProposal(file, { ...readProposal(file), to: breakChecksum(app) });
      expectError(await run("safe-sign", { proposal: file, from: accounts[1], dryRun: true }), 2, /field "to" must be an address with a correct checksum/);
      await expectNothingSent(mark);
      // The other files that carry addresses: a --safe-contracts file, a monitor configuration.
      const contracts = JSON.parse(readFileSync(safeContracts, "utf8"));
      const badContracts = dir.file("bad-safe-contracts.json");
      writeFileSync(badContracts, JSON.stringify({ 31337: { ...contracts["31337"], safeSingletonAddress: breakChecksum(getAddress(contracts["31337"].safeSingletonAddress)) } }));
      expectError(await run("deploy-safe", { owners: accounts[0]!, threshold: "1", safeContracts: badContracts }), 2, /^Error: --safe-contracts: entry 31337 of .*, safeSingletonAddress: the mixed-case address 0x[0-9a-fA-F]{40} has a wrong EIP-55 checksum/);
      await expectNothingSent(mark);
      const { parseMonitorConfig } = await import("../../src/monitor/config.js");
      expect(() => parseMonitorConfig(`targets:\n  - url: https://a.example\n    app: "${breakChecksum(app)}"\n`, "mon.yaml")).to.throw(/mon\.yaml:3: targets\[0\]\.app: the mixed-case address 0x[0-9a-fA-F]{40} has a wrong EIP-55 checksum/);
      expect(parseMonitorConfig(`targets:\n  - url: https://a.example\n    app: "${app.toLowerCase()}"\n`, "mon.yaml").targets[0]!.app).to.equal(app);
    });
  });

  describe("small things", function () {
    it("safe-status prints one owner per line", async function () {
      const result = await run("safe-status", { safe });
      expect(result.exitCode).to.equal(0);
      expect(result.stdout).to.not.include("\\u000a");
      expect(result.stdout).to.include(`  owners      ${accounts[0]}\n`);
      expect(result.stdout).to.include(`\n              ${accounts[1]}\n              ${accounts[2]}\n`);
    });

    it("a Safe proposal scheduling below the timelock's minimum delay is refused at sign and execute time", async function () {
      const timelock = await freshTimelock("1d", [safe], "anyone");
      const schedule = encodeFunctionData({ abi: timelockControllerAbi, functionName: "schedule", args: [app, 0n, addComposeHashData(bytes32("quick")), `0x${"0".repeat(64)}`, bytes32("salt"), 3600n] });
      const file = await hostileProposal({ to: timelock, data: schedule }, {}, { signers: [accounts[0]!, accounts[2]!] });
      const mark = await chainMark();
      const pattern = new RegExp(`schedules operation 0x[0-9a-f]{64} on timelock ${timelock} with a delay of 1h, below the timelock's minimum delay of 1d`);
      expectError(await run("safe-sign", { proposal: file, from: accounts[1], dryRun: true }), 1, pattern);
      expectError(await run("safe-execute", { proposal: file }), 1, pattern);
      await expectNothingSent(mark);
    });

    it("an operation whose predecessor was cancelled is shown BLOCKED, not ready", async function () {
      const { connection, publicClient } = await chain();
      const timelock = await freshTimelock("1h", [accounts[0]!], "anyone");
      const wallet = await connection.viem.getWalletClient(accounts[0]!);
      const zero = `0x${"0".repeat(64)}` as Hex;
      const send = async (functionName: "schedule" | "cancel", args: readonly unknown[]) =>
        publicClient.waitForTransactionReceipt({ hash: await wallet.writeContract({ address: timelock, abi: timelockControllerAbi, functionName, args } as never) });
      await send("schedule", [app, 0n, "0x1234", zero, bytes32("first"), 3600n]);
      const first = await publicClient.readContract({ address: timelock, abi: timelockControllerAbi, functionName: "hashOperation", args: [app, 0n, "0x1234", zero, bytes32("first")] });
      await send("schedule", [app, 0n, "0x5678", first, bytes32("second"), 3600n]);
      const second = await publicClient.readContract({ address: timelock, abi: timelockControllerAbi, functionName: "hashOperation", args: [app, 0n, "0x5678", first, bytes32("second")] });
      await send("cancel", [first]);
      await timeTravel(7200);
      const one = await run("timelock-status", { timelock, id: second, json: true });
      expect(one.exitCode, one.stdout).to.equal(0);
      expect(one.json).to.deep.include({ state: "ready", blockedBy: { id: first, state: "unset" } });
      const text = await run("timelock-status", { timelock, id: second });
      expect(text.stdout).to.include(`BLOCKED by its predecessor ${first}, which is not scheduled (never, or cancelled): this operation can never execute`);
      const all = await run("timelock-status", { timelock });
      expect(all.stdout).to.include(`- ${second}: BLOCKED by its predecessor ${first}`);
    });
  });
});
