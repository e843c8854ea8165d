import { writeFile } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";

import {
  APP_COMPOSE_SERIALIZATIONS,
  buildAppCompose,
  checkAppComposePolicy,
  KMS_DISABLED_WARNING,
  undeclaredEnvsWarning,
  hashAppComposeBytes,
  ComposePolicyError,
  KEY_PROVIDER_KINDS,
  parseAppComposeJson,
  phalaRewritesStrings,
  readAppComposeFile,
  serializeAppCompose,
  type AppComposeSerialization,
  type ComposePolicyReport,
  type JsonValue,
  type KeyProviderKind,
} from "../../src/compose/index.js";
import { DstackGovernanceError, InvalidInputError } from "../../src/util/errors.js";
import { readFileNamedByFlag } from "../../src/util/files.js";
import type { Hex } from "../../src/util/hex.js";
import { parseBytes32List } from "./args.js";

export interface ComposeSourceArgs {
  hash?: string;
  appCompose?: string;
  dockerCompose?: string;
  serialization?: string;
  name?: string;
  out?: string;
  kmsEnabled?: boolean;
  gatewayEnabled?: boolean;
  localKeyProvider?: boolean;
  keyProvider?: string;
  keyProviderId?: string;
  allowedEnvs?: string;
  preLaunchScript?: string;
  noInstanceId?: boolean;
  secureTime?: boolean;
  publicLogs?: boolean;
  publicSysinfo?: boolean;
  publicTcbinfo?: string;
  swapSize?: number;
  requirePinned?: boolean;
}

export interface ComposeHashSource {
  composeHash: Hex;
  source: string;
  /** The app-compose bytes that were hashed (absent for `--hash`). */
  bytes?: Uint8Array;
  /** The flag the bytes came from, for error messages. */
  flag?: "--app-compose" | "--docker-compose";
  /** Built from `--docker-compose`: written to `--out` once every check passed. */
  built?: boolean;
  /** Set by `collectComposeHashes(…, { policy: true })` for file sources. */
  policy?: ComposePolicyReport;
  /** Notes about how the bytes were made (serialisation). */
  notes: string[];
}

/**
 * The compose hashes a command acts on, from `--hash`, `--app-compose` (exact file bytes,
 * or re-serialised with `--serialization`) and/or `--docker-compose` (built, and written to
 * `--out` when given). Everything is read and validated before any chain access. With
 * `policy`, each app-compose is also checked (pinning, KMS, `allowed_envs`), and
 * `--require-pinned` fails before `--out` is written.
 */
export async function collectComposeHashes(args: ComposeSourceArgs, options: { policy?: boolean } = {}): Promise<ComposeHashSource[]> {
  const sources: ComposeHashSource[] = parseBytes32List(args.hash, "--hash").map((composeHash) => ({ composeHash, source: "--hash", notes: [] }));
  if (args.appCompose !== undefined) sources.push(await readAppComposeSource(args));
  if (args.dockerCompose !== undefined) sources.push(await buildSource(args));
  if (sources.length === 0) {
    throw new InvalidInputError("no compose hash given: pass --hash 0x…, --app-compose FILE or --docker-compose FILE");
  }
  if (options.policy === true) {
    for (const source of sources) if (source.bytes !== undefined) source.policy = checkPolicy(source);
    const unpinned = sources.filter((source) => source.policy !== undefined && !source.policy.allImagesPinned);
    if (args.requirePinned === true && unpinned.length > 0) {
      throw new ComposePolicyError(`--require-pinned: ${unpinned.map((source) => source.source).join(", ")} has images not pinned by @sha256 digest; nothing was sent${args.out === undefined ? "" : " and --out was not written"}`, {
        details: unpinned.flatMap((source) => source.policy!.warnings).join("; "),
      });
    }
  }
  await writeBuiltOut(args, sources);
  return sources;
}

