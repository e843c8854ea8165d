import { toBareHex } from "../util/hex.js";
import { isAllZero } from "./digest.js";
import type { TdxQuote } from "./quote.js";

/** Intel's Quoting Enclave vendor id, in the quote header. */
export const INTEL_QE_VENDOR_ID_HEX = "939a7233f79c4ca9940a0db3957f0607";

const QE_REPORT_DATA_OFFSET = 320;

/**
 * Rules on a TDX quote that `@phala/dcap-qvl` 0.3.9 (npm) does not apply, each taken
 * from a verifier that does:
 *
 * - QE vendor id = Intel's (dcap-qvl's Rust `verify`, Intel's QVL): the quote was made by
 *   Intel's Quoting Enclave.
 * - QE report REPORTDATA[32..64] = 0 (Intel's QVL): the QE writes SHA-256(attestation
 *   key ‖ QE auth data) followed by 32 zero bytes; dcap-qvl compares only the hash.
 * - MRSIGNERSEAM = 0 (dstack's `validate_tcb`, and dcap-qvl's Rust check against the TCB
 *   info's `tdxModule.mrsigner`, which is zero): the TDX module is Intel's own.
 * - SEAMATTRIBUTES match the TCB info's `tdxModule` attributes under its mask, with no
 *   bit set outside the mask (dcap-qvl's Rust check); zero when the TCB info names none.
 *
 * The rules dcap-qvl 0.3.9 does apply (TD debug bit and other TUD bits, reserved
 * TD attribute bits, SEPT_VE_DISABLE set, MRSERVICETD zero for TD report 1.5) stay with
 * it. Returns the first rule broken, or undefined.
 */
export function quotePolicyProblem(quote: TdxQuote, tcbInfoJson: string): string | undefined {
  const vendor = hex(quote.header.qeVendorId);
  if (vendor !== INTEL_QE_VENDOR_ID_HEX) return `QE vendor id ${vendor} is not Intel's (${INTEL_QE_VENDOR_ID_HEX})`;

  const qeReportData = quote.signature.qeReportCertification.qeReport.subarray(QE_REPORT_DATA_OFFSET + 32, QE_REPORT_DATA_OFFSET + 64);
  if (!isAllZero(qeReportData)) return `QE report data bytes 32..63 are ${hex(qeReportData)}, not the zeros Intel's QE writes`;

  const { mrSignerSeam, seamAttributes } = quote.report;
  if (!isAllZero(mrSignerSeam)) return `MRSIGNERSEAM is ${hex(mrSignerSeam)}, not zero: the TDX module is not Intel's (dstack requires zero)`;

  const module = tdxModule(tcbInfoJson);
  for (let i = 0; i < 8; i++) {
    const actual = seamAttributes[i] ?? 0;
    const mask = module.mask[i] ?? 0xff;
    if ((actual & mask) !== ((module.attributes[i] ?? 0) & mask) || (actual & ~mask & 0xff) !== 0) {
      return `SEAMATTRIBUTES ${hex(seamAttributes)} do not match the TCB info's TDX module attributes ${hex(module.attributes)} (mask ${hex(module.mask)})`;
    }
  }
  return undefined;
}

/** `tdxModule` of the (signature-checked) TCB info; an absent one means attributes 0 under a full mask. */
function tdxModule(tcbInfoJson: string): { attributes: Uint8Array; mask: Uint8Array } {
  const module = (JSON.parse(tcbInfoJson) as { tdxModule?: { attributes?: unknown; attributesMask?: unknown } }).tdxModule;
  const field = (value: unknown, fallback: string) =>
    typeof value === "string" && /^[0-9a-fA-F]{16}$/.test(value) ? Buffer.from(value, "hex") : Buffer.from(fallback, "hex");
  return { attributes: field(module?.attributes, "0000000000000000"), mask: field(module?.attributesMask, "ffffffffffffffff") };
}

const hex = toBareHex;
