/**
 * The deployments file and the pending-transaction journal: what `deploy-*` tasks record
 * per chain id, read back by name (this tool's file first, then Hardhat Ignition's
 * deployed_addresses.json), and the journal's round trip. A damaged file is an error
 * naming it, never read as empty.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";
import { getAddress, type Address } from "viem";

import { assertNameFree, deploymentsFile, readDeployments, recordDeployment, resolveContract, type DeploymentRecord } from "../../src/deployments/deployments-file.js";
import { fileJournal, intentOf } from "../../src/deployments/tx-journal.js";
import { InvalidInputError } from "../../src/util/errors.js";
import { renderErrorMessage } from "../../tasks/lib/output.js";
import { tempDir } from "../tasks/fixture.js";

const A = getAddress("0x1111111111111111111111111111111111111111");
const B = getAddress("0x2222222222222222222222222222222222222222");
const C = getAddress("0x3333333333333333333333333333333333333333");

const record = (address: Address): DeploymentRecord => ({
  kind: "DstackApp",
  address,
  transactionHash: `0x${"ab".repeat(32)}`,
  blockNumber: "42",
  implementation: C,
  owner: B,
  deployedAt: "2026-01-01T00:00:00.000Z",
});

function thrown(body: () => unknown): Error {
  try {
    body();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
}

describe("deployments file and transaction journal", function () {
  it("records per chain id (default names app-1, app-2; --save-as names), reads back, resolves names", function () {
    const { dir, cleanup } = tempDir("dstack-deployments-");
    try {
      expect(recordDeployment(dir, 11155111, record(A), undefined, "app")).to.equal("app-1");
      expect(recordDeployment(dir, 11155111, record(B), "my-app", "app")).to.equal("my-app");
      expect(recordDeployment(dir, 11155111, record(C), undefined, "app")).to.equal("app-2");
      expect(recordDeployment(dir, 1, record(C), undefined, "app")).to.equal("app-1");
      expect(deploymentsFile(dir, 11155111)).to.equal(path.join(dir, "chain-11155111", "deployments.json"));
      expect(readDeployments(dir, 11155111)).to.deep.equal({ "app-1": record(A), "my-app": record(B), "app-2": record(C) });
      const where = { dir, ignitionDir: path.join(dir, "ignition"), chainId: 11155111 };
      expect(resolveContract("my-app", "--app", where)).to.equal(B);
      expect(resolveContract("app-1", "--app", where)).to.equal(A);
      expect(resolveContract("app-1", "--app", { ...where, chainId: 1 })).to.equal(C);
      expect(resolveContract(A.toLowerCase(), "--app", where)).to.equal(A);
      const unknown = thrown(() => resolveContract("other", "--app", where));
      expect(unknown).to.be.instanceOf(InvalidInputError);
      expect(unknown.message).to.equal('--app: "other" is neither an address nor a deployment recorded on chain 11155111 (known: app-1, my-app, app-2)');
      const taken = thrown(() => assertNameFree(dir, 11155111, "my-app"));
      expect(taken.message).to.match(/^saveAs: my-app is already recorded on chain 11155111 /);
      expect(taken).to.be.instanceOf(InvalidInputError);
      expect(renderErrorMessage(taken as InvalidInputError)).to.match(/^--save-as: my-app is already recorded on chain 11155111 /);
      expect(() => assertNameFree(dir, 1, "my-app")).to.not.throw();
    } finally {
      cleanup();
    }
  });

  it("Ignition deployments of the chain are names too (future ids)", function () {
    const { dir, cleanup } = tempDir("dstack-ignition-");
    try {
      const ignitionDir = path.join(dir, "ignition");
      mkdirSync(path.join(ignitionDir, "deployments", "chain-31337"), { recursive: true });
      writeFileSync(path.join(ignitionDir, "deployments", "chain-31337", "deployed_addresses.json"), JSON.stringify({ "DstackKms#DstackKms": A.toLowerCase(), "DstackApp#DstackApp": B }));
      const where = { dir, ignitionDir, chainId: 31337 };
      expect(resolveContract("DstackKms#DstackKms", "--kms", where)).to.equal(A);
      expect(resolveContract("DstackApp#DstackApp", "--app", where)).to.equal(B);
      expect(thrown(() => resolveContract("DstackApp#DstackApp", "--app", { ...where, chainId: 1 })).message).to.match(/none recorded in /);
    } finally {
      cleanup();
    }
  });

  it("a damaged file is an error naming it, never an empty list", function () {
    const { dir, cleanup } = tempDir("dstack-damaged-");
    try {
      mkdirSync(path.join(dir, "chain-5"), { recursive: true });
      writeFileSync(path.join(dir, "chain-5", "deployments.json"), "{ not json");
      writeFileSync(path.join(dir, "chain-5", "pending-transactions.json"), "[]");
      expect(thrown(() => readDeployments(dir, 5)).message).to.equal(`${path.join(dir, "chain-5", "deployments.json")} is not valid JSON; fix it or move it away`);
      expect(thrown(() => fileJournal(dir, 5).list()).message).to.match(/pending-transactions\.json: expected \{"transactions": \[\.\.\.\]\}/);
    } finally {
      cleanup();
    }
  });

  it("journal: put, replace by sender and nonce, remove; the intent of a send is stable and specific", function () {
    const { dir, cleanup } = tempDir("dstack-journal-");
    try {
      const journal = fileJournal(dir, 31337);
      const intent = intentOf(31337, A, { to: B, data: "0x1234" });
      expect(intentOf(31337, getAddress(A), { to: B, data: "0x1234", value: 0n })).to.equal(intent);
      expect(intentOf(1, A, { to: B, data: "0x1234" })).to.not.equal(intent);
      expect(intentOf(31337, A, { to: B, data: "0x1235" })).to.not.equal(intent);
      expect(intentOf(31337, A, { data: "0x1234" })).to.not.equal(intent);
      const entry = { chainId: 31337, from: A, nonce: 7, intent, summary: "allow x", to: B, sentAt: "t" };
      journal.put(entry);
      journal.put({ ...entry, hash: `0x${"cd".repeat(32)}` as const });
      journal.put({ ...entry, nonce: 8 });
      expect(journal.list().map((e) => [e.nonce, e.hash])).to.deep.equal([
        [7, `0x${"cd".repeat(32)}`],
        [8, undefined],
      ]);
      journal.remove(A, 7);
      expect(fileJournal(dir, 31337).list().map((e) => e.nonce)).to.deep.equal([8]);
      expect(fileJournal(dir, 1).list()).to.deep.equal([]);
    } finally {
      cleanup();
    }
  });
});
