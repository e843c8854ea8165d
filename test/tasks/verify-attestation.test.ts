/**
 * The `verify-attestation` task run in-process: flags, exit codes, `--json` output, a
 * recorded `--bundle`, and `--url` against loopback CVM stand-ins in both endpoint
 * styles. The chain is Hardhat's simulated one, read through a loopback JSON-RPC proxy
 * (`--rpc-url`), with a DstackApp at the attested app-id.
 *
 * The quote signature: the CLI has (on purpose) no way to trust the test root CA, so a
 * passing run through the task uses `--skip-quote-signature` or `--phala-api` with a
 * loopback stand-in; the local signature path with `--collateral` is shown to FAIL for
 * test quotes, and the library tests (test/attestation/verify.test.ts) cover the
 * signature itself.
 */
import { expect } from "chai";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

import hre, { network } from "hardhat";
import { getAddress, type Address } from "viem";

import { MAX_BUNDLE_BYTES } from "../../src/attestation/bundle.js";
import { MAX_COLLATERAL_BYTES } from "../../src/attestation/collateral.js";
import { AttestationFetchError, fetchLiveAttestation } from "../../src/attestation/live.js";
import { pccsEndpoint } from "../../src/attestation/pccs-client.js";
import { MAX_APP_COMPOSE_BYTES } from "../../src/compose/index.js";
import { InvalidInputError } from "../../src/util/errors.js";
import { buildAttestation, type BuiltAttestation } from "../support/attestation-builder.js";
import { deployAppProxy, deployKmsProxy } from "../support/contracts.js";
import { startRpcProxy, type RpcProxy } from "../support/rpc-proxy.js";
import { withFlagName } from "../../tasks/actions/verify-attestation.js";
import { runTask as runTaskInProcess, type TaskRun } from "../support/run-task.js";

const connection = await network.create();
const { viem } = connection;

const CHECK_IDS = [
  "quote-signature",
  "report-data",
  "event-log-replay",
  "compose-hash",
  "mr-config-id",
  "os-measurements",
  "image-pinning",
  "onchain-compose-hash",
  "onchain-app-registered",
  "onchain-os-image",
];

/** The task's options (names as declared in tasks/index.ts). */
interface TaskOptions {
  bundle?: string;
  url?: string;
  endpointStyle?: string;
  appCompose?: string;
  nonce?: string;
  reportData?: string;
  reportDataSha256Of?: string;
  expectedMeasurements?: string;
  app?: string;
  kms?: string;
  rpcUrl?: string;
  collateral?: string;
  pccsUrl?: string;
  intelPcs?: boolean;
  collateralCache?: string;
  now?: string;
  acceptTcbStatus?: string;
  phalaApi?: boolean;
  phalaApiUrl?: string;
  skipQuoteSignature?: boolean;
  skipOnchain?: boolean;
  requireMrConfigId?: boolean;
  mrConfigDocument?: string;
  json?: boolean;
}

/**
 * Runs the task in-process with every declared option (unset ones at their defaults),
 * output captured and `process.exitCode` read then reset (test/support/run-task.ts).
 */
function runTask(options: TaskOptions): Promise<TaskRun> {
  return runTaskInProcess(hre, "verify-attestation", { ...options });
}

function statusesOf(json: { checks: Array<{ id: string; status: string }> }): Record<string, string> {
  return Object.fromEntries(json.checks.map((c) => [c.id, c.status]));
}

const hexOf = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

let dir: string;
let rpc: RpcProxy;
let app: Address;
let kms: Address;
let appCompose: string;
let att: BuiltAttestation;

