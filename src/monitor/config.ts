import { readFile } from "node:fs/promises";
import path from "node:path";

import { getAddress, type Address } from "viem";
import { LineCounter, parseDocument, type Document } from "yaml";

import type { EndpointStyle } from "../attestation/live.js";
import { redactRpcUrl } from "../util/redact-url.js";
import { addressProblem } from "../util/address.js";
import { parseDurationMs } from "../util/duration.js";
import { MonitorConfigError } from "./errors.js";

/**
 * The monitor's YAML configuration:
 *
 *   interval: 5m              # between round starts (number = seconds, or 30s / 5m / 1h)
 *   concurrency: 8            # targets fetched and verified at once
 *   retries: 3                # retries of a CVM fetch that failed (network, HTTP error)
 *   retryDelay: 1s            # first retry delay, doubled each time
 *   timeout: 15s              # per CVM request
 *   webhook: https://…        # or { url, attempts, timeout }
 *   defaults: { … }           # any target field but name and url
 *   targets:
 *     - name: my-app
 *       url: https://<app-id>-8090.dstack.example.com
 *       endpointStyle: phala  # or guest-agent
 *       app: 0x…              # default: the attested app-id
 *       kms: 0x…              # also check registration and the OS image
 *       network: sepolia      # a Hardhat network, or rpcUrl: https://… (default: the command's network)
 *       reportData: nonce     # fresh nonce bound as report data (default), or none
 *       appCompose: ./app-compose.json   # relative to this file
 *       quoteSignature: local # or phala-api, skip, or { mode: local, pccsUrl, provider, acceptTcbStatuses }
 *
 * Parsing checks everything before any work starts and reports every problem with the
 * file, line and field. Test-only trust (a test root CA) is never read from here.
 */

/** Where a target's on-chain reads go. `default`: the network the task runs with. */
export type ChainRef = { kind: "network"; name: string } | { kind: "rpc"; url: string } | { kind: "default" };

/** The quote-signature modes a configuration can ask for (no test-only trust anchors). */
export type ConfiguredQuoteSignature =
  | { mode: "local"; pccsUrl?: string; provider?: "phala" | "intel"; acceptedTcbStatuses?: string[] }
  | { mode: "phala-api"; url?: string }
  | { mode: "skip" };

export interface MonitorTargetConfig {
  /** Position in `targets` (0-based), for messages. */
  index: number;
  name: string;
  url: string;
  endpointStyle: EndpointStyle;
  app?: Address;
  kms?: Address;
  chain: ChainRef;
  /** One key per distinct chain configuration: targets with equal keys share a client and a batch. */
  chainKey: string;
  reportData: "nonce" | "none";
  /** The app-compose.json path as resolved, and its exact text once loaded. */
  appComposeFile?: string;
  appCompose?: string;
  quoteSignature: ConfiguredQuoteSignature;
}

export interface WebhookConfig {
  url: string;
  /** Attempts in all (first try included). */
  attempts: number;
  timeoutMs: number;
}

export interface MonitorConfig {
  file: string;
  intervalMs: number;
  concurrency: number;
  retries: number;
  retryDelayMs: number;
  timeoutMs: number;
  webhook?: WebhookConfig;
  targets: MonitorTargetConfig[];
}

export interface ParseMonitorConfigOptions {
  /** Hardhat network names that exist; when given, an unknown `network` is reported. */
  knownNetworks?: readonly string[];
}

const TOP_KEYS = ["interval", "concurrency", "retries", "retryDelay", "timeout", "webhook", "defaults", "targets"];
const TARGET_KEYS = ["name", "url", "endpointStyle", "app", "kms", "network", "rpcUrl", "reportData", "appCompose", "quoteSignature"];
const DEFAULT_KEYS = TARGET_KEYS.filter((k) => k !== "name" && k !== "url");
const WEBHOOK_KEYS = ["url", "attempts", "timeout"];
const SIGNATURE_KEYS: Record<string, string[]> = { local: ["mode", "pccsUrl", "provider", "acceptTcbStatuses"], "phala-api": ["mode", "url"], skip: ["mode"] };

export const MONITOR_DEFAULTS = {
  intervalMs: 60_000,
  concurrency: 8,
  retries: 3,
  retryDelayMs: 1_000,
  timeoutMs: 15_000,
  webhookAttempts: 3,
  webhookTimeoutMs: 10_000,
} as const;

type Path = ReadonlyArray<string | number>;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const show = (value: unknown) => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
};

