/**
 * `--propose-to-service`: the proposal (and later confirmations) go to a Safe transaction
 * service through @safe-global/api-kit. A loopback HTTP server stands in for the service
 * and records what it receives; a refusal is reported with the service's status.
 */
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import { buildSignatureBytes, EthSafeSignature } from "@safe-global/protocol-kit";
import { expect } from "chai";
import type { Address, Hex } from "viem";

import { unpackSignatures } from "../../src/governance/signatures.js";

import { bytes32, chain, expectError, freshApp, freshSafe, readProposal, run, safeContractsFile, suiteWorkDir } from "./fixture.js";

interface Received {
  method: string;
  url: string;
  body: Record<string, unknown>;
}

describe("governance: posting to a Safe transaction service (loopback stand-in)", function () {
  const dir = suiteWorkDir("dstack-gov-service-");
  const received: Received[] = [];
  let refuse = false;
  let server: Server;
  let url: string;
  let accounts: Address[];
  let safe: Address;
  let app: Address;
  let safeContracts: string;

  before(async function () {
    server = createServer((request, response) => {
      let text = "";
      request.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
      request.on("end", () => {
        received.push({ method: request.method ?? "", url: request.url ?? "", body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) });
        if (refuse) {
          response.writeHead(422, { "content-type": "application/json" });
          response.end(JSON.stringify({ nonFieldErrors: ["Tx with nonce 0 for safe already executed"] }));
          return;
        }
        response.writeHead(201, { "content-type": "application/json" });
        response.end("");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
    ({ accounts } = await chain());
    safeContracts = await safeContractsFile(dir);
    safe = await freshSafe(safeContracts, [accounts[0]!, accounts[1]!, accounts[2]!], 2);
    app = (await freshApp({ owner: safe })).address;
  });
  after(async function () {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("the proposal is posted with its safeTxHash and the proposer's signature; safe-sign posts the confirmation", async function () {
    const file = dir.file("posted.json");
    const result = await run("add-compose-hash", { app, hash: bytes32("service"), via: "safe", safe, proposalOut: file, proposeToService: url, json: true });
    expect(result.exitCode, result.stdout + result.stderr).to.equal(0);
    expect(result.json.service).to.equal(url);
    const proposal = readProposal(file);
    expect(received).to.have.length(1);
    expect(received[0]).to.deep.include({ method: "POST", url: `/api/v2/safes/${safe}/multisig-transactions/` });
    expect(received[0]!.body).to.deep.equal({
      to: proposal.to,
      value: "0",
      data: proposal.data,
      operation: 0,
      safeTxGas: "0",
      baseGas: "0",
      gasPrice: "0",
      gasToken: proposal.gasToken,
      refundReceiver: proposal.refundReceiver,
      nonce: 0,
      contractTransactionHash: proposal.safeTxHash,
      sender: accounts[0],
      signature: proposal.signatures[0]!.signature,
      origin: "dstack-governance",
    });

    const signed = await run("safe-sign", { proposal: file, from: accounts[1], proposeToService: url });
    expect(signed.exitCode, signed.stderr).to.equal(0);
    expect(received).to.have.length(2);
    expect(received[1]).to.deep.include({ method: "POST", url: `/api/v1/multisig-transactions/${proposal.safeTxHash}/confirmations/` });
    expect(received[1]!.body).to.deep.equal({ signature: readProposal(file).signatures[1]!.signature });
  });

  it("an owner Safe's signature is posted once complete, as Safe and protocol-kit encode a contract signature (offset 65, length, bytes)", async function () {
    const inner = await freshSafe(safeContracts, [accounts[3]!, accounts[4]!], 1);
    const outer = await freshSafe(safeContracts, [inner, accounts[0]!], 2);
    const app2 = (await freshApp({ owner: outer })).address;
    const file = dir.file("nested-posted.json");
    expect((await run("add-compose-hash", { app: app2, hash: bytes32("nested-service"), via: "safe", safe: outer, proposalOut: file, proposeToService: url })).exitCode).to.equal(0);
    const before = received.length;
    const signed = await run("safe-sign", { proposal: file, from: accounts[3], ownerSafe: inner, proposeToService: url, json: true });
    expect(signed.exitCode, signed.stdout + signed.stderr).to.equal(0);
    expect(signed.json).to.include({ ownerSafeComplete: true, service: url });
    expect(received).to.have.length(before + 1);
    const proposal = readProposal(file);
    expect(received.at(-1)).to.deep.include({ method: "POST", url: `/api/v1/multisig-transactions/${proposal.safeTxHash}/confirmations/` });
    const entry = proposal.signatures.find((s) => s.signer === inner)!;
    const kitEncoded = buildSignatureBytes([new EthSafeSignature(inner, entry.signature, true)]);
    expect((received.at(-1)!.body.signature as string).toLowerCase()).to.equal(kitEncoded.toLowerCase());
    expect(unpackSignatures(received.at(-1)!.body.signature as Hex, 1)).to.deep.equal([{ kind: "contract", signer: inner, signature: entry.signature }]);
  });

  it("a refusal by the service is an error with its status that says the signed proposal file was already written (proposer and co-signer)", async function () {
    refuse = true;
    try {
      const file = dir.file("refused.json");
      const result = await run("add-compose-hash", { app, hash: bytes32("refused"), via: "safe", safe, proposalOut: file, proposeToService: url });
      expectError(result, 1, /the Safe transaction service at http:\/\/127\.0\.0\.1:\d+\/api did not propose the transaction: HTTP 422: .*already executed/);
      // The message says the signature is not lost: the file was written before the service was asked.
      expect(result.stderr).to.include(`; the signed proposal was already written to ${file}: the signature is not lost, the other owners can sign that file`);
      expect(existsSync(file)).to.equal(true);
      expect(readProposal(file).signatures).to.have.length(1);
      // The same for a co-signer's confirmation.
      const cosigned = await run("safe-sign", { proposal: file, from: accounts[1], proposeToService: url });
      expectError(cosigned, 1, /did not add the confirmation: HTTP 422/);
      expect(cosigned.stderr).to.include(`the signed proposal was already written to ${file}`);
      expect(readProposal(file).signatures).to.have.length(2);
    } finally {
      refuse = false;
    }
  });
});
