/**
 * `safe-import`: Safe transactions made elsewhere — by @safe-global/protocol-kit, or held by
 * a transaction service (a loopback HTTP stand-in answering as the service does) — become
 * proposal files that the toolkit's owners co-sign and execute. Nothing imported is
 * trusted: the hash is recomputed, each signature checked against the owners.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import protocolKit, { buildContractSignature, buildSignatureBytes, EthSafeSignature } from "@safe-global/protocol-kit";
import { expect } from "chai";
import { encodeFunctionData, type Address, type Hex } from "viem";

import { dstackAppAbi } from "../../src/abi/dstack-app.js";
import { safeMessageTypedData, safeTxSignedData } from "../../src/governance/contract-signatures.js";
import { proposalTransaction } from "../../src/governance/proposal.js";
import { bytes32, chain, chainMark, composeHashAllowed, expectError, expectNothingSent, freshApp, freshSafe, readProposal, run, safeContractsFile, suiteWorkDir } from "./fixture.js";

const Safe = ((protocolKit as unknown as { default?: typeof protocolKit.default }).default ?? protocolKit) as typeof protocolKit.default;

describe("governance: importing Safe transactions (protocol-kit JSON, a transaction service)", function () {
  const dir = suiteWorkDir("dstack-gov-import-");
  let accounts: Address[];
  let safeContracts: string;
  let contractNetworks: Record<string, unknown>;
  let safe: Address;
  let app: Address;
  let server: Server;
  let url: string;
  const answers = new Map<string, unknown>();
  const requested: string[] = [];

  before(async function () {
    ({ accounts } = await chain());
    safeContracts = await safeContractsFile(dir);
    contractNetworks = JSON.parse(readFileSync(safeContracts, "utf8"));
    safe = await freshSafe(safeContracts, [accounts[0]!, accounts[1]!, accounts[2]!], 2);
    app = (await freshApp({ owner: safe })).address;
    server = createServer((request, response) => {
      requested.push(`${request.method} ${request.url}`);
      const hash = /\/api\/v2\/multisig-transactions\/(0x[0-9a-fA-F]{64})\/$/.exec(request.url ?? "")?.[1];
      const answer = hash === undefined ? undefined : answers.get(hash.toLowerCase());
      response.writeHead(answer === undefined ? 404 : 200, { "content-type": "application/json" });
      response.end(JSON.stringify(answer ?? { detail: "No MultisigTransaction matches the given query." }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  });
  after(async function () {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** protocol-kit, as another owner's tool would: creates and signs an addComposeHash transaction. */
  async function kitTransaction(signer: Address, hash: Hex, nonce?: number) {
    const { connection } = await chain();
    const kit = await Safe.init({ provider: connection.provider as never, signer, safeAddress: safe, contractNetworks: contractNetworks as never });
    const data = encodeFunctionData({ abi: dstackAppAbi, functionName: "addComposeHash", args: [hash] });
    const tx = await kit.createTransaction({ transactions: [{ to: app, value: "0", data }], ...(nonce === undefined ? {} : { options: { nonce } }) });
    const signed = await kit.signTransaction(tx);
    return { kit, signed, safeTxHash: (await kit.getTransactionHash(signed)) as Hex };
  }

  it("a proposal made and signed by protocol-kit is imported (its JSON), co-signed with safe-sign and executed", async function () {
    const hash = bytes32("kit-import");
    const { signed, safeTxHash } = await kitTransaction(accounts[1]!, hash);
    const json = dir.file("kit.json");
    writeFileSync(json, JSON.stringify({ data: signed.data, signatures: [...signed.signatures.values()] }, null, 2));
    const out = dir.file("kit-proposal.json");
    // protocol-kit's JSON does not name the Safe.
    expectError(await run("safe-import", { file: json, out }), 2, /--safe is required: --file .*kit\.json does not name the Safe/);
    const mark = await chainMark();
    const imported = await run("safe-import", { file: json, safe, out, json: true });
    expect(imported.exitCode, imported.stdout + imported.stderr).to.equal(0);
    expect(imported.json).to.include({ imported: true, safeTxHash, proposal: out, thresholdMet: false });
    expect(imported.json.signatures).to.deep.equal([accounts[1]]);
    await expectNothingSent(mark);
    const proposal = readProposal(out);
    expect(proposal.actions[0]!.description).to.equal(`allow compose hash ${hash} on app ${app}`);
    expect(proposal.signatures.map((s) => s.signer)).to.deep.equal([accounts[1]]);

    const cosigned = await run("safe-sign", { proposal: out, from: accounts[2], json: true });
    expect(cosigned.json, cosigned.stdout).to.include({ signed: true, thresholdMet: true });
    expect((await run("safe-execute", { proposal: out })).exitCode).to.equal(0);
    expect(await composeHashAllowed(app, hash)).to.equal(true);
  });

  it("by safeTxHash from a transaction service: the answer is rebuilt, its confirmations (an EOA, packed encodedSignatures) kept", async function () {
    const hash = bytes32("service-import");
    const { signed, safeTxHash } = await kitTransaction(accounts[0]!, hash);
    const d = signed.data;
    answers.set(safeTxHash.toLowerCase(), {
      safe,
      to: d.to,
      value: d.value,
      data: d.data,
      operation: d.operation,
      safeTxGas: d.safeTxGas,
      baseGas: d.baseGas,
      gasPrice: d.gasPrice,
      gasToken: d.gasToken,
      refundReceiver: d.refundReceiver,
      nonce: String(d.nonce),
      safeTxHash,
      proposer: accounts[0],
      isExecuted: false,
      confirmations: [{ owner: accounts[0], signature: signed.encodedSignatures(), signatureType: "EOA", submissionDate: "2026-12-03T00:00:00Z" }],
    });
    const out = dir.file("service-proposal.json");
    const imported = await run("safe-import", { service: url, safeTxHash, out, json: true });
    expect(imported.exitCode, imported.stdout + imported.stderr).to.equal(0);
    expect(requested.at(-1)).to.equal(`GET /api/v2/multisig-transactions/${safeTxHash}/`);
    expect(imported.json.signatures).to.deep.equal([accounts[0]]);
    expect(readProposal(out)).to.include({ safe, proposedBy: accounts[0], safeTxHash });
    expect((await run("safe-sign", { proposal: out, from: accounts[1] })).exitCode).to.equal(0);
    expect((await run("safe-execute", { proposal: out })).exitCode).to.equal(0);
    expect(await composeHashAllowed(app, hash)).to.equal(true);
  });

  it("Safe{Wallet}'s transaction details (client gateway JSON) are imported, co-signed and executed", async function () {
    const hash = bytes32("wallet-import");
    const { signed, safeTxHash } = await kitTransaction(accounts[2]!, hash);
    const d = signed.data;
    const json = dir.file("wallet.json");
    writeFileSync(
      json,
      JSON.stringify({
        safeAddress: safe,
        txId: `multisig_${safe}_${safeTxHash}`,
        txStatus: "AWAITING_CONFIRMATIONS",
        txData: { hexData: d.data, to: { value: d.to, name: null }, value: d.value, operation: d.operation },
        detailedExecutionInfo: {
          type: "MULTISIG",
          nonce: d.nonce,
          safeTxGas: d.safeTxGas,
          baseGas: d.baseGas,
          gasPrice: d.gasPrice,
          gasToken: d.gasToken,
          refundReceiver: { value: d.refundReceiver },
          safeTxHash,
          confirmationsRequired: 2,
          confirmations: [{ signer: { value: accounts[2] }, signature: signed.encodedSignatures(), submittedAt: 1 }],
        },
      }),
    );
    const out = dir.file("wallet-proposal.json");
    const imported = await run("safe-import", { file: json, out, json: true });
    expect(imported.exitCode, imported.stdout + imported.stderr).to.equal(0);
    expect(imported.json).to.include({ safe, safeTxHash });
    expect(imported.json.signatures).to.deep.equal([accounts[2]]);
    expect((await run("safe-sign", { proposal: out, from: accounts[0] })).exitCode).to.equal(0);
    expect((await run("safe-execute", { proposal: out })).exitCode).to.equal(0);
    expect(await composeHashAllowed(app, hash)).to.equal(true);
  });

  it("a contract owner's signature from protocol-kit (a Safe owned by a Safe) is imported and counts", async function () {
    const inner = await freshSafe(safeContracts, [accounts[3]!, accounts[4]!], 1);
    const outer = await freshSafe(safeContracts, [inner, accounts[0]!], 2);
    const app2 = (await freshApp({ owner: outer })).address;
    const hash = bytes32("kit-nested");
    const { connection } = await chain();
    const kit = await Safe.init({ provider: connection.provider as never, signer: accounts[0]!, safeAddress: outer, contractNetworks: contractNetworks as never });
    const tx = await kit.createTransaction({ transactions: [{ to: app2, value: "0", data: encodeFunctionData({ abi: dstackAppAbi, functionName: "addComposeHash", args: [hash] }) }] });
    const signedByEoa = await kit.signTransaction(tx);
    // The inner Safe's owner signs the SafeMessage wrapping the outer SafeTx (EIP-712), and protocol-kit packs it as a contract signature.
    const safeTx = { ...signedByEoa.data, value: BigInt(signedByEoa.data.value), safeTxGas: BigInt(signedByEoa.data.safeTxGas), baseGas: BigInt(signedByEoa.data.baseGas), gasPrice: BigInt(signedByEoa.data.gasPrice), nonce: BigInt(signedByEoa.data.nonce) };
    const signedData = safeTxSignedData(31337, outer, safeTx as never);
    const wallet = await connection.viem.getWalletClient(accounts[3]!);
    const innerSignature = await wallet.signTypedData({ account: wallet.account, ...safeMessageTypedData(31337, inner, signedData.data) });
    const contractSignature = await buildContractSignature([new EthSafeSignature(accounts[3]!, innerSignature)], inner);
    const encoded = buildSignatureBytes([contractSignature, ...signedByEoa.signatures.values()]);
    const json = dir.file("kit-nested.json");
    writeFileSync(json, JSON.stringify({ data: signedByEoa.data, encodedSignatures: encoded }));
    const out = dir.file("kit-nested-proposal.json");
    const imported = await run("safe-import", { file: json, safe: outer, out, json: true });
    expect(imported.exitCode, imported.stdout + imported.stderr).to.equal(0);
    expect(imported.json.signatures).to.have.members([accounts[0], inner]);
    expect(imported.json.thresholdMet).to.equal(true);
    expect(readProposal(out).signatures.find((s) => s.signer === inner)).to.deep.include({ kind: "contract", signature: contractSignature.data.toLowerCase() });
    expect(safeTxSignedData(31337, outer, proposalTransaction(readProposal(out))).data).to.equal(signedData.data);
    expect((await run("safe-execute", { proposal: out })).exitCode).to.equal(0);
    expect(await composeHashAllowed(app2, hash)).to.equal(true);
  });

  it("nothing imported is trusted: a stated hash that does not match, a non-owner's or forged signature, an unknown hash on the service", async function () {
    const hash = bytes32("import-refused");
    const { signed, safeTxHash } = await kitTransaction(accounts[1]!, hash);
    const base = { data: signed.data, signatures: [...signed.signatures.values()] };
    const json = dir.file("bad.json");
    const out = dir.file("bad-proposal.json");
    const mark = await chainMark();

    // --safe-tx-hash names another transaction.
    writeFileSync(json, JSON.stringify(base));
    expectError(await run("safe-import", { file: json, safe, safeTxHash: bytes32("other"), out }), 1, /--safe-tx-hash states safeTxHash 0x[0-9a-f]{64}, but the transaction's fields hash to 0x[0-9a-f]{64} .*refusing to import it/);
    // A service answer whose data was changed under its safeTxHash.
    const evil = encodeFunctionData({ abi: dstackAppAbi, functionName: "addComposeHash", args: [bytes32("evil")] });
    answers.set(safeTxHash.toLowerCase(), { safe, ...signed.data, data: evil, nonce: String(signed.data.nonce), safeTxHash, confirmations: [] });
    expectError(await run("safe-import", { service: url, safeTxHash, out }), 1, /--service http:\/\/127\.0\.0\.1:\d+\/api states safeTxHash .* but the transaction's fields hash to/);
    // A confirmation with bytes beyond its one signature.
    answers.set(safeTxHash.toLowerCase(), { safe, ...signed.data, nonce: String(signed.data.nonce), safeTxHash, confirmations: [{ owner: accounts[1], signature: `${signed.encodedSignatures()}00` }] });
    expectError(await run("safe-import", { service: url, safeTxHash, out }), 1, /confirmation 1 is not one signature in Safe's encoding \(66 bytes\)/);
    // A signature by someone who is not an owner.
    const stranger = await kitTransaction(accounts[7]!, hash).catch((error: Error) => error);
    expect(stranger).to.be.instanceOf(Error); // protocol-kit itself refuses a non-owner signer…
    const { connection } = await chain();
    const wallet = await connection.viem.getWalletClient(accounts[7]!);
    const { safeTxTypedData } = await import("../../src/governance/safe-tx.js");
    const d = signed.data;
    const tx = { to: d.to as Address, value: BigInt(d.value), data: d.data as Hex, operation: d.operation as 0 | 1, safeTxGas: BigInt(d.safeTxGas), baseGas: BigInt(d.baseGas), gasPrice: BigInt(d.gasPrice), gasToken: d.gasToken as Address, refundReceiver: d.refundReceiver as Address, nonce: BigInt(d.nonce) };
    const strangerSig = await wallet.signTypedData({ account: wallet.account, ...safeTxTypedData(31337, safe, tx) });
    writeFileSync(json, JSON.stringify({ ...base, signatures: [...base.signatures, { signer: accounts[7], data: strangerSig, isContractSignature: false }] }));
    expectError(await run("safe-import", { file: json, safe, out }), 1, new RegExp(`signature 2 is by ${accounts[7]}, which is not an owner of the Safe`));
    // …and a signature claimed for an owner that another key made.
    writeFileSync(json, JSON.stringify({ ...base, signatures: [{ signer: accounts[2], data: strangerSig, isContractSignature: false }] }));
    expectError(await run("safe-import", { file: json, safe, out }), 1, new RegExp(`signature 1 claims to be by ${accounts[2]} but recovers to ${accounts[7]}`));
    // Unknown on the service: the service's 404 is reported.
    expectError(await run("safe-import", { service: url, safeTxHash: bytes32("unknown"), out }), 1, /did not return transaction 0x[0-9a-f]{64}: HTTP 404/);
    // Input errors name the flag.
    expectError(await run("safe-import", { out }), 2, /give one source: --file FILE .* or --service URL with --safe-tx-hash/);
    expectError(await run("safe-import", { service: url, out }), 2, /--safe-tx-hash is required with --service/);
    writeFileSync(json, JSON.stringify({ data: { ...signed.data, nonce: -1 } }));
    expectError(await run("safe-import", { file: json, safe, out }), 2, /field "data\.nonce" must be a non-negative integer/);
    expect(existsSync(out)).to.equal(false);
    await expectNothingSent(mark);
  });
});
