import { getAddress, type Address, type Hex } from "viem";

import type { ChainClient } from "../chain/clients.js";
import { allImagesPinned, analyzeAppComposeImages, MAX_APP_COMPOSE_BYTES, type ServiceImagePinning } from "../compose/index.js";
import { describeError } from "../util/errors.js";
import { toBareHex, toHex } from "../util/hex.js";
import { checkComposeHash, checkMeasurements, checkMrConfigId, checkReportData, type ReferenceMeasurements, type ReportDataExpectation } from "./bindings.js";
import { normalizeBundle, type AttestationBundle } from "./bundle.js";
import { fetchCollateral, parseCollateral, type QuoteCollateral } from "./collateral.js";
import { parseEventLog, type EventLogEntry } from "./event-log.js";
import { mrConfigDocumentFromVmConfig } from "./mr-config.js";
import { checkOnchainLink, type OnchainEvidence, type OnchainLinkChecker, type OnchainLinkResult } from "./onchain.js";
import { verifyQuoteWithPhalaApi } from "./phala-api.js";
import { decodeQuoteInput, parseTdxQuote, type TdxQuote } from "./quote.js";
import { verifyQuoteSignature } from "./quote-signature.js";
import { checkEventLogReplay, type RtmrComparison } from "./replay.js";
import { extractRuntimeEvents, type DstackRuntimeEvents } from "./runtime-events.js";
import { CHECK_IDS, KMS_CHECK_IDS, ONCHAIN_CHECK_IDS, type CheckId, type CheckResult } from "./types.js";

export type QuoteSignatureMode =
  | {
      mode: "local";
      /** Collateral (dcap-qvl JSON); when absent, the bundle's, else fetched from a PCCS. */
      collateral?: unknown;
      pccsUrl?: string;
      provider?: "phala" | "intel";
      cacheDir?: string;
      acceptedTcbStatuses?: readonly string[];
      /** Trust this root CA instead of Intel's. Only for test PKIs; never the default. */
      trustedRootCaDer?: Uint8Array;
    }
  | { mode: "phala-api"; url?: string }
  | { mode: "skip" };

export interface VerifyAttestationOptions {
  /** The time the quote signature and collateral are checked at (default: now). */
  now?: Date | number;
  /** Default `{ mode: "local" }`. */
  quoteSignature?: QuoteSignatureMode;
  reportData?: ReportDataExpectation;
  expectedMeasurements?: ReferenceMeasurements;
  /** The exact app-compose.json text, when the attestation source does not carry it. */
  appCompose?: string;
  /** Fail, rather than skip, when MRCONFIGID carries no compose-hash binding. */
  requireMrConfigIdBinding?: boolean;
  /**
   * The exact MrConfigV3 document an MRCONFIGID of format 0x03 binds (the host's
   * sys-config `mr_config`), when the attestation's `vm_config` does not carry it.
   */
  mrConfigDocument?: string;
  /**
   * Where to read `allowedComposeHashes`; `"skip"` makes an offline run explicit. With
   * `batch` (a ticket of an `OnchainBatch` on the same chain), the reads are handed to it
   * and made together with those of other verifications instead of by this one.
   */
  onchain: { client: ChainClient; app?: Address; kms?: Address; batch?: OnchainLinkChecker } | "skip";
  /** HTTP function for the verifier's requests (Phala's verification API, a PCCS). Default: the global `fetch`. */
  fetch?: typeof fetch;
}

/** The verdict, in the shape the verify-attestation task prints as JSON (hex lowercase, no 0x). */
export interface AttestationVerdict {
  ok: boolean;
  checks: CheckResult[];
  quote: { version: number; teeType: string; mrtd: string; rtmr: string[]; reportData: string; mrConfigId: string } | null;
  events: { appId: string | null; composeHash: string | null; instanceId: string | null; osImageHash: string | null; keyProvider: string | null } | null;
  tcbStatus: string | null;
  advisoryIds: string[];
}

/** What the checks looked at, for reports that show their evidence (not part of the JSON verdict). */
export interface AttestationEvidence {
  bundleShape: AttestationBundle["shape"] | null;
  rtmrComparisons: RtmrComparison[];
  runtimeEvents: Array<{ index: number; event: string; payload: string; digest: string | null }>;
  images: ServiceImagePinning[];
  onchain: OnchainEvidence | undefined;
}