/** `--app-compose FILE`: its exact bytes, or with `--serialization` its JSON re-serialised in that style. */
export async function readAppComposeSource(args: ComposeSourceArgs): Promise<ComposeHashSource> {
  const path = args.appCompose!;
  const fileBytes = await readAppComposeFile(path).catch((error: unknown) => {
    throw asFlagError(error, "--app-compose");
  });
  if (args.serialization === undefined) return { composeHash: hashAppComposeBytes(fileBytes), source: path, bytes: fileBytes, flag: "--app-compose", notes: [] };
  const style = parseSerialization(args.serialization);
  let object: Record<string, unknown>;
  let serialized: ReturnType<typeof serializeAppCompose>;
  try {
    object = parseAppComposeJson(fileBytes, path);
    serialized = serializeAppCompose(object as { [key: string]: JsonValue }, style);
  } catch (error) {
    throw asFlagError(error, "--app-compose");
  }
  const notes = [`re-serialised in the ${style} style; the CVM must boot exactly these bytes (write them with --out)`, ...rewriteNote(style, object)];
  return { composeHash: serialized.composeHash, source: `${path} (re-serialised, ${style})`, bytes: serialized.bytes, flag: "--app-compose", built: true, notes };
}

/** `--docker-compose FILE` and the build flags: an app-compose built in memory (see `writeBuiltOut`). */
export async function buildSource(args: ComposeSourceArgs): Promise<ComposeHashSource> {
  const built = await buildFromDockerCompose(args);
  const style = parseSerialization(args.serialization);
  return {
    composeHash: built.composeHash,
    source: args.out ?? `${args.dockerCompose} (built, ${style})`,
    bytes: built.bytes,
    flag: "--docker-compose",
    built: true,
    notes: rewriteNote(style, built.appCompose),
  };
}

/** Builds an app-compose.json from `--docker-compose` and the build flags (nothing is written). */
export async function buildFromDockerCompose(args: ComposeSourceArgs): Promise<ReturnType<typeof buildAppCompose>> {
  const path = args.dockerCompose!;
  const dockerCompose = await readFileNamedByFlag(path, "--docker-compose");
  let preLaunchScript: string | undefined;
  if (args.preLaunchScript !== undefined) {
    preLaunchScript = (await readFileNamedByFlag(args.preLaunchScript, "--pre-launch-script")).toString("utf8");
  }
  const serialization = parseSerialization(args.serialization);
  const keyProvider = parseKeyProvider(args.keyProvider);
  const publicTcbinfo = parseBooleanText(args.publicTcbinfo, "--public-tcbinfo");
  if (args.swapSize !== undefined && (!Number.isSafeInteger(args.swapSize) || args.swapSize < 0)) {
    throw new InvalidInputError(`--swap-size: expected a whole number of bytes, got ${String(args.swapSize)}`);
  }
  try {
    return buildAppCompose({
      name: args.name ?? basename(dirname(resolve(path))),
      dockerCompose,
      kmsEnabled: args.kmsEnabled === true,
      gatewayEnabled: args.gatewayEnabled === true,
      localKeyProviderEnabled: args.localKeyProvider === true,
      ...(keyProvider === undefined ? {} : { keyProvider }),
      ...(args.keyProviderId === undefined ? {} : { keyProviderId: args.keyProviderId }),
      allowedEnvs: args.allowedEnvs === undefined ? [] : args.allowedEnvs.split(",").map((name) => name.trim()).filter((name) => name.length > 0),
      ...(preLaunchScript === undefined ? {} : { preLaunchScript }),
      noInstanceId: args.noInstanceId === true,
      secureTime: args.secureTime === true,
      publicLogs: args.publicLogs === true,
      publicSysinfo: args.publicSysinfo === true,
      ...(publicTcbinfo === undefined ? {} : { publicTcbinfo }),
      ...(args.swapSize === undefined || args.swapSize === 0 ? {} : { swapSizeBytes: args.swapSize }),
      serialization,
    });
  } catch (error) {
    throw asFlagError(error, "--docker-compose");
  }
}

