/**
 * X.509 CRLs in collateral: decoding the parts needed to check one, and the check
 * itself (signed by its issuer, current at the verification time). dcap-qvl 0.3.9
 * neither verifies CRL signatures nor their validity, so a stale, forged or garbled CRL
 * could otherwise hide a revocation.
 */
import { verify as verifySignature, X509Certificate } from "node:crypto";

import { AsnParser } from "@peculiar/asn1-schema";
import { CertificateList, type AlgorithmIdentifier } from "@peculiar/asn1-x509";
import * as asn1js from "asn1js";

import { describeError } from "../util/errors.js";

export interface DecodedCrl {
  /** The DER TBSCertList element: the bytes the issuer signed. */
  tbs: Uint8Array;
  /** DER ECDSA signature. */
  signature: Uint8Array;
  thisUpdate: Date;
  nextUpdate: Date;
}

/** ecdsa-with-SHA256 (RFC 5758): Intel's PCS signs its CRLs with it, without parameters. */
const ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2";

function isEcdsaWithSha256(algorithm: AlgorithmIdentifier): boolean {
  return algorithm.algorithm === ECDSA_WITH_SHA256 && (algorithm.parameters === undefined || algorithm.parameters === null);
}

/**
 * Decodes the parts of an ECDSA-SHA256 X.509 CRL (RFC 5280 CertificateList) needed to
 * check it. ASN.1 parsing is `@peculiar/asn1-x509`'s; the signed TBSCertList is kept as
 * the exact bytes received, since re-encoding could differ from what the issuer signed.
 */
export function decodeCrl(der: Uint8Array): DecodedCrl {
  const bytes = Uint8Array.from(der); // a copy on its own ArrayBuffer
  const parsed = asn1js.fromBER(bytes.buffer);
  if (parsed.offset === -1 || parsed.result.error) throw new Error(`not DER: ${parsed.result.error || "undecodable"}`);
  if (parsed.offset !== bytes.length) throw new Error("trailing bytes after CertificateList");
  let crl: CertificateList;
  try {
    crl = AsnParser.fromASN(parsed.result, CertificateList);
  } catch (error) {
    throw new Error(`not an X.509 CertificateList: ${describeError(error)}`);
  }
  const outer = parsed.result as asn1js.Sequence;
  if (outer.valueBlock.value.length !== 3) throw new Error("trailing fields in CertificateList");
  if (!isEcdsaWithSha256(crl.signatureAlgorithm)) throw new Error("CRL is not signed with ecdsa-with-SHA256");
  if (!isEcdsaWithSha256(crl.tbsCertList.signature)) throw new Error("CRL signature algorithms disagree");
  const signatureValue = outer.valueBlock.value[2] as asn1js.BitString;
  if (signatureValue.valueBlock.unusedBits !== 0) throw new Error("CRL signature BIT STRING has unused bits");
  const tbs = crl.tbsCertListRaw;
  if (tbs === undefined) throw new Error("CRL has no TBSCertList");
  const { thisUpdate, nextUpdate } = crl.tbsCertList;
  if (nextUpdate === undefined) throw new Error("CRL has no nextUpdate");
  return {
    tbs: new Uint8Array(tbs),
    signature: new Uint8Array(crl.signature),
    thisUpdate: thisUpdate.getTime(),
    nextUpdate: nextUpdate.getTime(),
  };
}

/**
 * Checks a CRL (DER, hex) against its issuer's certificate and its validity at
 * `nowSecs`. Returns the failure reason, or undefined when the CRL is good. `name` and
 * `issuerLabel` only word the reason.
 */
export function crlProblem(name: string, crlHex: string, issuerDer: Uint8Array, issuerLabel: string, nowSecs: number): string | undefined {
  let crl: ReturnType<typeof decodeCrl>;
  try {
    crl = decodeCrl(Buffer.from(crlHex, "hex"));
  } catch (error) {
    return `${name} cannot be decoded: ${describeError(error)}`;
  }
  let signed = false;
  try {
    const key = new X509Certificate(issuerDer).publicKey;
    signed = verifySignature("sha256", crl.tbs, { key, dsaEncoding: "der" }, crl.signature);
  } catch {
    signed = false;
  }
  if (!signed) return `${name} is not signed by ${issuerLabel}`;
  const nowMs = nowSecs * 1000;
  if (nowMs < crl.thisUpdate.getTime()) return `${name} is not yet valid (thisUpdate ${crl.thisUpdate.toISOString()})`;
  if (nowMs > crl.nextUpdate.getTime()) return `${name} expired (nextUpdate ${crl.nextUpdate.toISOString()})`;
  return undefined;
}