function writeFile(name: string, content: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

/** An attestation for the deployed app, its OS image and app-compose. */
function attestationFor(options: { nonce?: Uint8Array } = {}): BuiltAttestation {
  return buildAttestation({ appId: app, appCompose, osImageHash: att.osImageHash, ...options });
}

before(async function () {
  dir = mkdtempSync(path.join(tmpdir(), "verify-attestation-task-"));
  rpc = await startRpcProxy(connection.provider);
  const [owner] = await viem.getWalletClients();
  const deployed = await deployAppProxy(viem, { owner: owner!.account.address, allowAnyDevice: true });
  const kmsDeployed = await deployKmsProxy(viem, owner!.account.address);
  app = deployed.app.address;
  kms = kmsDeployed.kms.address;
  att = buildAttestation({ appId: app });
  appCompose = att.appCompose;
  await deployed.app.write.addComposeHash([att.composeHash]);
  await kmsDeployed.kms.write.registerApp([app]);
  await kmsDeployed.kms.write.addOsImageHash([`0x${hexOf(att.osImageHash)}`]);
});

after(async function () {
  await rpc.close();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(function () {
  process.exitCode = undefined;
});

describe("verify-attestation task: --bundle", function () {
  it("--mr-config-document: a format-03 MRCONFIGID passes with its exact document, fails without it, and a missing file is exit 2", async function () {
    const document = `{"compose_hash":"${att.composeHash.slice(2)}","key_provider":"kms","version":3}`;
    const digest = createHash("sha256").update("dstack-mr-config-v3:").update(Buffer.of(0)).update(document).digest();
    const v3 = buildAttestation({ appId: app, appCompose, osImageHash: att.osImageHash, keyProvider: att.keyProvider, mrConfigId: Buffer.concat([Buffer.of(3), digest, Buffer.alloc(15)]) });
    const bundle = writeFile("v3.json", JSON.stringify(v3.bundle));
    const documentFile = writeFile("mr-config.json", document);
    const pass = await runTask({ bundle, mrConfigDocument: documentFile, skipQuoteSignature: true, skipOnchain: true, json: true });
    expect(pass.exitCode, pass.stdout).to.equal(0);
    expect(statusesOf(pass.json)["mr-config-id"]).to.equal("pass");
    const without = await runTask({ bundle, skipQuoteSignature: true, skipOnchain: true, json: true });
    expect(without.exitCode).to.equal(1);
    expect(statusesOf(without.json)["mr-config-id"]).to.equal("fail");
    const missing = await runTask({ bundle, mrConfigDocument: path.join(dir, "absent.json"), skipQuoteSignature: true, skipOnchain: true, json: true });
    expect(missing.exitCode).to.equal(2);
    expect(missing.stdout + missing.stderr).to.include("--mr-config-document");
  });

  it("files over their size limit are refused before they are read: exit 2 naming the flag and the limit", async function () {
    const sparse = (name: string, size: number) => {
      const file = writeFile(name, "");
      truncateSync(file, size);
      return file;
    };
    const good = writeFile("small.json", JSON.stringify(att.bundle));
    const cases: Array<[string, Record<string, string | boolean>, RegExp]> = [
      ["--bundle", { bundle: sparse("huge-bundle.json", MAX_BUNDLE_BYTES + 1) }, /--bundle: .* is 50331649 bytes, more than the 50331648-byte limit/],
      ["--app-compose", { bundle: good, appCompose: sparse("huge-compose.json", MAX_APP_COMPOSE_BYTES + 1) }, /--app-compose: .* is 8388609 bytes, more than the 8388608-byte limit/],
      ["--collateral", { bundle: good, collateral: sparse("huge-collateral.json", MAX_COLLATERAL_BYTES + 1) }, /--collateral: .* is 1048577 bytes, more than the 1048576-byte limit/],
    ];
    for (const [flag, options, message] of cases) {
      const run = await runTask({ ...options, skipOnchain: true, json: true });
      expect(run.exitCode, flag).to.equal(2);
      expect(`${run.stdout}${run.stderr}`, flag).to.match(message);
    }
  });

  it("--json: exit 0, the documented verdict shape, every check passing (signature skipped: test root)", async function () {
    const bundle = writeFile("good.json", JSON.stringify(att.bundle));
    const measurements = writeFile(
      "measurements.json",
      JSON.stringify({ mrtd: hexOf(att.mrTd), rtmr0: hexOf(att.rtmrs[0]), rtmr1: `0x${hexOf(att.rtmrs[1])}`, rtmr2: hexOf(att.rtmrs[2]) }),
    );
    const run = await runTask({
      bundle,
      nonce: `0x${hexOf(att.nonce)}`,
      expectedMeasurements: measurements,
      skipQuoteSignature: true,
      rpcUrl: rpc.url,
      kms,
      requireMrConfigId: true,
      json: true,
    });
    expect(run.exitCode, run.stdout).to.equal(0);
    expect(Object.keys(run.json).sort()).to.deep.equal(["advisoryIds", "checks", "events", "ok", "quote", "tcbStatus"]);
    expect(run.json.ok).to.equal(true);
    expect(run.json.checks.map((c: { id: string }) => c.id)).to.deep.equal(CHECK_IDS);
    expect(statusesOf(run.json)).to.deep.equal({ ...Object.fromEntries(CHECK_IDS.map((id) => [id, "pass"])), "quote-signature": "skip" });
    for (const c of run.json.checks) expect(Object.keys(c)).to.deep.equal(["id", "status", "detail"]);
    expect(run.json.quote).to.deep.equal({
      version: 4,
      teeType: "TDX",
      mrtd: hexOf(att.mrTd),
      rtmr: att.rtmrs.map(hexOf),
      reportData: hexOf(att.reportData),
      mrConfigId: hexOf(att.mrConfigId),
    });
    expect(run.json.events).to.deep.equal({
      appId: app.slice(2).toLowerCase(),
      composeHash: att.composeHash.slice(2),
      instanceId: hexOf(att.instanceId),
      osImageHash: hexOf(att.osImageHash),
      keyProvider: att.keyProvider,
    });
    expect(run.json.tcbStatus).to.equal(null);
    expect(run.json.advisoryIds).to.deep.equal([]);
    expect(rpc.count(), "the chain was read through --rpc-url").to.be.greaterThan(0);
  });

  it("text output: one line per check and VERIFIED, exit 0", async function () {
    const bundle = writeFile("good-text.json", JSON.stringify(att.bundle));
    const run = await runTask({ bundle, skipQuoteSignature: true, rpcUrl: rpc.url });
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).to.equal(0);
    const lines = run.stdout.split("\n");
    expect(lines[0]).to.equal(`attestation: ${bundle}`);
    // event-log-replay, compose-hash, mr-config-id, image-pinning, onchain-compose-hash
    expect(lines.filter((l) => l.startsWith("[OK]"))).to.have.length(5);
    expect(run.stdout).to.contain("[SKIP]  Step 1: quote signature and TCB");
    expect(run.stdout).to.contain("Step 2: report data: no report data expectation");
    expect(lines.at(-1)).to.match(/^VERIFIED: every check passed \(not checked: quote-signature, report-data, onchain-app-registered, onchain-os-image\)$/);
  });

  it("a guest-agent GetQuote response with --app-compose given separately passes", async function () {
    const { app_compose: _omit, ...getQuote } = att.bundle;
    const bundle = writeFile("getquote.json", JSON.stringify({ ...getQuote, vm_config: "{}" }));
    const composeFile = writeFile("app-compose.json", appCompose);
    const run = await runTask({ bundle, appCompose: composeFile, skipQuoteSignature: true, skipOnchain: true, json: true });
    expect(run.exitCode).to.equal(0);
    expect(statusesOf(run.json)["compose-hash"]).to.equal("pass");
    // Without it, the compose hash cannot be checked: exit 1.
    const without = await runTask({ bundle, skipQuoteSignature: true, skipOnchain: true, json: true });
    expect(without.exitCode).to.equal(1);
    expect(statusesOf(without.json)["compose-hash"]).to.equal("fail");
  });

  it("a failing check exits 1: wrong --nonce, compose hash not allowed on chain", async function () {
    const bundle = writeFile("good-2.json", JSON.stringify(att.bundle));
    const wrongNonce = await runTask({ bundle, nonce: "00".repeat(32), skipQuoteSignature: true, rpcUrl: rpc.url, json: true });
    expect(wrongNonce.exitCode).to.equal(1);
    expect(wrongNonce.json.ok).to.equal(false);
    expect(statusesOf(wrongNonce.json)["report-data"]).to.equal("fail");

    const other = buildAttestation({ appId: app, osImageHash: att.osImageHash });
    const notAllowed = await runTask({ bundle: writeFile("other.json", JSON.stringify(other.bundle)), skipQuoteSignature: true, rpcUrl: rpc.url, json: true });
    expect(notAllowed.exitCode).to.equal(1);
    expect(statusesOf(notAllowed.json)["onchain-compose-hash"]).to.equal("fail");
  });

  it("--collateral: the local signature check does not trust the test root CA (exit 1)", async function () {
    const bundle = writeFile("good-3.json", JSON.stringify(att.bundle));
    const collateral = writeFile("collateral.json", JSON.stringify(att.collateral));
    const run = await runTask({ bundle, collateral, now: String(Math.floor(att.now.getTime() / 1000)), skipOnchain: true, json: true });
    expect(run.exitCode).to.equal(1);
    const signature = run.json.checks.find((c: { id: string }) => c.id === "quote-signature");
    expect(signature.status).to.equal("fail");
    expect(signature.detail).to.match(/DCAP verification failed/).and.contain("given collateral");
    expect(statusesOf(run.json)["event-log-replay"]).to.equal("pass");
  });

  it("the default network (no --rpc-url) has no app at the attested app-id: onchain-compose-hash fails, exit 1", async function () {
    const bundle = writeFile("good-4.json", JSON.stringify(att.bundle));
    const run = await runTask({ bundle, skipQuoteSignature: true, json: true });
    expect(run.exitCode).to.equal(1);
    const onchain = run.json.checks.find((c: { id: string }) => c.id === "onchain-compose-hash");
    expect(onchain.status).to.equal("fail");
    expect(onchain.detail).to.match(/no contract at/);
  });

  it("an RPC that is down: on-chain checks are errors and the exit code is 1, never 0", async function () {
    this.timeout(60_000);
    const bundle = writeFile("good-5.json", JSON.stringify(att.bundle));
    rpc.failAll("http-503");
    try {
      const run = await runTask({ bundle, skipQuoteSignature: true, rpcUrl: rpc.url, kms, json: true });
      expect(run.exitCode).to.equal(1);
      expect(statusesOf(run.json)).to.include({ "onchain-compose-hash": "error", "onchain-app-registered": "error", "onchain-os-image": "error" });
    } finally {
      rpc.failAll(false);
    }
  });

  it("--phala-api with a loopback verification service: a full pass with no check skipped but report-data", async function () {
    const server = await listen((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        const ok = (JSON.parse(body) as { hex?: string }).hex === att.bundle.quote;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ quote: { verified: ok, tcb_status: "UpToDate" } }));
      });
    });
    try {
      const bundle = writeFile("good-6.json", JSON.stringify(att.bundle));
      const run = await runTask({ bundle, phalaApi: true, phalaApiUrl: `${server.url}/verify`, nonce: hexOf(att.nonce), rpcUrl: rpc.url, kms, json: true });
      expect(run.exitCode, run.stdout).to.equal(0);
      expect(statusesOf(run.json)).to.deep.equal(Object.fromEntries(CHECK_IDS.filter((id) => id !== "os-measurements").map((id) => [id, "pass"])));
      expect(run.json.tcbStatus).to.equal("UpToDate");
    } finally {
      await server.close();
    }
  });
});