/** What each check needs to have passed first, nearest first (for the reason of a skip). */
const DEPENDS_ON: Partial<Record<CheckId, readonly CheckId[]>> = {
  "report-data": ["quote-signature"],
  "event-log-replay": ["quote-signature"],
  "compose-hash": ["event-log-replay", "quote-signature"],
  "mr-config-id": ["event-log-replay", "quote-signature"],
  "os-measurements": ["quote-signature"],
  "image-pinning": ["compose-hash", "event-log-replay", "quote-signature"],
  "onchain-compose-hash": ["event-log-replay", "quote-signature"],
  "onchain-app-registered": ["onchain-compose-hash", "event-log-replay", "quote-signature"],
  "onchain-os-image": ["onchain-compose-hash", "event-log-replay", "quote-signature"],
};

/**
 * Verifies a dstack CVM attestation end to end: the quote's signature and TCB, the report
 * data, the event log's replay to RTMR0-3, the compose hash (served app-compose, event,
 * MRCONFIGID), image pinning, and the on-chain decision. Never throws for bad input:
 * every problem is a failed or errored check with its reason, and `ok` is true only when
 * no check failed or errored. A check that depends on a failed one is skipped with a
 * note, so the report points at the root cause.
 */
export async function verifyAttestation(
  input: unknown,
  options: VerifyAttestationOptions,
): Promise<{ verdict: AttestationVerdict; evidence: AttestationEvidence }> {
  const checks = new Map<CheckId, CheckResult>();
  const put = (check: CheckResult) => checks.set(check.id, { id: check.id, status: check.status, detail: check.detail });
  const skip = (id: CheckId, detail: string) => put({ id, status: "skip", detail });
  const evidence: AttestationEvidence = { bundleShape: null, rtmrComparisons: [], runtimeEvents: [], images: [], onchain: undefined };
  let tcbStatus: string | null = null;
  let advisoryIds: string[] = [];

  // 1. The bundle and the quote.
  let bundle: AttestationBundle | undefined;
  let quote: TdxQuote | undefined;
  try {
    bundle = isBundle(input) ? input : normalizeBundle(input);
    evidence.bundleShape = bundle.shape;
    quote = parseTdxQuote(decodeQuoteInput(bundle.quote));
  } catch (error) {
    put({ id: "quote-signature", status: "fail", detail: `${bundle === undefined ? "unusable attestation input" : "unusable quote"}: ${describeError(error)}` });
  }

  if (quote !== undefined) {
    const signature = await checkQuoteSignature(quote, bundle!, options);
    put(signature);
    tcbStatus = signature.tcbStatus ?? null;
    advisoryIds = signature.advisoryIds ?? [];
    put(checkReportData(quote.report.reportData, options.reportData));
  }

  // 2. The event log: replay and the dstack runtime events.
  let events: EventLogEntry[] | undefined;
  let runtime: DstackRuntimeEvents | undefined;
  if (quote !== undefined) {
    try {
      if (bundle!.eventLog === undefined) throw new Error("the attestation has no event log");
      events = parseEventLog(bundle!.eventLog as string | unknown[]);
      const replay = checkEventLogReplay(events, quote.report.rtmrs);
      evidence.rtmrComparisons = replay.comparisons;
      if (replay.status !== "pass") {
        put(replay);
      } else {
        runtime = extractRuntimeEvents(events);
        put(replay);
      }
    } catch (error) {
      put({ id: "event-log-replay", status: "fail", detail: `event log rejected: ${describeError(error)}` });
    }
    if (events !== undefined) {
      evidence.runtimeEvents = events
        .filter((e) => e.imr === 3)
        .map((e) => ({ index: e.index, event: e.event, payload: toBareHex(e.payload), digest: e.digest === null ? null : toBareHex(e.digest) }));
    }
  }

  // 3. Bindings of the compose hash, and the measurements.
  const appCompose = options.appCompose ?? bundle?.appCompose;
  if (runtime !== undefined && quote !== undefined) {
    const appComposeBytes = appCompose === undefined ? 0 : Buffer.byteLength(appCompose, "utf8");
    put(
      appCompose === undefined
        ? { id: "compose-hash", status: "fail", detail: "no app-compose to hash: the attestation carries none (supply the exact app-compose.json)" }
        : appComposeBytes > MAX_APP_COMPOSE_BYTES
          ? { id: "compose-hash", status: "fail", detail: `app_compose is ${appComposeBytes} bytes, more than MAX_APP_COMPOSE_BYTES (${MAX_APP_COMPOSE_BYTES}); refused unread` }
          : checkComposeHash(appCompose, runtime.composeHash),
    );
    const document = options.mrConfigDocument ?? mrConfigDocumentFromVmConfig(bundle?.vmConfig);
    put(
      checkMrConfigId(quote.report.mrConfigId, runtime, {
        requireBinding: options.requireMrConfigIdBinding === true,
        ...(document === undefined ? {} : { document }),
      }),
    );
  }
  if (quote !== undefined && options.expectedMeasurements !== undefined) {
    put(checkMeasurements({ mrTd: quote.report.mrTd, rtmrs: quote.report.rtmrs }, options.expectedMeasurements));
  }
  if (appCompose !== undefined && checks.get("compose-hash")?.status === "pass") {
    try {
      evidence.images = analyzeAppComposeImages(appCompose);
      const mutable = evidence.images.filter((image) => image.status !== "pinned");
      put(
        allImagesPinned(evidence.images)
          ? { id: "image-pinning", status: "pass", detail: `all ${evidence.images.length} image(s) pinned by sha256 digest` }
          : { id: "image-pinning", status: "fail", detail: `${mutable.length} image(s) not pinned by digest: ${mutable.map((m) => `${m.service} (${m.image ?? "no image"}: ${m.reason})`).join("; ")}` },
      );
    } catch (error) {
      put({ id: "image-pinning", status: "fail", detail: `cannot analyse the compose file: ${describeError(error)}` });
    }
  }

  // 4. The on-chain decision.
  if (options.onchain === "skip") {
    for (const id of ONCHAIN_CHECK_IDS) skip(id, "on-chain checks skipped on request");
  } else if (runtime !== undefined) {
    try {
      const link = await onchainChecks(runtime, options.onchain);
      for (const check of link.checks) put(check);
      evidence.onchain = link.evidence;
    } catch (error) {
      // e.g. a malformed `app`/`kms` option: still a verdict, with the reason.
      const detail = `on-chain checks could not run: ${describeError(error)}`;
      for (const id of options.onchain.kms === undefined ? (["onchain-compose-hash"] as const) : ONCHAIN_CHECK_IDS) {
        put({ id, status: "error", detail });
      }
    }
  }

  // Anything not reached depends on something that failed: say which, as a skip. The
  // cause named is the check it depends on (not merely the first failure of the run), so
  // the report points at the root cause.
  const problem = (c: CheckResult | undefined) => c !== undefined && (c.status === "fail" || c.status === "error");
  const firstProblem = [...checks.values()].find(problem);
  for (const id of CHECK_IDS) {
    if (checks.has(id)) continue;
    if (id === "os-measurements" && options.expectedMeasurements === undefined) continue;
    if ((KMS_CHECK_IDS as readonly CheckId[]).includes(id) && options.onchain !== "skip" && options.onchain.kms === undefined) {
      skip(id, "no KMS given");
      continue;
    }
    const cause = (DEPENDS_ON[id] ?? []).map((dependency) => checks.get(dependency)).find(problem) ?? firstProblem;
    skip(id, cause === undefined ? "not applicable" : `not checked: ${cause.id} did not pass`);
  }

  const ordered = CHECK_IDS.map((id) => checks.get(id)).filter((c): c is CheckResult => c !== undefined);
  const verdict: AttestationVerdict = {
    ok: ordered.every((c) => c.status === "pass" || c.status === "skip"),
    checks: ordered,
    quote:
      quote === undefined
        ? null
        : {
            version: quote.header.version,
            teeType: "TDX",
            mrtd: toBareHex(quote.report.mrTd),
            rtmr: quote.report.rtmrs.map((r) => toBareHex(r)),
            reportData: toBareHex(quote.report.reportData),
            mrConfigId: toBareHex(quote.report.mrConfigId),
          },
    events:
      runtime === undefined
        ? null
        : {
            appId: runtime.appId === null ? null : toBareHex(runtime.appId),
            composeHash: toBareHex(runtime.composeHash),
            instanceId: runtime.instanceId === null ? null : toBareHex(runtime.instanceId),
            osImageHash: runtime.osImageHash === null ? null : toBareHex(runtime.osImageHash),
            keyProvider: runtime.keyProvider?.text ?? null,
          },
    tcbStatus,
    advisoryIds,
  };
  return { verdict, evidence };
}

