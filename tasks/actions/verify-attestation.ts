import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { createPublicClient, http } from "viem";

import { parseReferenceMeasurements, reportDataSha256Of, type ReportDataExpectation } from "../../src/attestation/bindings.js";
import { MAX_BUNDLE_BYTES } from "../../src/attestation/bundle.js";
import { MAX_COLLATERAL_BYTES } from "../../src/attestation/collateral.js";
import { AttestationFetchError, fetchLiveAttestation, type EndpointStyle } from "../../src/attestation/live.js";
import { MAX_MR_CONFIG_DOCUMENT_CHARS } from "../../src/attestation/mr-config.js";
import { renderVerdictHtml } from "../../src/attestation/report-html.js";
import { formatVerdict } from "../../src/attestation/report-text.js";
import { verifyAttestation, type QuoteSignatureMode, type VerifyAttestationOptions } from "../../src/attestation/verify.js";
import type { ChainClient } from "../../src/chain/clients.js";
import { MAX_APP_COMPOSE_BYTES } from "../../src/compose/index.js";
import { DstackGovernanceError, InvalidInputError } from "../../src/util/errors.js";
import { readFileNamedByFlag, readTextFile } from "../../src/util/files.js";
import { parseHexBytes } from "../../src/util/hex.js";
import { parseAddress } from "../lib/args.js";
import { connectChain } from "../lib/connection.js";
import { runCommand } from "../lib/output.js";

/** Reference measurements are a handful of 48-byte values. */
const MAX_MEASUREMENTS_FILE_BYTES = 1024 * 1024;

interface Args {
  bundle: string | undefined;
  url: string | undefined;
  endpointStyle: string | undefined;
  appCompose: string | undefined;
  nonce: string | undefined;
  reportData: string | undefined;
  reportDataHashOf: string | undefined;
  /** The README's spelling, `--report-data-sha256-of` (a hidden alias of --report-data-hash-of). */
  reportDataSha256Of: string | undefined;
  testRootCa: string | undefined;
  expectedMeasurements: string | undefined;
  app: string | undefined;
  kms: string | undefined;
  rpcUrl: string | undefined;
  collateral: string | undefined;
  pccsUrl: string | undefined;
  intelPcs: boolean;
  collateralCache: string | undefined;
  now: string | undefined;
  acceptTcbStatus: string | undefined;
  phalaApi: boolean;
  phalaApiUrl: string | undefined;
  skipQuoteSignature: boolean;
  skipOnchain: boolean;
  requireMrConfigId: boolean;
  mrConfigDocument: string | undefined;
  html: string | undefined;
  json: boolean;
}

/** Every file the verifier reads has a size limit, checked before it is read. */
function readText(path: string, flag: string, maxBytes: number): Promise<string> {
  return readTextFile(path, flag, maxBytes, (size) => `${flag}: ${path} is ${size ?? `more than ${maxBytes}`} bytes, more than the ${maxBytes}-byte limit`);
}

async function readJson(path: string, flag: string, maxBytes: number): Promise<unknown> {
  const text = await readText(path, flag, maxBytes);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`${flag}: ${path} is not JSON (${(error as Error).message})`);
  }
}

/** `--test-root-ca`: a root certificate as DER bytes, from a DER or PEM file. */
async function readTestRootCa(path: string): Promise<Uint8Array> {
  const bytes = await readFileNamedByFlag(path, "--test-root-ca");
  const text = bytes.toString("latin1");
  const pem = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(text);
  if (pem !== null) return new Uint8Array(Buffer.from(pem[1]!.replace(/\s+/g, ""), "base64"));
  if (bytes[0] !== 0x30) throw new InvalidInputError(`--test-root-ca: ${path} is neither a PEM certificate nor DER (a DER certificate starts with 0x30)`);
  return new Uint8Array(bytes);
}

/** This task's flag for each library option key an error may name in its `field`. */
const FLAG_OF_FIELD: Readonly<Record<string, string>> = { baseUrl: "--url", nonce: "--nonce", now: "--now", pccsUrl: "--pccs-url" };

/**
 * A library error as this task says it: the option the library names by its key
 * (`field`, e.g. `baseUrl`) becomes the flag the user typed (`--url`). The error keeps
 * its class (so its exit code) and loses `field`, which it has now been said with.
 */
