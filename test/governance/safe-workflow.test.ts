/**
 * The multisig workflow end to end on the simulated chain, through the project's tasks:
 * a 2-of-3 Safe (real Safe v1.4.1 contracts) owns an app; one owner proposes a compose
 * hash, a second owner checks and signs, anyone executes; the app's state is read back.
 * And what must be refused: threshold not met, a second execution, a non-owner's
 * signature, an edited proposal file, the direct route on a Safe-owned app.
 */
import { existsSync } from "node:fs";

import { expect } from "chai";
import { decodeFunctionData, getAddress, type Address, type Hex } from "viem";

import { dstackAppAbi } from "../../src/abi/dstack-app.js";
import { safeAbi } from "../../src/governance/abi/safe.js";
import { safeTxHash } from "../../src/governance/safe-tx.js";
import { proposalTransaction } from "../../src/governance/proposal.js";
import { transactionBuilderChecksum, type TransactionBuilderBatch } from "../../src/governance/tx-builder.js";
import {
  bytes32,
  chain,
  chainMark,
  composeHashAllowed,
  expectError,
  expectNothingSent,
  freshApp,
  freshSafe,
  ownerOf,
  readProposal,
  run,
  safeContractsFile,
  suiteWorkDir,
  writeProposal,
} from "./fixture.js";