const BUNDLE_SHAPES: ReadonlySet<unknown> = new Set(["bundle", "guest-agent", "phala-pair"]);

/**
 * An already-normalised bundle (from `normalizeBundle` / `fetchLiveAttestation`). Input
 * parsed from a file can have the same keys, so the fields later code trusts to be
 * strings are checked here; anything else goes through `normalizeBundle`'s validation.
 */
function isBundle(value: unknown): value is AttestationBundle {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return (
    BUNDLE_SHAPES.has(v.shape) &&
    "eventLog" in v &&
    "quote" in v &&
    (v.appCompose === undefined || typeof v.appCompose === "string") &&
    (v.reportData === undefined || typeof v.reportData === "string")
  );
}

async function checkQuoteSignature(
  quote: TdxQuote,
  bundle: AttestationBundle,
  options: VerifyAttestationOptions,
): Promise<CheckResult & { tcbStatus?: string | null; advisoryIds?: string[] }> {
  const mode = options.quoteSignature ?? { mode: "local" };
  if (mode.mode === "skip") return { id: "quote-signature", status: "skip", detail: "quote signature not checked (skipped on request)" };
  if (mode.mode === "phala-api") return verifyQuoteWithPhalaApi(quote.raw, { url: mode.url, fetch: options.fetch });

  const now = options.now ?? new Date();
  let collateral: QuoteCollateral;
  let source: string;
  try {
    const given = mode.collateral ?? bundle.collateral;
    if (given !== undefined) {
      collateral = parseCollateral(given, "collateral");
      source = "given collateral";
    } else {
      const fetched = await fetchCollateral(quote.raw, {
        pccsUrl: mode.pccsUrl,
        provider: mode.provider,
        cacheDir: mode.cacheDir,
        now,
        ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      });
      collateral = fetched.collateral;
      source = `collateral from ${fetched.source}${fetched.fromCache ? " (cached)" : ""}`;
    }
  } catch (error) {
    return { id: "quote-signature", status: "error", detail: `no usable collateral: ${describeError(error)}` };
  }
  const result = verifyQuoteSignature(quote.raw, collateral, {
    now,
    ...(mode.acceptedTcbStatuses === undefined ? {} : { acceptedTcbStatuses: mode.acceptedTcbStatuses }),
    ...(mode.trustedRootCaDer === undefined ? {} : { trustedRootCaDer: mode.trustedRootCaDer }),
  });
  return { id: "quote-signature", status: result.status, detail: `${result.detail} (${source})`, tcbStatus: result.tcbStatus ?? null, advisoryIds: result.advisoryIds ?? [] };
}

