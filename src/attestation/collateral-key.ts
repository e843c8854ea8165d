/** Which collateral a quote needs: the identifiers a PCCS selects it by. */
import { X509Certificate } from "node:crypto";

import { Quote, utils as dcapUtils } from "@phala/dcap-qvl";

import { CollateralError } from "./collateral-types.js";

/** The quote-derived identifiers that select collateral on a PCCS. */
export interface CollateralKey {
  tee: "tdx" | "sgx";
  /** Upper-case hex, 6 bytes. */
  fmspc: string;
  /** The PCK CA that issued the quote's PCK certificate. */
  ca: "platform" | "processor";
}

function unsupportedQuote(message: string, cause?: unknown): CollateralError {
  return new CollateralError("COLLATERAL_QUOTE_UNSUPPORTED", message, cause === undefined ? {} : { cause, details: String(cause) });
}

/**
 * Reads TEE type, FMSPC and PCK CA from a quote's embedded PCK certificate chain
 * (certification data type 5, which is what dstack's quotes carry).
 */
export function collateralKeyForQuote(quote: Uint8Array): CollateralKey {
  let parsed: Quote;
  try {
    parsed = Quote.parse(quote);
  } catch (error) {
    throw unsupportedQuote(`cannot decode quote: ${(error as Error).message}`, error);
  }
  const teeType = parsed.header.teeType;
  if (teeType !== 0x81 && teeType !== 0) throw unsupportedQuote(`unsupported TEE type 0x${teeType.toString(16)}`);
  let leaf: Buffer | undefined;
  try {
    leaf = dcapUtils.extractCerts(Buffer.from(parsed.rawCertChain()))[0];
  } catch (error) {
    throw unsupportedQuote(
      "the quote does not embed a PCK certificate chain (certification data type 5); cannot derive FMSPC",
      error,
    );
  }
  if (leaf === undefined) throw unsupportedQuote("the quote's PCK certificate chain contains no certificate");
  let fmspc: string;
  let issuer: string;
  try {
    fmspc = Buffer.from(dcapUtils.getFmspc(dcapUtils.getIntelExtension(leaf))).toString("hex").toUpperCase();
    issuer = new X509Certificate(leaf).issuer;
  } catch (error) {
    throw unsupportedQuote(`cannot read FMSPC/issuer from the PCK certificate: ${(error as Error).message}`, error);
  }
  // dcap-qvl 0.3.9's own getCollateral fails to read the issuer and always asks for the
  // processor CA's CRL, which is the wrong CRL for platform-CA PCKs; read it properly.
  const commonName = /^CN=(.*)$/m.exec(issuer)?.[1] ?? "";
  const ca = /Platform/.test(commonName) ? "platform" : /Processor/.test(commonName) ? "processor" : undefined;
  if (ca === undefined) {
    throw unsupportedQuote(`PCK certificate issuer is neither a Platform nor a Processor CA`, `issuer CN=${commonName}`);
  }
  return { tee: teeType === 0x81 ? "tdx" : "sgx", fmspc, ca };
}