describe("verify-attestation task: bad flags exit 2 before any work", function () {
  const cases: Array<[string, () => TaskOptions, RegExp]> = [
    ["both --bundle and --url", () => ({ bundle: path.join(dir, "x.json"), url: "http://127.0.0.1:9" }), /exactly one of --bundle FILE or --url/],
    ["neither --bundle nor --url", () => ({}), /exactly one of --bundle FILE or --url/],
    ["--nonce that is not hex", () => ({ bundle: path.join(dir, "x.json"), nonce: "0xzz12" }), /--nonce: not hexadecimal/],
    ["--nonce with an odd number of digits", () => ({ bundle: path.join(dir, "x.json"), nonce: "abc" }), /--nonce: odd number/],
    ["--nonce longer than 64 bytes", () => ({ bundle: path.join(dir, "x.json"), nonce: "11".repeat(65) }), /--nonce: expected 1 to 64 bytes/],
    ["an empty --nonce", () => ({ bundle: path.join(dir, "x.json"), nonce: "" }), /--nonce: expected 1 to 64 bytes/],
    ["--report-data longer than 64 bytes", () => ({ bundle: path.join(dir, "x.json"), reportData: "11".repeat(65) }), /--report-data: at most 64 bytes/],
    ["--nonce and --report-data together", () => ({ bundle: path.join(dir, "x.json"), nonce: "11", reportData: "11" }), /at most one of --nonce/],
    ["--skip-quote-signature and --phala-api", () => ({ bundle: path.join(dir, "x.json"), skipQuoteSignature: true, phalaApi: true }), /exclude each other/],
    ["--skip-onchain and --app", () => ({ bundle: path.join(dir, "x.json"), skipOnchain: true, app: `0x${"11".repeat(20)}` }), /--skip-onchain cannot be combined/],
    ["a bad --app address", () => ({ bundle: path.join(dir, "x.json"), app: "0x1234" }), /--app: expected a 0x-prefixed 20-byte address/],
    ["--now that is not unix seconds", () => ({ bundle: path.join(dir, "x.json"), now: "2025-07-01" }), /--now: expected unix seconds/],
    ["an unknown --endpoint-style", () => ({ url: "http://127.0.0.1:9", endpointStyle: "grpc" }), /--endpoint-style/],
    ["a --bundle file that does not exist", () => ({ bundle: path.join(dir, "missing.json") }), /--bundle: cannot read/],
    ["a --bundle file that is not JSON", () => ({ bundle: writeFile("not-json.json", "{nope") }), /--bundle: .* is not JSON/],
    ["a --url that is not a URL", () => ({ url: "not a url", skipOnchain: true }), /--url: expected the http\(s\) base URL/],
    ["a --url that is not http(s)", () => ({ url: "file:///etc/passwd", skipOnchain: true }), /--url: expected the http\(s\) base URL/],
  ];
  for (const [name, options, message] of cases) {
    it(name, async function () {
      const run = await runTask({ ...options(), json: true });
      expect(run.exitCode, run.stdout).to.equal(2);
      expect(run.json.ok).to.equal(false);
      expect(run.json.error.message).to.match(message);
      const text = await runTask(options());
      expect(text.exitCode).to.equal(run.exitCode);
      expect(text.stderr).to.match(/^Error: /);
    });
  }
});