async function onchainChecks(
  runtime: DstackRuntimeEvents,
  onchain: { client: ChainClient; app?: Address; kms?: Address; batch?: OnchainLinkChecker },
): Promise<OnchainLinkResult> {
  // dstack always measures an app-id before system-ready. Without one the attestation does
  // not say which app the CVM runs as, so a given `app` would be checked against nothing.
  if (runtime.appId === null) {
    return { checks: [{ id: "onchain-compose-hash", status: "fail" as const, detail: "the event log has no app-id event before system-ready, so no app contract can be tied to this CVM" }], evidence: undefined };
  }
  const attested = getAddress(toHex(runtime.appId));
  if (onchain.app !== undefined && getAddress(onchain.app) !== attested) {
    return { checks: [{ id: "onchain-compose-hash", status: "fail" as const, detail: `the given app ${getAddress(onchain.app)} is not the attested app-id ${attested}` }], evidence: undefined };
  }
  const app: Address = attested;
  const input = {
    app,
    composeHash: toHex(runtime.composeHash) as Hex,
    osImageHash: runtime.osImageHash === null ? null : (toHex(runtime.osImageHash) as Hex),
    ...(onchain.kms === undefined ? {} : { kms: onchain.kms }),
  };
  const link = await (onchain.batch !== undefined ? onchain.batch.check(input) : checkOnchainLink(onchain.client, input));
  // The allowlist gates a boot only when the CVM takes its keys from the KMS; say so when not.
  const provider = (runtime.keyProvider?.json as { name?: unknown } | undefined)?.name;
  if (provider !== "kms") {
    const what = runtime.keyProvider === null ? "the event log has no key-provider event" : `the key provider is ${JSON.stringify(provider ?? runtime.keyProvider.text)}, not the KMS`;
    link.checks = link.checks.map((check) =>
      check.id === "onchain-compose-hash" && check.status === "pass"
        ? { ...check, detail: `${check.detail}; note: ${what}, so no on-chain decision was enforced when this CVM booted` }
        : check,
    );
  }
  return link;
}