describe("governance: a 2-of-3 Safe manages an app", function () {
  const dir = suiteWorkDir("dstack-gov-safe-");

  let accounts: Address[];
  let safeContracts: string;
  let safe: Address;
  let app: Address;

  before(async function () {
    ({ accounts } = await chain());
    safeContracts = await safeContractsFile(dir);
    safe = await freshSafe(safeContracts, [accounts[0]!, accounts[1]!, accounts[2]!], 2);
    app = (await freshApp()).address;
    // Hand the app to the Safe: two-step, the Safe accepts through its own proposal.
    expect((await run("transfer-ownership", { app, to: safe })).exitCode).to.equal(0);
    const accept = dir.file("accept.json");
    expect((await run("accept-ownership", { app, via: "safe", safe, proposalOut: accept })).exitCode).to.equal(0);
    expect((await run("safe-sign", { proposal: accept, from: accounts[1] })).exitCode).to.equal(0);
    expect((await run("safe-execute", { proposal: accept })).exitCode).to.equal(0);
    expect((await ownerOf(app)).owner).to.equal(safe);
  });

  it("safe-status shows owners, threshold and nonce", async function () {
    const result = await run("safe-status", { safe, json: true });
    expect(result.exitCode, result.stderr).to.equal(0);
    expect(result.json).to.include({ ok: true, address: safe, version: "1.4.1", threshold: "2", nonce: "1", singletonRelease: "Safe 1.4.1" });
    expect(result.json.owners).to.deep.equal([accounts[0], accounts[1], accounts[2]]);
    const text = await run("safe-status", { safe });
    expect(text.stdout).to.match(/threshold\s+2 of 3/);
  });

  it("end to end: propose (owner 1 signs), threshold not met, owner 2 signs, a non-owner executes; the hash is allowed", async function () {
    const hash = bytes32("safe-e2e");
    const file = dir.file("add-hash.json");
    const mark = await chainMark();
    const proposed = await run("add-compose-hash", { app, hash, via: "safe", safe, proposalOut: file, json: true });
    expect(proposed.exitCode, proposed.stdout + proposed.stderr).to.equal(0);
    expect(proposed.json).to.include({ ok: true, proposed: true, sent: false, safe, proposal: file, nonce: "1" });
    await expectNothingSent(mark); // a proposal is signed, not sent
    expect(await composeHashAllowed(app, hash)).to.equal(false);

    const proposal = readProposal(file);
    expect(proposal).to.include({ chainId: 31337, safe, to: app, value: "0", operation: 0, nonce: "1", safeTxGas: "0", proposedBy: accounts[0] });
    expect(decodeFunctionData({ abi: dstackAppAbi, data: proposal.data })).to.deep.include({ functionName: "addComposeHash", args: [hash] });
    expect(proposal.safeTxHash).to.equal(safeTxHash(31337, safe, proposalTransaction(proposal)));
    const { publicClient } = await chain();
    const onChain = await publicClient.readContract({
      address: safe,
      abi: safeAbi,
      functionName: "getTransactionHash",
      args: [app, 0n, proposal.data, 0, 0n, 0n, 0n, proposal.gasToken, proposal.refundReceiver, 1n],
    });
    expect(onChain).to.equal(proposal.safeTxHash);
    expect(proposal.actions).to.deep.equal([
      { step: "1", operation: "call", to: app, value: "0", call: `addComposeHash(composeHash=${hash})`, description: `allow compose hash ${hash} on app ${app}` },
    ]);
    expect(proposal.summaries).to.deep.equal([`allow compose hash ${hash} on app ${app}`]);
    expect(proposal.signatures.map((s) => s.signer)).to.deep.equal([accounts[0]]);

    // One signature of two: refused with who signed and who still can.
    const early = await run("safe-execute", { proposal: file });
    expectError(early, 1, new RegExp(`threshold not met: 1 of the 2 required signatures of Safe ${safe} \\(signed by ${accounts[0]}\\); 1 more needed from ${accounts[1]}, ${accounts[2]}`));
    await expectNothingSent(mark);

    // Owner 2 sees what it signs: the decoded action, the hash, the proposer's summary.
    const shown = await run("safe-sign", { proposal: file, from: accounts[1], dryRun: true });
    expect(shown.exitCode, shown.stderr).to.equal(0);
    expect(shown.stdout).to.include(`safeTxHash ${proposal.safeTxHash}`);
    expect(shown.stdout).to.include(`1. allow compose hash ${hash} on app ${app}`);
    expect(shown.stdout).to.include("dry run: not signed");
    expect(readProposal(file).signatures).to.have.length(1);
    const signed = await run("safe-sign", { proposal: file, from: accounts[1], json: true });
    expect(signed.exitCode, signed.stdout).to.equal(0);
    expect(signed.json).to.include({ signed: true, signer: accounts[1], thresholdMet: true });
    expect(readProposal(file).signatures.map((s) => s.signer)).to.deep.equal([accounts[0], accounts[1]]);
    // Signing twice adds nothing.
    const again = await run("safe-sign", { proposal: file, from: accounts[1], json: true });
    expect(again.json).to.include({ signed: false, alreadySigned: true });

    // Anyone may execute once the threshold is met: here an account that is not an owner.
    const executed = await run("safe-execute", { proposal: file, from: accounts[5], json: true });
    expect(executed.exitCode, executed.stdout + executed.stderr).to.equal(0);
    expect(executed.json.transaction.events.map((e: { event: string }) => e.event)).to.include.members([`ComposeHashAdded(composeHash=${hash})`]);
    expect(await composeHashAllowed(app, hash)).to.equal(true);

    // An executed proposal cannot execute (nor be signed) again.
    const mark2 = await chainMark();
    expectError(await run("safe-execute", { proposal: file }), 1, /nonce 1 was already used \(Safe 0x[0-9a-fA-F]{40} is at nonce 2\): this proposal was executed or replaced and cannot be executed/);
    expectError(await run("safe-sign", { proposal: file, from: accounts[2] }), 1, /nonce 1 was already used .* cannot be signed/);
    await expectNothingSent(mark2);
  });

  it("several calls become one MultiSendCallOnly batch, decoded call by call; Transaction Builder export has a valid checksum", async function () {
    const devices = [bytes32("device-a"), bytes32("device-b")];
    const file = dir.file("devices.json");
    const builder = dir.file("builder.json");
    const result = await run("add-device", { app, device: devices.join(","), via: "safe", safe, proposalOut: file, exportTxBuilder: builder, safeContracts, json: true });
    expect(result.exitCode, result.stdout + result.stderr).to.equal(0);
    const proposal = readProposal(file);
    expect(proposal.operation).to.equal(1);
    const contracts = JSON.parse((await import("node:fs")).readFileSync(safeContracts, "utf8"))["31337"];
    expect(proposal.to).to.equal(contracts.multiSendCallOnlyAddress);
    expect(proposal.actions.map((a) => [a.step, a.operation, a.description])).to.deep.equal([
      ["1", "delegatecall", `batch of 2 calls through MultiSendCallOnly ${proposal.to}, executed in order, all or nothing`],
      ["1.1", "call", `allow device ${devices[0]} on app ${app}`],
      ["1.2", "call", `allow device ${devices[1]} on app ${app}`],
    ]);
    const batch = JSON.parse((await import("node:fs")).readFileSync(builder, "utf8")) as TransactionBuilderBatch;
    expect(batch).to.deep.include({ version: "1.0", chainId: "31337" });
    expect(batch.meta.createdFromSafeAddress).to.equal(safe);
    expect(batch.meta.checksum).to.equal(transactionBuilderChecksum(batch));
    expect(batch.transactions.map((t) => t.to)).to.deep.equal([app, app]);
    expect(batch.transactions.map((t) => decodeFunctionData({ abi: dstackAppAbi, data: t.data as Hex }).args)).to.deep.equal(devices.map((d) => [d]));

    expect((await run("safe-sign", { proposal: file, from: accounts[2] })).exitCode).to.equal(0);
    expect((await run("safe-execute", { proposal: file })).exitCode).to.equal(0);
    const { publicClient } = await chain();
    for (const device of devices) expect(await publicClient.readContract({ address: app, abi: dstackAppAbi, functionName: "allowedDeviceIds", args: [device] })).to.equal(true);
  });

  it("a batch without --safe-contracts on a chain with no canonical Safe deployment: exit 1 naming --safe-contracts, nothing written", async function () {
    const file = dir.file("no-contracts.json");
    const result = await run("add-device", { app, device: `${bytes32("x1")},${bytes32("x2")}`, via: "safe", safe, proposalOut: file });
    expectError(result, 1, /no MultiSendCallOnly at 0x9641d764fc13c8B624c04430C7356C1C7C8102e2 on chain 31337; deploy the Safe contracts .* --safe-contracts FILE/);
    expect(existsSync(file)).to.equal(false);
  });

  it("an edited proposal fails: data edited (hash mismatch), data and hash edited (signature mismatch), actions edited (decoding mismatch)", async function () {
    const hash = bytes32("tamper");
    const file = dir.file("tamper.json");
    expect((await run("add-compose-hash", { app, hash, via: "safe", safe, proposalOut: file })).exitCode).to.equal(0);
    const original = readProposal(file);
    const evil = bytes32("evil");
    const evilData = original.data.replace(hash.slice(2), evil.slice(2)) as Hex;
    const mark = await chainMark();

    const dataOnly = dir.file("tamper-data.json");
    writeProposal(dataOnly, { ...original, data: evilData });
    expectError(await run("safe-sign", { proposal: dataOnly, from: accounts[1] }), 1, /the safeTxHash 0x[0-9a-f]{64} does not match the proposal's fields .* the file was edited after it was written; do not sign it/);
    expectError(await run("safe-execute", { proposal: dataOnly }), 1, /does not match the proposal's fields/);

    // The forger also recomputes the hash and the readable actions: the proposer's signature no longer matches.
    const forged = { ...original, data: evilData };
    forged.safeTxHash = safeTxHash(31337, safe, proposalTransaction(forged));
    forged.actions = [{ ...original.actions[0]!, call: `addComposeHash(composeHash=${evil})`, description: `allow compose hash ${evil} on app ${app}` }];
    const both = dir.file("tamper-both.json");
    writeProposal(both, forged);
    const refused = await run("safe-sign", { proposal: both, from: accounts[1], json: true });
    expect(refused.exitCode).to.equal(1);
    expect(refused.json.error.code).to.equal("INVALID_SIGNATURE");
    expect(refused.json.error.message).to.match(new RegExp(`signature 1 claims to be by ${accounts[0]} but recovers to 0x[0-9a-fA-F]{40}: it does not sign this proposal's safeTxHash`));

    // Only the readable text edited: the data decodes to something else.
    const text = dir.file("tamper-text.json");
    writeProposal(text, { ...original, actions: [{ ...original.actions[0]!, description: "allow nothing, really" }] });
    expectError(await run("safe-sign", { proposal: text, from: accounts[1] }), 1, /action 1 in the file does not match the transaction data: the file says "allow nothing, really/);

    // Not JSON / wrong field type: input errors (exit 2) naming the file and field.
    writeProposal(text, { ...original, nonce: 1 });
    expectError(await run("safe-sign", { proposal: text, from: accounts[1] }), 2, /--proposal .*tamper-text\.json: field "nonce" must be a non-negative integer as a decimal string/);
    await expectNothingSent(mark);
    expect(readProposal(file).signatures).to.have.length(1);
  });

  it("the proposer's unchecked summary cannot rewrite the signer's screen: control and bidi characters are shown escaped", async function () {
    const file = dir.file("escapes.json");
    const hash = bytes32("escapes");
    expect((await run("add-compose-hash", { app, hash, via: "safe", safe, proposalOut: file })).exitCode).to.equal(0);
    // Cursor up, erase line, a fake line, and a right-to-left override: what a forger would try.
    const forged = "\u001b[1A\u001b[2K1. allow compose hash 0xgood\r\u202eevil";
    writeProposal(file, { ...readProposal(file), summaries: [forged] });
    const shown = await run("safe-sign", { proposal: file, from: accounts[1], dryRun: true });
    expect(shown.exitCode, shown.stderr).to.equal(0);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserts that no control character reaches the terminal output
    expect(shown.stdout).to.not.match(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(shown.stdout).to.include("  ┆  1. \\u001b[1A\\u001b[2K1. allow compose hash 0xgood\\u000d\\u202eevil");
    expect(shown.stdout).to.include(`1. allow compose hash ${hash} on app ${app}`);
    // --json keeps the text as it is (JSON escapes it), for programs that read it.
    expect((await run("safe-sign", { proposal: file, from: accounts[1], dryRun: true, json: true })).json.summaries).to.deep.equal([forged]);
  });

  it("a non-owner cannot sign, and a signature by a non-owner in the file is refused", async function () {
    const file = dir.file("stranger.json");
    expect((await run("add-compose-hash", { app, hash: bytes32("stranger"), via: "safe", safe, proposalOut: file })).exitCode).to.equal(0);
    const stranger = accounts[7]!;
    const result = await run("safe-sign", { proposal: file, from: stranger, json: true });
    expect(result.exitCode).to.equal(1);
    expect(result.json.error.code).to.equal("NOT_SAFE_OWNER");
    expect(result.json.error.message).to.include(`signer ${stranger} is not an owner of Safe ${safe}`);

    // A stranger's valid EIP-712 signature smuggled into the file.
    const { connection } = await chain();
    const wallet = await connection.viem.getWalletClient(stranger);
    const proposal = readProposal(file);
    const { safeTxTypedData } = await import("../../src/governance/safe-tx.js");
    const signature = await wallet.signTypedData({ account: wallet.account, ...safeTxTypedData(31337, safe, proposalTransaction(proposal)) });
    writeProposal(file, { ...proposal, signatures: [...proposal.signatures, { signer: stranger, signature }] });
    const mark = await chainMark();
    expectError(await run("safe-execute", { proposal: file }), 1, new RegExp(`signature 2 is by ${stranger}, which is not an owner of the Safe`));
    await expectNothingSent(mark);
  });

  it("a proposal that DELEGATECALLs anything but a MultiSendCallOnly release is refused, even when consistent and signed", async function () {
    const { connection } = await chain();
    const { buildProposal, serializeProposal } = await import("../../src/governance/proposal.js");
    const { encodeMultiSendCall } = await import("../../src/governance/multisend.js");
    const { safeTransaction, safeTxTypedData } = await import("../../src/governance/safe-tx.js");
    const { publicClient } = await chain();
    const nonce = await publicClient.readContract({ address: safe, abi: safeAbi, functionName: "nonce" });
    // The app contract posing as "MultiSend": the batch decodes, but the target's code is not MultiSendCallOnly.
    const tx = safeTransaction({ to: app, value: 0n, data: encodeMultiSendCall([{ to: app, value: 0n, data: "0x" }]), operation: 1 }, nonce);
    const proposal = buildProposal({ chainId: 31337, safe, tx, summaries: ["harmless batch"], proposedBy: accounts[0]! });
    const wallet = await connection.viem.getWalletClient(accounts[0]!);
    const signature = await wallet.signTypedData({ account: wallet.account, ...safeTxTypedData(31337, safe, tx) });
    const file = dir.file("delegatecall.json");
    (await import("node:fs")).writeFileSync(file, serializeProposal({ ...proposal, signatures: [{ signer: accounts[0]!, signature }] }));
    const mark = await chainMark();
    expectError(await run("safe-sign", { proposal: file, from: accounts[1] }), 1, new RegExp(`the contract at ${app} is not a MultiSendCallOnly release \\(code hash 0x[0-9a-f]{64}\\): a proposal must not DELEGATECALL it`));
    await expectNothingSent(mark);
  });

  it("the owner is a Safe: --via direct is refused naming the Safe and suggesting --via safe --safe; a proposer that is not an owner is refused", async function () {
    const other = await freshSafe(safeContracts, [accounts[0]!], 1);
    const mark = await chainMark();
    expectError(
      await run("add-compose-hash", { app, hash: bytes32("direct") }),
      1,
      new RegExp(`^Error: signer ${accounts[0]} is not the owner of ${app}; the owner is ${safe}, a Safe \\(2 of 3 owners\\): propose the change with --via safe --safe ${safe}$`),
    );
    expectError(
      await run("set-allow-any-device", { app, value: "true", via: "safe", safe, from: accounts[6] }),
      1,
      new RegExp(`signer ${accounts[6]} is not an owner of Safe ${safe}`),
    );
    // The Safe must be the owner on --via safe: another Safe is refused, naming the real one.
    expectError(
      await run("disable-upgrades", { app, via: "safe", safe: other, yes: true }),
      1,
      new RegExp(`--via safe: Safe ${other} is not the owner of ${app}; the owner is ${safe}, a Safe \\(2 of 3 owners\\): propose the change with --via safe --safe ${safe}`),
    );
    // Irreversible changes still need --yes on a governance route.
    expectError(await run("disable-upgrades", { app, via: "safe", safe }), 2, /irreversible.*--yes/);
    await expectNothingSent(mark);
  });

  it("a KMS owned by the Safe, and an upgrade whose new implementation the signer deploys first", async function () {
    const { viem } = await chain();
    const { deployKmsProxy } = await import("../support/contracts.js");
    const kms = getAddress((await deployKmsProxy(viem, safe)).proxy.address);
    const image = bytes32("os-image");
    const imageFile = dir.file("os-image.json");
    expect((await run("add-os-image", { kms, image, via: "safe", safe, proposalOut: imageFile })).exitCode).to.equal(0);
    expect(readProposal(imageFile).actions[0]!.description).to.equal(`allow OS image ${image} on KMS ${kms}`);
    await run("safe-sign", { proposal: imageFile, from: accounts[1] });
    expect((await run("safe-execute", { proposal: imageFile })).exitCode).to.equal(0);
    const { publicClient } = await chain();
    const { dstackKmsAbi } = await import("../../src/abi/dstack-kms.js");
    expect(await publicClient.readContract({ address: kms, abi: dstackKmsAbi, functionName: "allowedOsImages", args: [image] })).to.equal(true);

    const upgradeFile = dir.file("upgrade.json");
    const upgrade = await run("upgrade-app", { app, deployImplementation: true, via: "safe", safe, proposalOut: upgradeFile, json: true });
    expect(upgrade.exitCode, upgrade.stdout + upgrade.stderr).to.equal(0);
    const implementation = upgrade.json.deployedImplementation.address;
    expect(readProposal(upgradeFile).actions[0]!.description).to.equal(`upgrade ${app} to implementation ${implementation}`);
    await run("safe-sign", { proposal: upgradeFile, from: accounts[2] });
    expect((await run("safe-execute", { proposal: upgradeFile })).exitCode).to.equal(0);
    const { ERC1967_IMPLEMENTATION_SLOT } = await import("../../src/chain/app-state.js");
    const slot = await publicClient.getStorageAt({ address: app, slot: ERC1967_IMPLEMENTATION_SLOT });
    expect(getAddress(`0x${slot!.slice(-40)}`)).to.equal(implementation);
    // --deploy-implementation on a route whose executor is not the owner deploys nothing.
    const other = await freshSafe(safeContracts, [accounts[0]!], 1);
    const mark = await chainMark();
    expectError(await run("upgrade-app", { app, deployImplementation: true, via: "safe", safe: other }), 1, new RegExp(`--via safe: Safe ${other} is not the owner of ${app}`));
    await expectNothingSent(mark);
  });

  it("route options are validated before anything is read or written", async function () {
    const mark = await chainMark();
    const hash = bytes32("flags");
    expectError(await run("add-compose-hash", { app, hash, safe }), 2, /^Error: --safe only applies with --via safe or --via safe,timelock$/);
    expectError(await run("add-compose-hash", { app, hash, via: "safe" }), 2, /^Error: --safe is required with --via safe/);
    expectError(await run("add-compose-hash", { app, hash, via: "multisig", safe }), 2, /^Error: --via: expected direct, safe, timelock or safe,timelock/);
    expectError(await run("add-compose-hash", { app, hash, via: "safe", safe, salt: bytes32("s") }), 2, /^Error: --salt only applies with --via timelock or --via safe,timelock$/);
    expectError(await run("add-compose-hash", { app, hash, via: "safe", safe: "0x1234" }), 2, /^Error: --safe: expected a 0x-prefixed 20-byte address/);
    expectError(await run("add-compose-hash", { app, hash, via: "safe", safe, safeNonce: "-1" }), 2, /^Error: --safe-nonce: expected a non-negative integer/);
    expectError(await run("add-compose-hash", { app, hash, via: "safe", safe, proposeToService: "ftp://x" }), 2, /--propose-to-service: expected an http\(s\) URL/);
    expectError(await run("safe-sign", {}), 2, /^Error: --proposal is required/);
    expectError(await run("safe-sign", { proposal: dir.file("missing.json") }), 2, /^Error: --proposal: cannot read .*missing\.json \(ENOENT\)$/);
    await expectNothingSent(mark);
  });

  it("--dry-run on the Safe route shows the proposal and its hash, signs and writes nothing", async function () {
    const file = dir.file("dry.json");
    const hash = bytes32("dry");
    const result = await run("add-compose-hash", { app, hash, via: "safe", safe, proposalOut: file, dryRun: true });
    expect(result.exitCode, result.stderr).to.equal(0);
    expect(result.stdout).to.include("dry run: would propose to the Safe (nothing signed, written or sent)");
    expect(result.stdout).to.include(`allow compose hash ${hash} on app ${app}`);
    expect(existsSync(file)).to.equal(false);
  });

  it("the default proposal file is named after the safeTxHash", async function () {
    const cwd = process.cwd();
    process.chdir(dir.dir);
    try {
      const result = await run("add-compose-hash", { app, hash: bytes32("default-name"), via: "safe", safe, json: true });
      expect(result.exitCode, result.stdout).to.equal(0);
      expect(result.json.proposal).to.equal(`safe-tx-${result.json.safeTxHash}.json`);
      expect(existsSync(result.json.proposal)).to.equal(true);
    } finally {
      process.chdir(cwd);
    }
  });

  it("a queued proposal (--safe-nonce) cannot execute before the earlier nonce", async function () {
    const { publicClient } = await chain();
    const nonce = await publicClient.readContract({ address: safe, abi: safeAbi, functionName: "nonce" });
    const later = dir.file("later.json");
    expect((await run("add-compose-hash", { app, hash: bytes32("later"), via: "safe", safe, safeNonce: String(nonce + 1n), proposalOut: later })).exitCode).to.equal(0);
    expect((await run("safe-sign", { proposal: later, from: accounts[2] })).exitCode).to.equal(0);
    expectError(await run("safe-execute", { proposal: later }), 1, new RegExp(`nonce ${nonce + 1n} is not next \\(Safe ${getAddress(safe)} is at nonce ${nonce}\\): execute the proposals with nonces ${nonce}\\.\\.${nonce} first`));
    expectError(await run("add-compose-hash", { app, hash: bytes32("old"), via: "safe", safe, safeNonce: "0" }), 1, /--safe-nonce: nonce 0 was already used/);
  });
});