describe("verify-attestation task: the library names options by key, the task by flag", function () {
  it("fetchLiveAttestation names a bad base URL by its key, and withFlagName turns it into --url", async function () {
    let error: unknown;
    await fetchLiveAttestation("not a url", { style: "phala", nonce: Uint8Array.of(1) }).catch((caught: unknown) => {
      error = caught;
    });
    expect(error).to.be.instanceOf(AttestationFetchError);
    const library = error as AttestationFetchError;
    expect(library.field).to.equal("baseUrl");
    expect(library.message).to.equal('baseUrl: not a URL: "not a url"');

    const flagged = withFlagName(library) as AttestationFetchError;
    expect(flagged).to.be.instanceOf(AttestationFetchError);
    expect(flagged.message).to.equal('--url: not a URL: "not a url"');
    expect(flagged.field).to.equal(undefined);
  });

  it("maps a key at the start of the message, prefixes the flag otherwise, and leaves other errors alone", async function () {
    let error: unknown;
    await fetchLiveAttestation("ftp://cvm.example", { style: "phala", nonce: Uint8Array.of(1) }).catch((caught: unknown) => {
      error = caught;
    });
    expect((withFlagName(error) as Error).message).to.equal("--url: expected http(s), got ftp:");

    let pccs: unknown;
    try {
      pccsEndpoint("ftp://pccs.example");
    } catch (caught) {
      pccs = caught;
    }
    expect((pccs as InvalidInputError).field).to.equal("pccsUrl");
    const flagged = withFlagName(pccs);
    expect(flagged).to.be.instanceOf(InvalidInputError);
    expect((flagged as Error).message).to.equal("--pccs-url: PCCS URL must be http(s), got ftp:");

    const plain = new AttestationFetchError("cannot fetch https://cvm.example/info: timeout");
    expect(withFlagName(plain)).to.equal(plain);
  });
});

