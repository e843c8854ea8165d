/**
 * Collateral for a quote from a PCCS, kept in an on-disk cache while every piece of it
 * is current. A damaged or stale cache entry is refetched, never trusted.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import path from "node:path";

import { collateralKeyForQuote, type CollateralKey } from "./collateral-key.js";
import { collateralExpiry, parseCollateral } from "./collateral-shape.js";
import { CollateralError, MAX_COLLATERAL_BYTES, type QuoteCollateral } from "./collateral-types.js";
import {
  DEFAULT_PCCS_URL,
  downloadCollateral,
  INTEL_PCS_BASE_URL,
  pccsEndpoint,
  type FetchFunction,
  type PccsEndpoint,
} from "./pccs-client.js";
import { toUnixSeconds } from "./unix-time.js";

export interface FetchCollateralOptions {
  /** PCCS base URL. Default: `provider`'s URL. May carry basic-auth userinfo. */
  pccsUrl?: string;
  /** Which public service to use when `pccsUrl` is not given. Default "phala". */
  provider?: "phala" | "intel";
  /** Directory for cached collateral; no caching when absent. */
  cacheDir?: string;
  /** Time used to decide whether a cache entry is still fresh. Default: now. */
  now?: Date | number;
  /** Per-request timeout. Default 30 s. */
  timeoutMs?: number;
  /** HTTP function for PCCS requests. Default: the global `fetch`. */
  fetch?: FetchFunction;
}

export interface FetchedCollateral {
  collateral: QuoteCollateral;
  /** The PCCS it came from, without credentials. */
  source: string;
  fromCache: boolean;
  /** When the first piece of it (TCB info, QE identity or a CRL) goes stale. */
  expiresAt: Date;
}

const CACHE_FORMAT = "dstack-governance/collateral-cache@1";

function cacheFile(cacheDir: string, endpoint: PccsEndpoint, key: CollateralKey): string {
  // Different services may serve different collateral; credentials never enter the key.
  const service = createHash("sha256").update(endpoint.base).digest("hex").slice(0, 16);
  return path.join(cacheDir, `${key.tee}-${key.fmspc}-${key.ca}-${service}.json`);
}

/** A fresh cache entry, or undefined when absent, stale, for another key, or unreadable. */
async function readCache(file: string, key: CollateralKey, nowMs: number): Promise<QuoteCollateral | undefined> {
  try {
    // The entry wraps collateral (at most MAX_COLLATERAL_BYTES) in a little JSON; anything much larger is not ours.
    if ((await stat(file)).size > 2 * MAX_COLLATERAL_BYTES) return undefined;
    const entry = JSON.parse(await readFile(file, "utf8")) as { format?: unknown; collateral?: unknown };
    if (entry.format !== CACHE_FORMAT) return undefined;
    const collateral = parseCollateral(entry.collateral, `collateral cache ${file}`);
    const fmspc = (JSON.parse(collateral.tcb_info) as { fmspc?: string }).fmspc;
    if (fmspc?.toUpperCase() !== key.fmspc) return undefined;
    return collateralExpiry(collateral).getTime() > nowMs ? collateral : undefined;
  } catch {
    // A damaged cache entry is refetched rather than trusted or reported.
    return undefined;
  }
}

async function writeCache(file: string, source: string, collateral: QuoteCollateral, expiresAt: Date, nowMs: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const entry = {
    format: CACHE_FORMAT,
    source,
    fetchedAt: new Date(nowMs).toISOString(),
    expiresAt: expiresAt.toISOString(),
    collateral,
  };
  // Write-then-rename so a concurrent reader never sees half a file.
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(temporary, `${JSON.stringify(entry, null, 2)}\n`, "utf8");
  await rename(temporary, file);
}

/**
 * Collateral for `quote` from a PCCS, served from `cacheDir` while every piece of the
 * cached copy is still current. Makes the same requests as dcap-qvl's getCollateral
 * (PCK CRL, TCB info, QE identity, root CA CRL) but derives the PCK CA correctly and
 * reports failures as `PccsRequestError` with a credential-free URL.
 */
export async function fetchCollateral(quote: Uint8Array, options: FetchCollateralOptions = {}): Promise<FetchedCollateral> {
  const key = collateralKeyForQuote(quote);
  const endpoint = pccsEndpoint(options.pccsUrl ?? (options.provider === "intel" ? INTEL_PCS_BASE_URL : DEFAULT_PCCS_URL));
  const source = endpoint.base; // origin + path: no userinfo, no query
  const nowMs = toUnixSeconds(options.now ?? new Date()) * 1000;
  const file = options.cacheDir === undefined ? undefined : cacheFile(options.cacheDir, endpoint, key);

  if (file !== undefined) {
    const cached = await readCache(file, key, nowMs);
    if (cached !== undefined) return { collateral: cached, source, fromCache: true, expiresAt: collateralExpiry(cached) };
  }

  const collateral = await downloadCollateral(endpoint, key, {
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  });
  const expiresAt = collateralExpiry(collateral);
  if (file !== undefined && expiresAt.getTime() > nowMs) {
    try {
      await writeCache(file, source, collateral, expiresAt, nowMs);
    } catch (error) {
      throw new CollateralError("COLLATERAL_CACHE_UNWRITABLE", `cannot write collateral cache ${file}`, {
        details: (error as Error).message,
        cause: error,
      });
    }
  }
  return { collateral, source, fromCache: false, expiresAt };
}
