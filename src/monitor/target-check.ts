import { randomBytes } from "node:crypto";

import type { AttestationBundle } from "../attestation/bundle.js";
import { AttestationFetchError, fetchLiveAttestation } from "../attestation/live.js";
import type { OnchainLinkChecker } from "../attestation/onchain.js";
import type { CheckResult } from "../attestation/types.js";
import { verifyAttestation, type QuoteSignatureMode, type VerifyAttestationOptions } from "../attestation/verify.js";
import type { ChainClient } from "../chain/clients.js";
import { redactUrlsInText } from "../util/redact-url.js";
import { describeError } from "../util/errors.js";
import { shownUrl, type MonitorTargetConfig } from "./config.js";
import { withRetries } from "../util/retry.js";

/**
 * - `pass`: every check passed or was skipped as configured;
 * - `fail`: a check ran and its property does not hold (reject this CVM);
 * - `error`: the target could not be verified (CVM unreachable, RPC down, no collateral).
 * Never `pass` without a verdict whose every check passed.
 */
export type TargetState = "pass" | "fail" | "error";

/** One target's outcome in one round: what the JSON line and the webhook carry. */
export interface TargetResult {
  target: string;
  /** The CVM URL, with tokens removed. */
  url: string;
  /** When the target's verification ended (ISO 8601). */
  time: string;
  state: TargetState;
  ok: boolean;
  /** Ids of the checks that failed or errored. */
  failing: string[];
  /** Those checks with their one-line reasons. */
  problems: CheckResult[];
  /** The attested compose hash (lowercase hex, no 0x), when the event log gave one. */
  composeHash: string | null;
  tcbStatus: string | null;
  /** Why the target is `error`: the fetch error, or the first errored check. */
  error: string | null;
  /** CVM fetch attempts made. */
  attempts: number;
  durationMs: number;
}

export interface TargetCheckOptions {
  /** Retries of a failed CVM fetch, and the first delay (doubled each time). */
  retries: number;
  retryDelayMs: number;
  /** Per CVM request. */
  timeoutMs: number;
  fetch?: typeof fetch;
  /** Collateral cache of the local quote-signature check. */
  collateralCacheDir?: string;
  /**
   * Options laid over each verification's, with the fetched bundle at hand. For tests (a
   * test root CA and its collateral); never fed from the configuration file.
   */
  verifyOverrides?: (target: MonitorTargetConfig, bundle: AttestationBundle) => Partial<VerifyAttestationOptions> | undefined;
}

/**
 * Fetches one CVM's attestation with a fresh nonce (retrying network and HTTP failures with
 * backoff) and verifies it end to end. The on-chain reads go through `onchain` when given
 * (an `OnchainBatch` ticket), else straight to `client`. Never throws.
 */
export async function checkTarget(
  target: MonitorTargetConfig,
  client: ChainClient,
  onchain: OnchainLinkChecker | undefined,
  options: TargetCheckOptions,
): Promise<TargetResult> {
  const started = Date.now();
  const base = { target: target.name, url: shownUrl(target) };
  const finish = (fields: Omit<TargetResult, "target" | "url" | "time" | "durationMs" | "ok">): TargetResult => ({
    ...base,
    time: new Date().toISOString(),
    ok: fields.state === "pass",
    ...fields,
    durationMs: Date.now() - started,
  });

  // A fresh challenge per attempt: each quote must carry the nonce sent for it.
  const fetched = await withRetries(
    async () => {
      const nonce = Uint8Array.from(randomBytes(32));
      const live = await fetchLiveAttestation(target.url, { style: target.endpointStyle, nonce, timeoutMs: options.timeoutMs, ...(options.fetch === undefined ? {} : { fetch: options.fetch }) });
      return { bundle: live.bundle, nonce };
    },
    // Transport and HTTP failures may pass; an answer that is not an attestation will not.
    { retries: options.retries, baseDelayMs: options.retryDelayMs, shouldRetry: (error) => error instanceof AttestationFetchError },
  );
  if (!fetched.ok) {
    return finish({
      state: "error",
      failing: [],
      problems: [],
      composeHash: null,
      tcbStatus: null,
      error: `${redactUrlsInText(describeError(fetched.error))}${fetched.attempts > 1 ? ` (after ${fetched.attempts} attempts)` : ""}`,
      attempts: fetched.attempts,
    });
  }

  const { bundle, nonce } = fetched.value;
  const verifyOptions: VerifyAttestationOptions = {
    quoteSignature: quoteSignatureOf(target, options),
    onchain: {
      client,
      ...(target.app === undefined ? {} : { app: target.app }),
      ...(target.kms === undefined ? {} : { kms: target.kms }),
      ...(onchain === undefined ? {} : { batch: onchain }),
    },
    ...(target.reportData === "nonce" ? { reportData: { kind: "nonce" as const, nonce } } : {}),
    ...(target.appCompose === undefined ? {} : { appCompose: target.appCompose }),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    ...options.verifyOverrides?.(target, bundle),
  };
  let verdict: Awaited<ReturnType<typeof verifyAttestation>>["verdict"];
  try {
    ({ verdict } = await verifyAttestation(bundle, verifyOptions));
  } catch (error) {
    // verifyAttestation reports problems as checks; a throw is a bug, still not a pass.
    return finish({ state: "error", failing: [], problems: [], composeHash: null, tcbStatus: null, error: `verification failed: ${describeError(error)}`, attempts: fetched.attempts });
  }
  const problems = verdict.checks.filter((c) => c.status === "fail" || c.status === "error");
  const failed = problems.some((c) => c.status === "fail");
  const errored = problems.find((c) => c.status === "error");
  const state: TargetState = failed ? "fail" : errored !== undefined || !verdict.ok ? "error" : "pass";
  return finish({
    state,
    failing: problems.map((c) => c.id),
    problems,
    composeHash: verdict.events?.composeHash ?? null,
    tcbStatus: verdict.tcbStatus,
    error: errored === undefined ? (state === "error" ? "not verified" : null) : `${errored.id}: ${errored.detail}`,
    attempts: fetched.attempts,
  });
}

/** The `error` result of a target that produced no verdict (e.g. past the round's deadline). */
export function errorResult(target: MonitorTargetConfig, error: string, durationMs: number): TargetResult {
  return {
    target: target.name,
    url: shownUrl(target),
    time: new Date().toISOString(),
    state: "error",
    ok: false,
    failing: [],
    problems: [],
    composeHash: null,
    tcbStatus: null,
    error,
    attempts: 0,
    durationMs,
  };
}

function quoteSignatureOf(target: MonitorTargetConfig, options: TargetCheckOptions): QuoteSignatureMode {
  const configured = target.quoteSignature;
  if (configured.mode !== "local") return configured;
  return { ...configured, ...(options.collateralCacheDir === undefined ? {} : { cacheDir: options.collateralCacheDir }) };
}