// ---------------------------------------------------------------------------------
// --url: loopback CVM stand-ins that build the quote over the report data they receive
// ---------------------------------------------------------------------------------

interface StandIn {
  url: string;
  /** The report data (hex) each quote request carried. */
  received: string[];
  requests: string[];
  close(): Promise<void>;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A CVM: `phala` serves `/attestation?reportData=` and `/info` (tcb_info an object);
 * `guest-agent` serves `/quote?data=` and `/prpc/Info` (tcb_info a JSON string).
 */
async function cvmStandIn(style: "phala" | "guest-agent", behaviour: { ignoreNonce?: boolean; infoStatus?: number; hugeInfo?: boolean } = {}): Promise<StandIn> {
  const received: string[] = [];
  const requests: string[] = [];
  const [quotePath, quoteParam, infoPath] = style === "phala" ? ["/attestation", "reportData", "/info"] : ["/quote", "data", "/prpc/Info"];
  const tcbInfo = { app_compose: appCompose, mrtd: "00", rtmr0: "00" };
  const server = await listen((req, res) => {
    const url = new URL(req.url ?? "/", "http://cvm");
    requests.push(url.pathname);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === quotePath) {
      const data = url.searchParams.get(quoteParam) ?? "";
      received.push(data);
      const nonce = behaviour.ignoreNonce ? undefined : Buffer.from(data, "hex");
      const fresh = attestationFor(nonce === undefined ? {} : { nonce });
      send(200, { quote: fresh.bundle.quote, event_log: fresh.bundle.event_log, report_data: fresh.bundle.report_data, vm_config: "{}" });
    } else if (url.pathname === infoPath) {
      if (behaviour.infoStatus !== undefined) return send(behaviour.infoStatus, { error: "boom" });
      if (behaviour.hugeInfo) {
        res.writeHead(200, { "content-type": "application/json" });
        const chunk = Buffer.alloc(1024 * 1024, 0x20);
        let sent = 0;
        const pump = () => {
          while (sent < 40 && res.write(chunk)) sent++;
          if (sent < 40) res.once("drain", pump);
          else res.end();
        };
        res.on("error", () => undefined);
        return pump();
      }
      send(200, {
        app_id: app.slice(2).toLowerCase(),
        app_name: "governed-app",
        tcb_info: style === "phala" ? tcbInfo : JSON.stringify(tcbInfo),
      });
    } else {
      send(404, { error: "not found" });
    }
  });
  return { url: server.url, received, requests, close: server.close };
}

