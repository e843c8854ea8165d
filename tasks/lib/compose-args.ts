import { readFile, writeFile } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";

import { buildAppCompose, hashAppComposeFile, type BuiltAppCompose } from "../../src/compose/index.js";
import { DstackGovernanceError, InvalidInputError } from "../../src/util/errors.js";
import type { Hex } from "../../src/util/hex.js";
import { parseBytes32List } from "./args.js";

export interface ComposeSourceArgs {
  hash?: string;
  appCompose?: string;
  dockerCompose?: string;
  name?: string;
  out?: string;
  kmsEnabled?: boolean;
  gatewayEnabled?: boolean;
  localKeyProvider?: boolean;
  allowedEnvs?: string;
  preLaunchScript?: string;
  noInstanceId?: boolean;
  secureTime?: boolean;
  publicLogs?: boolean;
  publicSysinfo?: boolean;
}

export interface ComposeHashSource {
  composeHash: Hex;
  source: string;
}

/**
 * The compose hashes a command acts on, from `--hash`, `--app-compose` (exact file bytes)
 * and/or `--docker-compose` (built, and written to `--out` when given). Everything is
 * read and validated before any chain access.
 */
export async function collectComposeHashes(args: ComposeSourceArgs): Promise<ComposeHashSource[]> {
  const sources: ComposeHashSource[] = parseBytes32List(args.hash, "--hash").map((composeHash) => ({ composeHash, source: "--hash" }));
  if (args.appCompose !== undefined) {
    const composeHash = await hashAppComposeFile(args.appCompose).catch((error: unknown) => {
      throw asFlagError(error, "--app-compose");
    });
    sources.push({ composeHash, source: args.appCompose });
  }
  if (args.dockerCompose !== undefined) {
    const built = await buildFromDockerCompose(args);
    sources.push({ composeHash: built.composeHash, source: args.out ?? `${args.dockerCompose} (built)` });
  }
  if (sources.length === 0) {
    throw new InvalidInputError("no compose hash given: pass --hash 0x…, --app-compose FILE or --docker-compose FILE");
  }
  return sources;
}

/** Builds an app-compose.json from `--docker-compose` and the build flags; writes `--out`. */
export async function buildFromDockerCompose(args: ComposeSourceArgs): Promise<BuiltAppCompose> {
  const path = args.dockerCompose!;
  const dockerCompose = await readFile(path).catch((error: NodeJS.ErrnoException) => {
    throw new InvalidInputError(`--docker-compose: cannot read ${path} (${error.code ?? error.message})`);
  });
  let preLaunchScript: string | undefined;
  if (args.preLaunchScript !== undefined) {
    preLaunchScript = await readFile(args.preLaunchScript, "utf8").catch((error: NodeJS.ErrnoException) => {
      throw new InvalidInputError(`--pre-launch-script: cannot read ${args.preLaunchScript} (${error.code ?? error.message})`);
    });
  }
  let built: BuiltAppCompose;
  try {
    built = buildAppCompose({
      name: args.name ?? basename(dirname(resolve(path))),
      dockerCompose,
      kmsEnabled: args.kmsEnabled === true,
      gatewayEnabled: args.gatewayEnabled === true,
      localKeyProviderEnabled: args.localKeyProvider === true,
      allowedEnvs: args.allowedEnvs === undefined ? [] : args.allowedEnvs.split(",").map((name) => name.trim()).filter((name) => name.length > 0),
      ...(preLaunchScript === undefined ? {} : { preLaunchScript }),
      noInstanceId: args.noInstanceId === true,
      secureTime: args.secureTime === true,
      publicLogs: args.publicLogs === true,
      publicSysinfo: args.publicSysinfo === true,
    });
  } catch (error) {
    throw asFlagError(error, "--docker-compose");
  }
  if (args.out !== undefined) {
    await writeFile(args.out, built.bytes).catch((error: NodeJS.ErrnoException) => {
      throw new InvalidInputError(`--out: cannot write ${args.out} (${error.code ?? error.message})`);
    });
  }
  return built;
}

// The compose library names its own options ("dockerCompose: …"); the CLI user typed flags.
const OPTION_FLAGS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^dockerCompose\b/, "--docker-compose"],
  [/^name\b/, "--name"],
  [/^allowedEnvs\b/, "--allowed-envs"],
  [/^preLaunchScript\b/, "--pre-launch-script"],
  [/^kmsEnabled and localKeyProviderEnabled\b/, "--kms-enabled and --local-key-provider"],
];

/** Errors of the compose library that are about the user's file or flags (not the toolkit). */
const COMPOSE_INPUT_CODES = new Set(["INVALID_INPUT", "COMPOSE_FILE_UNREADABLE", "INVALID_COMPOSE_YAML", "COMPOSE_NO_SERVICES", "INVALID_APP_COMPOSE"]);

/**
 * A compose-library error about a file or value the user gave, as an `InvalidInputError`
 * (exit code 2) whose message names the flag, e.g. `--app-compose: cannot read … no such file`.
 * Anything else is returned unchanged.
 */
export function asFlagError(error: unknown, flag: string): unknown {
  if (!(error instanceof DstackGovernanceError) || !COMPOSE_INPUT_CODES.has(error.code)) return error;
  const mapped = OPTION_FLAGS.find(([pattern]) => pattern.test(error.message));
  const message =
    mapped !== undefined ? error.message.replace(mapped[0], mapped[1]) : error.message.startsWith("--") ? error.message : `${flag}: ${error.message}`;
  return new InvalidInputError(message, { ...(error.details === undefined ? {} : { details: error.details }), cause: error });
}
