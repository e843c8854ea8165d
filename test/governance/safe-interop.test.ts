/**
 * Safe ecosystem interop on the simulated chain, through the project's tasks: a Safe owned
 * by another Safe (EIP-1271 contract signature, its owners signing its SafeMessage), an
 * owner approving on chain with `approveHash`, and the encodings checked against
 * @safe-global/protocol-kit's own (buildSignatureBytes, preimageSafeTransactionHash,
 * calculateSafeMessageHash) and against the Safe contracts themselves.
 */
import { readFileSync, writeFileSync } from "node:fs";

import { buildContractSignature, buildSignatureBytes, calculateSafeMessageHash, EthSafeSignature, generatePreValidatedSignature, preimageSafeTransactionHash } from "@safe-global/protocol-kit";
import { expect } from "chai";
import { encodeFunctionData, getAddress, keccak256, zeroAddress, type Address, type Hex } from "viem";

import { safeAbi } from "../../src/governance/abi/safe.js";
import { safeMessageSignedData, safeMessageTypedData, safeTxSignedData } from "../../src/governance/contract-signatures.js";
import { buildProposal, proposalTransaction, serializeProposal } from "../../src/governance/proposal.js";
import { safeTransaction, safeTxTypedData } from "../../src/governance/safe-tx.js";
import { approvedHashSignature, packSignatures, unpackSignatures } from "../../src/governance/signatures.js";
import { bytes32, chain, chainMark, composeHashAllowed, expectError, expectNothingSent, freshApp, freshSafe, readProposal, run, safeContractsFile, suiteWorkDir } from "./fixture.js";