describe("verify-attestation task: --url against a live CVM stand-in", function () {
  for (const style of ["phala", "guest-agent"] as const) {
    it(`${style} endpoints: a fresh random nonce is sent and bound (exit 0), and differs per run`, async function () {
      const cvm = await cvmStandIn(style);
      try {
        const first = await runTask({ url: `${cvm.url}/`, endpointStyle: style === "phala" ? undefined : style, skipQuoteSignature: true, rpcUrl: rpc.url, kms, json: true });
        expect(first.exitCode, first.stdout).to.equal(0);
        expect(cvm.requests.sort()).to.deep.equal(style === "phala" ? ["/attestation", "/info"] : ["/prpc/Info", "/quote"]);
        expect(cvm.received).to.have.length(1);
        const nonce = cvm.received[0]!;
        expect(nonce).to.match(/^[0-9a-f]{64}$/);
        expect(first.json.quote.reportData).to.equal(nonce + "00".repeat(32));
        const reportData = first.json.checks.find((c: { id: string }) => c.id === "report-data");
        expect(reportData.status).to.equal("pass");
        expect(reportData.detail).to.contain(nonce);
        expect(statusesOf(first.json)).to.deep.equal({
          ...Object.fromEntries(CHECK_IDS.filter((id) => id !== "os-measurements").map((id) => [id, "pass"])),
          "quote-signature": "skip",
        });

        const second = await runTask({ url: cvm.url, endpointStyle: style, skipQuoteSignature: true, skipOnchain: true });
        expect(second.exitCode, second.stdout).to.equal(0);
        expect(cvm.received).to.have.length(2);
        expect(cvm.received[1]).to.not.equal(nonce);
        expect(second.stderr).to.contain(`with report data ${cvm.received[1]}`);
        expect(second.stdout).to.match(/VERIFIED: every check passed/);
      } finally {
        await cvm.close();
      }
    });

    it(`${style} endpoints: a CVM that ignores the nonce fails report-data (exit 1)`, async function () {
      const cvm = await cvmStandIn(style, { ignoreNonce: true });
      try {
        const run = await runTask({ url: cvm.url, endpointStyle: style, skipQuoteSignature: true, skipOnchain: true, json: true });
        expect(run.exitCode).to.equal(1);
        expect(statusesOf(run.json)).to.deep.include({ "report-data": "fail", "event-log-replay": "pass", "compose-hash": "pass" });
        expect(run.json.quote.reportData.startsWith(cvm.received[0]!)).to.equal(false);
      } finally {
        await cvm.close();
      }
    });
  }

  it("a user-given --nonce is the one sent", async function () {
    const cvm = await cvmStandIn("phala");
    try {
      const nonce = "c0ffee".repeat(4);
      const run = await runTask({ url: cvm.url, nonce: `0x${nonce}`, skipQuoteSignature: true, skipOnchain: true, json: true });
      expect(run.exitCode).to.equal(0);
      expect(cvm.received).to.deep.equal([nonce]);
    } finally {
      await cvm.close();
    }
  });

  it("--report-data-sha256-of with --url: the digest is the challenge sent, so the check can pass", async function () {
    const cvm = await cvmStandIn("guest-agent");
    try {
      const statement = writeFile("statement.txt", "I attest to this statement.\n");
      const digest = createHash("sha256").update("I attest to this statement.\n").digest("hex");
      const run = await runTask({ url: cvm.url, endpointStyle: "guest-agent", reportDataSha256Of: statement, skipQuoteSignature: true, skipOnchain: true, json: true });
      expect(cvm.received).to.deep.equal([digest]);
      expect(run.exitCode, JSON.stringify(run.json?.checks)).to.equal(0);
      expect(statusesOf(run.json)["report-data"]).to.equal("pass");
    } finally {
      await cvm.close();
    }
  });

  it("a CVM answering HTTP 500, or an unreachable one, is an error with exit 1 (not a verdict)", async function () {
    const cvm = await cvmStandIn("phala", { infoStatus: 500 });
    try {
      const run = await runTask({ url: cvm.url, skipQuoteSignature: true, skipOnchain: true, json: true });
      expect(run.exitCode).to.equal(1);
      expect(run.json).to.deep.include({ ok: false });
      expect(run.json.error.code).to.equal("ATTESTATION_FETCH");
      expect(run.json.error.message).to.match(/answered HTTP 500/);
    } finally {
      await cvm.close();
    }
    const gone = await runTask({ url: cvm.url, skipQuoteSignature: true, skipOnchain: true, json: true });
    expect(gone.exitCode).to.equal(1);
    expect(gone.json.error.message).to.match(/cannot fetch/);
  });

  it("a CVM streaming an endless answer is cut off at the size limit", async function () {
    this.timeout(30_000);
    const cvm = await cvmStandIn("phala", { hugeInfo: true });
    try {
      const run = await runTask({ url: cvm.url, skipQuoteSignature: true, skipOnchain: true, json: true });
      expect(run.exitCode).to.equal(1);
      expect(run.json.error.message).to.match(/larger than \d+ bytes/);
    } finally {
      await cvm.close();
    }
  });

  it("the attested app-id is the on-chain app read (not the /info app_id)", async function () {
    const cvm = await cvmStandIn("phala");
    try {
      const run = await runTask({ url: cvm.url, skipQuoteSignature: true, rpcUrl: rpc.url, app: getAddress(app), json: true });
      expect(run.exitCode).to.equal(0);
      const mismatch = await runTask({ url: cvm.url, skipQuoteSignature: true, rpcUrl: rpc.url, app: `0x${"11".repeat(20)}`, json: true });
      expect(mismatch.exitCode).to.equal(1);
      expect(statusesOf(mismatch.json)["onchain-compose-hash"]).to.equal("fail");
    } finally {
      await cvm.close();
    }
  });
});
