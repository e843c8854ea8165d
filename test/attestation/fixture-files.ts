/**
 * Access to the real attestation fixtures in `../shared/fixtures` (outside the repo;
 * see its README). Suites that need them call `requireFixtures(this)` in `before()`,
 * which skips the suite with a printed message when the folder is absent (a fresh
 * clone) and runs it otherwise (CI). The files are read only; tampering happens on
 * in-memory copies.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

/** Repository root: two levels above this file's directory (test/attestation). */
export const REPO_ROOT = path.resolve(import.meta.dirname, "../..");
export const FIXTURES_DIR = path.resolve(REPO_ROOT, "../shared/fixtures");

export function fixturesAvailable(): boolean {
  return existsSync(path.join(FIXTURES_DIR, "README.md"));
}

export function requireFixtures(context: Mocha.Context): void {
  if (!fixturesAvailable()) {
    console.log("skipping: ../shared/fixtures not found");
    context.skip();
  }
}

/** A dstack guest-agent GetQuote response as stored in the fixtures. */
export interface GetQuoteFixture {
  quote: Uint8Array;
  quoteHex: string;
  eventLog: string;
  reportData: string;
  vmConfig: Record<string, unknown>;
}

export function loadGetQuote(name: "quote-report.json" | "tdx-lite-getquote.json"): GetQuoteFixture {
  const json = JSON.parse(readFileSync(path.join(FIXTURES_DIR, "dstack", name), "utf8")) as Record<string, unknown>;
  const { quote, event_log: eventLog, report_data: reportData, vm_config: vmConfig } = json;
  if (typeof quote !== "string" || typeof eventLog !== "string" || typeof reportData !== "string" || typeof vmConfig !== "string") {
    throw new Error(`fixture ${name} does not have the GetQuote shape`);
  }
  return {
    quote: new Uint8Array(Buffer.from(quote, "hex")),
    quoteHex: quote,
    eventLog,
    reportData,
    vmConfig: JSON.parse(vmConfig) as Record<string, unknown>,
  };
}

export function loadDcapQvlQuote(): Uint8Array {
  return new Uint8Array(readFileSync(path.join(FIXTURES_DIR, "dcap-qvl", "tdx_quote")));
}