/** Reads and checks a configuration file, then loads the app-compose files it names. */
export async function loadMonitorConfig(file: string, options: ParseMonitorConfigOptions = {}): Promise<MonitorConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new MonitorConfigError(file, [`${file}: cannot read the monitor configuration (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`]);
  }
  const config = parseMonitorConfig(text, file, options);
  const problems: string[] = [];
  await Promise.all(
    config.targets.map(async (target) => {
      if (target.appComposeFile === undefined) return;
      try {
        // The exact bytes: the compose hash is over them, never a re-serialisation.
        target.appCompose = await readFile(target.appComposeFile, "utf8");
      } catch (error) {
        problems.push(`${file}: targets[${target.index}].appCompose: cannot read ${target.appComposeFile} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      }
    }),
  );
  if (problems.length > 0) throw new MonitorConfigError(file, problems.sort());
  return config;
}

/**
 * Checks a configuration's text (`file` names it in messages and anchors relative
 * `appCompose` paths). Throws `MonitorConfigError` listing every problem.
 */
export function parseMonitorConfig(text: string, file: string, options: ParseMonitorConfigOptions = {}): MonitorConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new MonitorConfigError(
      file,
      // The parser's message repeats the position and quotes the source: keep its first clause.
      doc.errors.map((e) => `${file}:${e.linePos?.[0].line ?? lines.linePos(e.pos[0]).line}: not valid YAML: ${e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")}`),
    );
  }
  const problems: string[] = [];
  const at = (where: Path) => lineOf(doc, lines, where);
  const name = (where: Path) => where.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
  const problem = (where: Path, message: string) => problems.push(`${file}:${at(where)}: ${name(where)}: ${message}`);
  const root: unknown = doc.toJS({ maxAliasCount: 100 });
  if (!isObject(root)) throw new MonitorConfigError(file, [`${file}: expected a mapping with "targets" (and optionally interval, concurrency, webhook, defaults)`]);

  const unknownKeys = (value: Record<string, unknown>, allowed: string[], where: Path) => {
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) problem([...where, key], `unknown field (expected one of ${allowed.join(", ")})`);
    }
  };
  unknownKeys(root, TOP_KEYS, []);

  const intervalMs = duration(root.interval, ["interval"], MONITOR_DEFAULTS.intervalMs, 1_000, problem);
  const concurrency = integer(root.concurrency, ["concurrency"], MONITOR_DEFAULTS.concurrency, 1, 256, problem);
  const retries = integer(root.retries, ["retries"], MONITOR_DEFAULTS.retries, 0, 10, problem);
  const retryDelayMs = duration(root.retryDelay, ["retryDelay"], MONITOR_DEFAULTS.retryDelayMs, 0, problem);
  const timeoutMs = duration(root.timeout, ["timeout"], MONITOR_DEFAULTS.timeoutMs, 1, problem);

  let webhook: WebhookConfig | undefined;
  const rawWebhook = root.webhook;
  if (rawWebhook !== undefined && rawWebhook !== null) {
    const given = typeof rawWebhook === "string" ? { url: rawWebhook } : rawWebhook;
    if (!isObject(given)) problem(["webhook"], `expected a URL or { url, attempts, timeout }, got ${show(rawWebhook)}`);
    else {
      if (typeof rawWebhook !== "string") unknownKeys(given, WEBHOOK_KEYS, ["webhook"]);
      const where: Path = typeof rawWebhook === "string" ? ["webhook"] : ["webhook", "url"];
      const url = httpUrl(given.url, where, problem);
      const attempts = integer(given.attempts, ["webhook", "attempts"], MONITOR_DEFAULTS.webhookAttempts, 1, 10, problem);
      const webhookTimeout = duration(given.timeout, ["webhook", "timeout"], MONITOR_DEFAULTS.webhookTimeoutMs, 1, problem);
      if (url !== undefined) webhook = { url, attempts, timeoutMs: webhookTimeout };
    }
  }

  let defaults: Record<string, unknown> = {};
  if (root.defaults !== undefined && root.defaults !== null) {
    if (!isObject(root.defaults)) problem(["defaults"], `expected a mapping of target fields, got ${show(root.defaults)}`);
    else {
      defaults = root.defaults;
      unknownKeys(defaults, DEFAULT_KEYS, ["defaults"]);
    }
  }

  const targets: MonitorTargetConfig[] = [];
  const rawTargets = root.targets;
  if (!Array.isArray(rawTargets) || rawTargets.length === 0) {
    problem(["targets"], rawTargets === undefined ? "missing: list the CVMs to verify" : `expected a non-empty list of targets, got ${show(rawTargets)}`);
  } else {
    const names = new Map<string, number>();
    rawTargets.forEach((raw, index) => {
      const base: Path = ["targets", index];
      if (!isObject(raw)) {
        problem(base, `expected a mapping with at least url, got ${show(raw)}`);
        return;
      }
      unknownKeys(raw, TARGET_KEYS, base);
      // A field the target sets is reported at the target; one it inherits, at `defaults`.
      const pick = (key: string): [unknown, Path] => (raw[key] !== undefined ? [raw[key], [...base, key]] : [defaults[key], ["defaults", key]]);
      const target = parseTarget(raw, index, base, pick, file, problem, options);
      if (target === undefined) return;
      const earlier = names.get(target.name);
      if (earlier !== undefined) problem([...base, "name"], `duplicate name ${show(target.name)} (also targets[${earlier}]); give each target a unique name`);
      else names.set(target.name, index);
      targets.push(target);
    });
  }

  // A bad inherited default is reported once, not once per target.
  if (problems.length > 0) throw new MonitorConfigError(file, [...new Set(problems)]);
  return { file, intervalMs, concurrency, retries, retryDelayMs, timeoutMs, ...(webhook === undefined ? {} : { webhook }), targets };
}

type Problem = (where: Path, message: string) => void;

function parseTarget(
  raw: Record<string, unknown>,
  index: number,
  base: Path,
  pick: (key: string) => [unknown, Path],
  file: string,
  problem: Problem,
  options: ParseMonitorConfigOptions,
): MonitorTargetConfig | undefined {
  let failed = false;
  const fail: Problem = (where, message) => {
    failed = true;
    problem(where, message);
  };

  let url: string | undefined;
  if (raw.url === undefined) fail([...base, "url"], "missing: the CVM's base URL");
  else url = httpUrl(raw.url, [...base, "url"], fail);
  let name: string | undefined;
  if (raw.name === undefined) name = url === undefined ? undefined : new URL(url).host;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point: a name with a line break or escape sequence is refused
  else if (typeof raw.name !== "string" || raw.name.trim() === "" || /[\u0000-\u001f\u007f]/.test(raw.name)) {
    fail([...base, "name"], `expected a non-empty single-line string, got ${show(raw.name)}`);
  } else name = raw.name.trim();

  const [styleValue, styleAt] = pick("endpointStyle");
  let endpointStyle: EndpointStyle = "phala";
  if (styleValue !== undefined) {
    if (styleValue === "phala" || styleValue === "guest-agent") endpointStyle = styleValue;
    else fail(styleAt, `expected phala or guest-agent, got ${show(styleValue)}`);
  }

  const address = (key: "app" | "kms"): Address | undefined => {
    const [value, where] = pick(key);
    if (value === undefined || value === null) return undefined;
    const problem = typeof value === "string" ? addressProblem(value) : "expected a 0x-prefixed 20-byte address";
    if (problem !== undefined) {
      fail(where, problem.startsWith("expected") ? `${problem}, got ${show(value)}` : problem);
      return undefined;
    }
    return getAddress((value as string).toLowerCase());
  };
  const app = address("app");
  const kms = address("kms");

  // The chain: a target's own network/rpcUrl replaces the defaults' choice entirely.
  const own = raw.network !== undefined || raw.rpcUrl !== undefined;
  const [networkValue, networkAt] = own ? [raw.network, [...base, "network"]] : [pick("network")[0], ["defaults", "network"]];
  const [rpcValue, rpcAt] = own ? [raw.rpcUrl, [...base, "rpcUrl"]] : [pick("rpcUrl")[0], ["defaults", "rpcUrl"]];
  let chain: ChainRef = { kind: "default" };
  if (networkValue !== undefined && rpcValue !== undefined) {
    fail(rpcAt as Path, "give either network or rpcUrl, not both");
  } else if (networkValue !== undefined) {
    if (typeof networkValue !== "string" || networkValue.trim() === "") fail(networkAt as Path, `expected a Hardhat network name, got ${show(networkValue)}`);
    else if (options.knownNetworks !== undefined && !options.knownNetworks.includes(networkValue)) {
      fail(networkAt as Path, `no network ${show(networkValue)} in the Hardhat configuration (known: ${options.knownNetworks.join(", ")})`);
    } else chain = { kind: "network", name: networkValue };
  } else if (rpcValue !== undefined) {
    const rpcUrl = httpUrl(rpcValue, rpcAt as Path, fail);
    if (rpcUrl !== undefined) chain = { kind: "rpc", url: rpcUrl };
  }

  const [reportValue, reportAt] = pick("reportData");
  let reportData: "nonce" | "none" = "nonce";
  if (reportValue !== undefined) {
    if (reportValue === "nonce" || reportValue === "none") reportData = reportValue;
    else fail(reportAt, `expected nonce (a fresh challenge bound as report data) or none, got ${show(reportValue)}`);
  }

  const [composeValue, composeAt] = pick("appCompose");
  let appComposeFile: string | undefined;
  if (composeValue !== undefined) {
    if (typeof composeValue !== "string" || composeValue.trim() === "") fail(composeAt, `expected the path of an app-compose.json, got ${show(composeValue)}`);
    else appComposeFile = path.resolve(path.dirname(file), composeValue);
  }

  const quoteSignature = parseSignature(pick("quoteSignature"), fail);

  if (failed || url === undefined || name === undefined || quoteSignature === undefined) return undefined;
  const chainKey = chain.kind === "network" ? `network:${chain.name}` : chain.kind === "rpc" ? `rpc:${chain.url}` : "default";
  return {
    index,
    name,
    url,
    endpointStyle,
    ...(app === undefined ? {} : { app }),
    ...(kms === undefined ? {} : { kms }),
    chain,
    chainKey,
    reportData,
    ...(appComposeFile === undefined ? {} : { appComposeFile }),
    quoteSignature,
  };
}

function parseSignature([value, where]: [unknown, Path], fail: Problem): ConfiguredQuoteSignature | undefined {
  if (value === undefined) return { mode: "local" };
  const given = typeof value === "string" ? { mode: value } : value;
  if (!isObject(given) || typeof given.mode !== "string" || SIGNATURE_KEYS[given.mode] === undefined) {
    fail(typeof value === "string" || !isObject(value) ? where : [...where, "mode"], `expected local, phala-api or skip (or { mode, … }), got ${show(isObject(value) ? value.mode : value)}`);
    return undefined;
  }
  const mode = given.mode;
  let ok = true;
  for (const key of Object.keys(given)) {
    if (!SIGNATURE_KEYS[mode]!.includes(key)) {
      fail([...where, key], `not an option of quoteSignature mode ${mode} (expected ${SIGNATURE_KEYS[mode]!.join(", ")})`);
      ok = false;
    }
  }
  const sub = (key: string): Path => [...where, key];
  if (mode === "skip") return ok ? { mode: "skip" } : undefined;
  if (mode === "phala-api") {
    if (given.url === undefined) return ok ? { mode: "phala-api" } : undefined;
    const url = httpUrl(given.url, sub("url"), fail);
    return ok && url !== undefined ? { mode: "phala-api", url } : undefined;
  }
  const local: ConfiguredQuoteSignature & { mode: "local" } = { mode: "local" };
  if (given.pccsUrl !== undefined) {
    const url = httpUrl(given.pccsUrl, sub("pccsUrl"), fail);
    if (url === undefined) ok = false;
    else local.pccsUrl = url;
  }
  if (given.provider !== undefined) {
    if (given.provider === "phala" || given.provider === "intel") local.provider = given.provider;
    else {
      fail(sub("provider"), `expected phala or intel, got ${show(given.provider)}`);
      ok = false;
    }
  }
  if (given.acceptTcbStatuses !== undefined) {
    const list = given.acceptTcbStatuses;
    if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === "string" && /^[A-Za-z]+$/.test(s))) {
      fail(sub("acceptTcbStatuses"), `expected a list of TCB statuses such as [UpToDate, SWHardeningNeeded], got ${show(list)}`);
      ok = false;
    } else local.acceptedTcbStatuses = list as string[];
  }
  return ok ? local : undefined;
}