export function withFlagName(error: unknown): unknown {
  if (!(error instanceof DstackGovernanceError) || error.field === undefined) return error;
  const flag = FLAG_OF_FIELD[error.field];
  if (flag === undefined) return error;
  const { field, message, details } = error;
  const flagged = message.startsWith(`${field}:`) ? `${flag}${message.slice(field.length)}` : `${flag}: ${message}`;
  if (error instanceof AttestationFetchError) return new AttestationFetchError(flagged, details);
  if (error instanceof InvalidInputError) return new InvalidInputError(flagged, { ...(details === undefined ? {} : { details }), cause: error });
  return error;
}

/** The bytes to ask a live CVM to put in REPORTDATA so that `expectation` can pass. */
function challengeOf(expectation: ReportDataExpectation | undefined): Uint8Array | undefined {
  if (expectation === undefined) return undefined;
  if (expectation.kind === "nonce") return expectation.nonce;
  if (expectation.kind === "sha256") return expectation.digest;
  return expectation.reportData.length > 0 ? expectation.reportData : undefined;
}

export default async function (args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(args.json, async () => {
    // Every flag is read and validated before any network request.
    if ((args.bundle === undefined) === (args.url === undefined)) throw new InvalidInputError("give exactly one of --bundle FILE or --url BASE_URL");
    const style = (args.endpointStyle ?? "phala") as EndpointStyle;
    if (style !== "phala" && style !== "guest-agent") throw new InvalidInputError(`--endpoint-style: expected phala or guest-agent, got ${JSON.stringify(args.endpointStyle)}`);
    if (args.reportDataHashOf !== undefined && args.reportDataSha256Of !== undefined) {
      throw new InvalidInputError("--report-data-hash-of and --report-data-sha256-of are the same option: give it once");
    }
    const reportDataFile = args.reportDataHashOf ?? args.reportDataSha256Of;
    const reportDataFlag = args.reportDataHashOf !== undefined ? "--report-data-hash-of" : "--report-data-sha256-of";
    const expectations = [args.nonce, args.reportData, reportDataFile].filter((v) => v !== undefined);
    if (expectations.length > 1) throw new InvalidInputError("give at most one of --nonce, --report-data and --report-data-hash-of");
    if (args.testRootCa !== undefined && (args.skipQuoteSignature || args.phalaApi)) {
      throw new InvalidInputError("--test-root-ca is for the local quote-signature check: not with --skip-quote-signature or --phala-api");
    }
    if ([args.skipQuoteSignature, args.phalaApi, args.collateral !== undefined].filter(Boolean).length > 1) {
      throw new InvalidInputError("--skip-quote-signature, --phala-api and --collateral exclude each other");
    }
    if (args.skipOnchain && (args.app !== undefined || args.kms !== undefined || args.rpcUrl !== undefined)) {
      throw new InvalidInputError("--skip-onchain cannot be combined with --app, --kms or --rpc-url");
    }

    let reportData: ReportDataExpectation | undefined;
    if (args.nonce !== undefined) {
      const nonce = parseHexBytes(args.nonce, "--nonce");
      if (nonce.length === 0 || nonce.length > 64) throw new InvalidInputError(`--nonce: expected 1 to 64 bytes of hex, got ${nonce.length} bytes`);
      reportData = { kind: "nonce", nonce };
    }
    if (args.reportData !== undefined) {
      const exact = parseHexBytes(args.reportData, "--report-data");
      if (exact.length > 64) throw new InvalidInputError(`--report-data: at most 64 bytes of hex, got ${exact.length} bytes`);
      reportData = { kind: "exact", reportData: exact };
    }
    if (reportDataFile !== undefined) {
      const bytes = await readFileNamedByFlag(reportDataFile, reportDataFlag);
      reportData = reportDataSha256Of(bytes, reportDataFile);
    }
    let now: number | undefined;
    if (args.now !== undefined) {
      if (!/^\d+$/.test(args.now)) throw new InvalidInputError(`--now: expected unix seconds, got ${JSON.stringify(args.now)}`);
      now = Number(args.now);
    }
    const options: VerifyAttestationOptions = { onchain: "skip", requireMrConfigIdBinding: args.requireMrConfigId };
    if (now !== undefined) options.now = now;
    if (args.appCompose !== undefined) options.appCompose = await readText(args.appCompose, "--app-compose", MAX_APP_COMPOSE_BYTES);
    // Read as exact text: MRCONFIGID binds the document's bytes, not its JSON value.
    if (args.mrConfigDocument !== undefined) options.mrConfigDocument = await readText(args.mrConfigDocument, "--mr-config-document", 4 * MAX_MR_CONFIG_DOCUMENT_CHARS);
    if (args.expectedMeasurements !== undefined) {
      options.expectedMeasurements = parseReferenceMeasurements(await readJson(args.expectedMeasurements, "--expected-measurements", MAX_MEASUREMENTS_FILE_BYTES), "--expected-measurements");
    }
    let signature: QuoteSignatureMode;
    if (args.skipQuoteSignature) signature = { mode: "skip" };
    else if (args.phalaApi) signature = { mode: "phala-api", ...(args.phalaApiUrl === undefined ? {} : { url: args.phalaApiUrl }) };
    else {
      signature = {
        mode: "local",
        cacheDir: args.collateralCache ?? join(homedir(), ".cache", "dstack-governance", "collateral"),
        ...(args.collateral === undefined ? {} : { collateral: await readJson(args.collateral, "--collateral", MAX_COLLATERAL_BYTES) }),
        ...(args.pccsUrl === undefined ? {} : { pccsUrl: args.pccsUrl }),
        ...(args.intelPcs ? { provider: "intel" as const } : {}),
        ...(args.acceptTcbStatus === undefined ? {} : { acceptedTcbStatuses: args.acceptTcbStatus.split(",").map((s) => s.trim()).filter(Boolean) }),
        ...(args.testRootCa === undefined ? {} : { trustedRootCaDer: await readTestRootCa(args.testRootCa) }),
      };
    }
    options.quoteSignature = signature;
    const app = args.app === undefined ? undefined : parseAddress(args.app, "--app");
    const kms = args.kms === undefined ? undefined : parseAddress(args.kms, "--kms");
    if (args.url !== undefined) {
      let url: URL | undefined;
      try {
        url = new URL(args.url);
      } catch {
        url = undefined;
      }
      if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
        throw new InvalidInputError("--url: expected the http(s) base URL of the CVM, e.g. https://<app-id>-8090.dstack.example.com");
      }
    }
    let rpcUrl: string | undefined;
    if (args.rpcUrl !== undefined) {
      try {
        rpcUrl = new URL(args.rpcUrl).toString();
      } catch {
        throw new InvalidInputError("--rpc-url: not a URL");
      }
    }

    // The attestation: recorded, or fetched live with a fresh nonce.
    let input: unknown;
    let source: string;
    if (args.bundle !== undefined) {
      input = await readJson(args.bundle, "--bundle", MAX_BUNDLE_BYTES);
      source = args.bundle;
    } else {
      // The challenge sent is what the quote must then carry: a fresh random nonce by
      // default, else the expected report data (GetQuote zero-pads it to 64 bytes).
      const challenge = challengeOf(reportData) ?? randomBytes(32);
      reportData ??= { kind: "nonce", nonce: challenge };
      const live = await fetchLiveAttestation(args.url!, { style, nonce: challenge }).catch((error: unknown) => {
        throw withFlagName(error);
      });
      input = live.bundle;
      source = live.urls.join(" + ");
      if (!args.json) console.error(`fetched ${source} with report data ${Buffer.from(challenge).toString("hex")}`);
    }
    if (reportData !== undefined) options.reportData = reportData;

    if (!args.skipOnchain) {
      const client: ChainClient = rpcUrl !== undefined ? createPublicClient({ transport: http(rpcUrl) }) : (await connectChain(hre, { readOnly: true })).publicClient;
      options.onchain = { client, ...(app === undefined ? {} : { app }), ...(kms === undefined ? {} : { kms }) };
    }

    const { verdict, evidence } = await verifyAttestation(input, options);
    const lines = [`attestation: ${source}`, ...formatVerdict(verdict)];
    // Said on every run: a signature that chains to a test CA proves nothing about hardware.
    if (args.testRootCa !== undefined) lines.splice(1, 0, `WARNING: the quote signature was checked against the TEST root CA ${args.testRootCa}, not Intel's: this verifies no real TDX hardware`);
    if (args.html !== undefined) {
      // The page is written whatever the verdict: a failed verification is what most needs reading.
      await writeFile(args.html, renderVerdictHtml(verdict, evidence, { source, generatedAt: new Date() })).catch((error: NodeJS.ErrnoException) => {
        throw new InvalidInputError(`--html: cannot write ${args.html} (${error.code ?? error.message})`);
      });
      lines.push(`HTML report: ${args.html}`);
    }
    return { ok: verdict.ok, data: { ...verdict, ...(args.testRootCa === undefined ? {} : { testRootCa: args.testRootCa }) }, lines };
  });
}