/** Writes the bytes of the built (or re-serialised) source to `--out`, when given. */
export async function writeBuiltOut(args: ComposeSourceArgs, sources: readonly ComposeHashSource[]): Promise<void> {
  if (args.out === undefined) return;
  const built = sources.filter((source) => source.built === true && source.bytes !== undefined);
  if (built.length === 0) {
    throw new InvalidInputError("--out: only with --docker-compose (or --app-compose with --serialization): there are no built bytes to write");
  }
  if (built.length > 1) throw new InvalidInputError("--out: give one of --docker-compose or --app-compose --serialization, not both");
  await writeFile(args.out, built[0]!.bytes!).catch((error: NodeJS.ErrnoException) => {
    throw new InvalidInputError(`--out: cannot write ${args.out} (${error.code ?? error.message})`);
  });
}

/** The policy report of a file source, with compose-library errors named by their flag. */
export function checkPolicy(source: ComposeHashSource): ComposePolicyReport {
  try {
    const report = checkAppComposePolicy(source.bytes!, source.source);
    // The two warnings a build option fixes say which one.
    const undeclared = report.undeclaredEnvs.length > 0 ? undeclaredEnvsWarning(report.undeclaredEnvs) : undefined;
    const warnings = report.warnings.map((warning) =>
      warning === KMS_DISABLED_WARNING ? `${warning} (build with --kms-enabled)` : warning === undeclared ? `${warning} (list them with --allowed-envs)` : warning,
    );
    return { ...report, warnings };
  } catch (error) {
    throw asFlagError(error, source.flag ?? "--app-compose");
  }
}

function rewriteNote(style: AppComposeSerialization, object: unknown): string[] {
  return style === "phala" && phalaRewritesStrings(object as JsonValue)
    ? ['a string value contains `": `, which Phala Cloud\'s serialisation rewrites to `":` (the CVM boots the rewritten text)']
    : [];
}

function parseSerialization(value: string | undefined): AppComposeSerialization {
  if (value === undefined) return "dstack";
  if (!(APP_COMPOSE_SERIALIZATIONS as readonly string[]).includes(value)) {
    throw new InvalidInputError(`--serialization: expected ${APP_COMPOSE_SERIALIZATIONS.join(" or ")}, got ${JSON.stringify(value)}`);
  }
  return value as AppComposeSerialization;
}

function parseKeyProvider(value: string | undefined): KeyProviderKind | undefined {
  if (value === undefined) return undefined;
  if (!(KEY_PROVIDER_KINDS as readonly string[]).includes(value)) {
    throw new InvalidInputError(`--key-provider: expected one of ${KEY_PROVIDER_KINDS.join(", ")}, got ${JSON.stringify(value)}`);
  }
  return value as KeyProviderKind;
}

function parseBooleanText(value: string | undefined, flag: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value !== "true" && value !== "false") throw new InvalidInputError(`${flag}: expected true or false, got ${JSON.stringify(value)}`);
  return value === "true";
}

/** Errors of the compose library that are about the user's file or flags (not the toolkit). */
const COMPOSE_INPUT_CODES = new Set(["INVALID_INPUT", "COMPOSE_FILE_UNREADABLE", "INVALID_COMPOSE_YAML", "COMPOSE_NO_SERVICES", "INVALID_APP_COMPOSE"]);

/**
 * A compose-library error about a file or value the user gave, as an `InvalidInputError`
 * (exit code 2) whose message names the flag, e.g. `--app-compose: cannot read … no such file`.
 * Anything else is returned unchanged.
 */
export function asFlagError(error: unknown, flag: string): unknown {
  if (!(error instanceof DstackGovernanceError) || !COMPOSE_INPUT_CODES.has(error.code)) return error;
  // An error about one of the compose options keeps it (the renderer names its flag);
  // anything else is about the file or value read from `flag`.
  const message = error.field !== undefined || error.message.startsWith("--") ? error.message : `${flag}: ${error.message}`;
  return new InvalidInputError(message, {
    ...(error.details === undefined ? {} : { details: error.details }),
    ...(error.field === undefined ? {} : { field: error.field }),
    cause: error,
  });
}