function httpUrl(value: unknown, where: Path, fail: Problem): string | undefined {
  let url: URL | undefined;
  if (typeof value === "string") {
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    // The value may hold a token: shown redacted.
    fail(where, `expected an http(s) URL, got ${typeof value === "string" ? show(redactRpcUrl(value)) : show(value)}`);
    return undefined;
  }
  return value as string;
}

function integer(value: unknown, where: Path, fallback: number, min: number, max: number, fail: Problem): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    fail(where, `expected a whole number from ${min} to ${max}, got ${show(value)}`);
    return fallback;
  }
  return value;
}

/** Seconds as a number, or a string in the duration syntax (src/util/duration.ts): `500ms`, `30s`, `5m`, `1h`. */
function duration(value: unknown, where: Path, fallback: number, minMs: number, fail: Problem): number {
  if (value === undefined || value === null) return fallback;
  let ms: number | undefined;
  if (typeof value === "number" && Number.isFinite(value)) ms = value * 1_000;
  else if (typeof value === "string") {
    const parsed = parseDurationMs(value);
    if (parsed !== undefined) ms = Number(parsed);
  }
  if (ms === undefined || ms < minMs || ms > 7 * 24 * 3_600_000) {
    fail(where, `expected a duration of at least ${minMs >= 1_000 ? `${minMs / 1_000}s` : `${minMs}ms`} (seconds, or 500ms / 30s / 5m / 1h), got ${show(value)}`);
    return fallback;
  }
  return Math.round(ms);
}

/** The line of the node at `where` (or of its nearest existing parent). */
function lineOf(doc: Document, lines: LineCounter, where: Path): number | string {
  for (let depth = where.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(where.slice(0, depth), true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range !== undefined) return lines.linePos(range[0]).line;
  }
  return 1;
}

/** A target URL fit for logs and notifications (tokens in the path or query removed). */
export function shownUrl(target: Pick<MonitorTargetConfig, "url">): string {
  return redactRpcUrl(target.url);
}