describe("governance: Safe owners that are contracts, and on-chain approvals", function () {
  const dir = suiteWorkDir("dstack-gov-interop-");
  let accounts: Address[];
  let safeContracts: string;

  before(async function () {
    ({ accounts } = await chain());
    safeContracts = await safeContractsFile(dir);
  });

  it("a Safe owned by a 1-of-2 Safe plus an EOA: propose (EOA), the owner Safe's owner signs with --owner-safe, execute; encodings equal protocol-kit's", async function () {
    const inner = await freshSafe(safeContracts, [accounts[3]!, accounts[4]!], 1);
    const outer = await freshSafe(safeContracts, [inner, accounts[0]!], 2);
    const app = (await freshApp({ owner: outer })).address;
    const hash = bytes32("nested-1of2");
    const file = dir.file("nested.json");
    const proposed = await run("add-compose-hash", { app, hash, via: "safe", safe: outer, proposalOut: file, json: true });
    expect(proposed.exitCode, proposed.stdout + proposed.stderr).to.equal(0);

    // The owner Safe's owner is not an owner of the outer Safe: told to use --owner-safe.
    const mark = await chainMark();
    expectError(await run("safe-sign", { proposal: file, from: accounts[3] }), 1, new RegExp(`signer ${accounts[3]} is not an owner of Safe ${outer}, but owns its owner Safe ${inner}: sign for it with --owner-safe ${inner}`));
    // One signature of two: the message says how a Safe owner signs.
    expectError(await run("safe-execute", { proposal: file }), 1, /threshold not met: 1 of the 2 .*--owner-safe SAFE.*safe-approve-hash/);
    await expectNothingSent(mark);

    const signed = await run("safe-sign", { proposal: file, from: accounts[3], ownerSafe: inner, json: true });
    expect(signed.exitCode, signed.stdout + signed.stderr).to.equal(0);
    expect(signed.json).to.include({ signed: true, signer: accounts[3], ownerSafe: inner, ownerSafeComplete: true, thresholdMet: true });
    await expectNothingSent(mark); // signing is offline
    const proposal = readProposal(file);
    const entry = proposal.signatures.find((s) => s.signer === inner)!;
    expect(entry).to.deep.include({ kind: "contract" });
    expect(entry.ownerSignatures!.map((s) => s.signer)).to.deep.equal([accounts[3]]);

    // protocol-kit's encodings of the same objects: the preimage, the owner Safe's message hash, the packed bytes.
    const signedData = safeTxSignedData(31337, outer, proposalTransaction(proposal));
    expect(keccak256(signedData.data)).to.equal(proposal.safeTxHash);
    const kitTx = { to: proposal.to, value: proposal.value, data: proposal.data, operation: proposal.operation, safeTxGas: "0", baseGas: "0", gasPrice: "0", gasToken: zeroAddress, refundReceiver: zeroAddress, nonce: Number(proposal.nonce) };
    expect(preimageSafeTransactionHash(outer, kitTx, "1.4.1", 31337n)).to.equal(signedData.data);
    const message = safeMessageSignedData(31337, inner, signedData.data);
    expect(calculateSafeMessageHash(inner, signedData.data, "1.4.1", 31337n)).to.equal(message.hash);
    const { publicClient } = await chain();
    expect(await publicClient.readContract({ address: inner, abi: compatibilityAbi, functionName: "getMessageHash", args: [signedData.data] })).to.equal(message.hash);
    const eoa = proposal.signatures.find((s) => s.signer === accounts[0])!;
    const kitInner = await buildContractSignature([new EthSafeSignature(accounts[3]!, entry.ownerSignatures![0]!.signature)], inner);
    const kitBytes = buildSignatureBytes([kitInner, new EthSafeSignature(accounts[0]!, eoa.signature)]);
    expect(packSignatures(proposal.signatures).toLowerCase()).to.equal(kitBytes.toLowerCase());
    // …and the Safe itself accepts them.
    await publicClient.readContract({ address: outer, abi: safeAbi, functionName: "checkSignatures", args: [proposal.safeTxHash, signedData.data, packSignatures(proposal.signatures)] });

    const executed = await run("safe-execute", { proposal: file, from: accounts[6], json: true });
    expect(executed.exitCode, executed.stdout + executed.stderr).to.equal(0);
    expect(executed.json.signatures).to.have.members([accounts[0], inner]);
    expect(await composeHashAllowed(app, hash)).to.equal(true);
  });

  it("an owner Safe with threshold 2: its first owner's signature is kept but not counted; the second completes it", async function () {
    const inner = await freshSafe(safeContracts, [accounts[3]!, accounts[4]!], 2);
    const outer = await freshSafe(safeContracts, [inner, accounts[0]!], 2);
    const app = (await freshApp({ owner: outer })).address;
    const hash = bytes32("nested-2of2");
    const file = dir.file("nested2.json");
    expect((await run("add-compose-hash", { app, hash, via: "safe", safe: outer, proposalOut: file })).exitCode).to.equal(0);
    const first = await run("safe-sign", { proposal: file, from: accounts[3], ownerSafe: inner, json: true });
    expect(first.json, first.stdout).to.include({ signed: true, ownerSafeComplete: false, thresholdMet: false });
    const text = await run("safe-sign", { proposal: file, from: accounts[4], ownerSafe: inner, dryRun: true });
    // --owner-safe is checked on a dry run too: the signer must own the owner Safe, which must own the Safe.
    expectError(await run("safe-sign", { proposal: file, from: accounts[7], ownerSafe: inner, dryRun: true }), 1, new RegExp(`signer ${accounts[7]} is not an owner of Safe ${inner}`));
    expectError(await run("safe-sign", { proposal: file, from: accounts[3], ownerSafe: accounts[5], dryRun: true }), 1, new RegExp(`--owner-safe: ${accounts[5]} is not an owner of Safe ${outer}`));
    expect(text.stdout).to.include(`owner Safe ${inner}: 1 of its 2 owner signatures so far (not counted yet)`);
    expectError(await run("safe-execute", { proposal: file }), 1, new RegExp(`1 more needed from ${inner} \\(a Safe: 1 of its 2 owner signatures\\)`));
    expectError(await run("safe-sign", { proposal: file, from: accounts[3], ownerSafe: inner }), 1, new RegExp(`${accounts[3]} has already signed for owner Safe ${inner}`));
    const second = await run("safe-sign", { proposal: file, from: accounts[4], ownerSafe: inner, json: true });
    expect(second.json, second.stdout).to.include({ ownerSafeComplete: true, thresholdMet: true });
    expect(readProposal(file).signatures.find((s) => s.signer === inner)!.ownerSignatures!.map((s) => s.signer)).to.deep.equal([accounts[3], accounts[4]]);
    expect((await run("safe-execute", { proposal: file })).exitCode).to.equal(0);
    expect(await composeHashAllowed(app, hash)).to.equal(true);
  });

  it("a forged owner Safe signature is refused: a non-owner of the owner Safe, edited bytes, a contract that does not accept it", async function () {
    const inner = await freshSafe(safeContracts, [accounts[3]!, accounts[4]!], 1);
    const outer = await freshSafe(safeContracts, [inner, accounts[0]!], 2);
    const app = (await freshApp({ owner: outer })).address;
    const file = dir.file("forged.json");
    expect((await run("add-compose-hash", { app, hash: bytes32("forged"), via: "safe", safe: outer, proposalOut: file })).exitCode).to.equal(0);
    const proposal = readProposal(file);
    const { connection } = await chain();
    const signedData = safeTxSignedData(31337, outer, proposalTransaction(proposal));
    const stranger = await connection.viem.getWalletClient(accounts[7]!);
    const signature = await stranger.signTypedData({ account: stranger.account, ...safeMessageTypedData(31337, inner, signedData.data) });
    const strangerEntry = { signer: inner, kind: "contract" as const, signature, ownerSignatures: [{ signer: accounts[7]!, signature }] };
    const write = (signatures: unknown[]) => writeFileSync(file, JSON.stringify({ ...proposal, signatures }));
    write([...proposal.signatures, strangerEntry]);
    expectError(await run("safe-execute", { proposal: file }), 1, new RegExp(`signature 2: owner signature 1 is by ${accounts[7]}, which is not an owner of Safe ${inner}`));
    // Raw contract bytes (no nested list) that the owner Safe does not accept.
    write([...proposal.signatures, { signer: inner, kind: "contract", signature }]);
    expectError(await run("safe-execute", { proposal: file }), 1, new RegExp(`signature 2 \\(contract owner ${inner}\\) is not accepted by ${inner}: its isValidSignature reverted \\(GS026\\)`));
    // A contract signature claimed for an EOA owner.
    write([{ signer: accounts[0], kind: "contract", signature: "0x" }]);
    expectError(await run("safe-execute", { proposal: file }), 1, new RegExp(`signature 1 \\(contract owner ${accounts[0]}\\) is not accepted by ${accounts[0]}: it returned nothing`));
  });

  it("an owner that approves on chain (approveHash): safe-approve-hash, then safe-execute counts it (v = 1)", async function () {
    const safe = await freshSafe(safeContracts, [accounts[0]!, accounts[5]!], 2);
    const app = (await freshApp({ owner: safe })).address;
    const hash = bytes32("approve-hash");
    const file = dir.file("approve.json");
    expect((await run("add-compose-hash", { app, hash, via: "safe", safe, proposalOut: file })).exitCode).to.equal(0);
    const before = readFileSync(file, "utf8");
    const mark = await chainMark();
    const dry = await run("safe-approve-hash", { proposal: file, from: accounts[5], dryRun: true, json: true });
    expect(dry.json, dry.stdout).to.include({ approved: false, dryRun: true });
    await expectNothingSent(mark);
    expectError(await run("safe-approve-hash", { proposal: file, from: accounts[7] }), 1, new RegExp(`signer ${accounts[7]} is not an owner of Safe ${safe}`));
    await expectNothingSent(mark);

    const approved = await run("safe-approve-hash", { proposal: file, from: accounts[5], json: true });
    expect(approved.exitCode, approved.stdout + approved.stderr).to.equal(0);
    expect(approved.json).to.include({ approved: true, approver: accounts[5], thresholdMet: true });
    expect(readFileSync(file, "utf8")).to.equal(before); // the file is not changed
    const { publicClient } = await chain();
    const proposal = readProposal(file);
    expect(await publicClient.readContract({ address: safe, abi: safeAbi, functionName: "approvedHashes", args: [accounts[5]!, proposal.safeTxHash] })).to.equal(1n);
    const again = await run("safe-approve-hash", { proposal: file, from: accounts[5], json: true });
    expect(again.json).to.include({ approved: false, alreadySigned: true });

    const shown = await run("safe-execute", { proposal: file, dryRun: true });
    expect(shown.stdout).to.include(`approved on chain (approveHash, counted): ${accounts[5]}`);
    const executed = await run("safe-execute", { proposal: file, from: accounts[6], json: true });
    expect(executed.exitCode, executed.stdout + executed.stderr).to.equal(0);
    expect(executed.json.approvedOnChain).to.deep.equal([accounts[5]]);
    expect(await composeHashAllowed(app, hash)).to.equal(true);
  });

  it("an owner Safe approves on chain through its own proposal (safe-approve-hash --via safe), as Safe{Wallet} does for nested Safes", async function () {
    const inner = await freshSafe(safeContracts, [accounts[3]!, accounts[4]!], 1);
    const outer = await freshSafe(safeContracts, [inner, accounts[0]!], 2);
    const app = (await freshApp({ owner: outer })).address;
    const hash = bytes32("nested-approve");
    const file = dir.file("outer.json");
    expect((await run("add-compose-hash", { app, hash, via: "safe", safe: outer, proposalOut: file })).exitCode).to.equal(0);
    const innerFile = dir.file("inner-approve.json");
    const mark = await chainMark();
    const proposed = await run("safe-approve-hash", { proposal: file, via: "safe", safe: inner, from: accounts[3], proposalOut: innerFile, json: true });
    expect(proposed.exitCode, proposed.stdout + proposed.stderr).to.equal(0);
    expect(proposed.json).to.include({ proposed: true, approver: inner, safe: inner });
    await expectNothingSent(mark);
    const innerProposal = readProposal(innerFile);
    const outerHash = readProposal(file).safeTxHash;
    expect(innerProposal).to.include({ safe: inner, to: outer });
    expect(innerProposal.data).to.equal(encodeFunctionData({ abi: safeAbi, functionName: "approveHash", args: [outerHash] }));
    // The Safe that approves must be an owner.
    const stranger = await freshSafe(safeContracts, [accounts[3]!], 1);
    expectError(await run("safe-approve-hash", { proposal: file, via: "safe", safe: stranger, from: accounts[3] }), 1, new RegExp(`signer ${stranger} is not an owner of Safe ${outer}`));

    expect((await run("safe-execute", { proposal: innerFile })).exitCode).to.equal(0);
    const executed = await run("safe-execute", { proposal: file, json: true });
    expect(executed.exitCode, executed.stdout + executed.stderr).to.equal(0);
    expect(executed.json.approvedOnChain).to.deep.equal([inner]);
    expect(await composeHashAllowed(app, hash)).to.equal(true);
  });

  it("an owner Safe without a fallback handler cannot sign (it cannot answer isValidSignature): told to approve on chain instead", async function () {
    const inner = await freshSafe(safeContracts, [accounts[3]!], 1);
    const outer = await freshSafe(safeContracts, [inner, accounts[0]!], 2);
    // The inner Safe removes its fallback handler (a Safe transaction signed by its only owner).
    const { connection } = await chain();
    const wallet = await connection.viem.getWalletClient(accounts[3]!);
    const tx = safeTransaction({ to: inner, value: 0n, data: encodeFunctionData({ abi: safeAbi, functionName: "setFallbackHandler", args: [zeroAddress] }), operation: 0 }, 0n);
    const signature = await wallet.signTypedData({ account: wallet.account, ...safeTxTypedData(31337, inner, tx) });
    const removal = dir.file("no-handler.json");
    writeFileSync(removal, serializeProposal({ ...buildProposal({ chainId: 31337, safe: inner, tx, summaries: [], proposedBy: accounts[3]! }), signatures: [{ signer: accounts[3]!, signature }] }));
    expect((await run("safe-execute", { proposal: removal })).exitCode).to.equal(0);

    const app = (await freshApp({ owner: outer })).address;
    const file = dir.file("no-handler-outer.json");
    expect((await run("add-compose-hash", { app, hash: bytes32("no-handler"), via: "safe", safe: outer, proposalOut: file })).exitCode).to.equal(0);
    const before = readFileSync(file, "utf8");
    expectError(
      await run("safe-sign", { proposal: file, from: accounts[3], ownerSafe: inner }),
      1,
      new RegExp(`owner Safe ${inner} has no fallback handler, so it cannot answer isValidSignature .* safe-approve-hash --proposal FILE --via safe --safe ${inner}`),
    );
    expect(readFileSync(file, "utf8")).to.equal(before);
  });

  it("packing: an approval is r = owner, v = 1; contract entries follow the static part at their offsets; unpacking inverts it", function () {
    const a = getAddress("0x00000000000000000000000000000000000000aa");
    const b = getAddress("0x00000000000000000000000000000000000000bb");
    const approval = approvedHashSignature(b);
    expect(approval.signature).to.equal(`0x${"0".repeat(24)}${b.slice(2)}${"0".repeat(64)}01`);
    expect(approval.signature).to.equal(generatePreValidatedSignature(b).data);
    const packed = packSignatures([approval, { signer: a, kind: "contract", signature: "0x1234" }]);
    expect(packed).to.equal(buildSignatureBytes([new EthSafeSignature(a, "0x1234", true), new EthSafeSignature(b, approval.signature)]));
    expect(unpackSignatures(packed)).to.deep.equal([
      { kind: "contract", signer: a, signature: "0x1234" },
      { kind: "approvedHash", signer: b },
    ]);
    expect(() => unpackSignatures(`${packed.slice(0, -4)}` as Hex)).to.throw(/cut short/);
    // A contract entry whose offset points into the static part, or whose r is not an address: refused.
    const inside = `0x${"0".repeat(24)}${a.slice(2)}${"0".repeat(62)}20${"00"}${"0".repeat(64)}` as Hex;
    expect(() => unpackSignatures(inside, 1)).to.throw(/points outside the signatures \(offset 32\)/);
    expect(() => unpackSignatures(`0x${"f".repeat(64)}${"0".repeat(64)}01` as Hex, 1)).to.throw(/does not carry an address in r/);
    expect(() => unpackSignatures("0x1234" as Hex, 1)).to.throw(/signature 1 is cut short/);
  });
});

const compatibilityAbi = [
  { type: "function", name: "getMessageHash", stateMutability: "view", inputs: [{ name: "message", type: "bytes" }], outputs: [{ name: "", type: "bytes32" }] },
] as const;
