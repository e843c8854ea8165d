import { readFile, writeFile } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";

import { buildAppCompose, hashAppComposeFile, type BuiltAppCompose } from "../../src/compose/index.js";
import { InvalidInputError } from "../../src/util/errors.js";
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
    sources.push({ composeHash: await hashAppComposeFile(args.appCompose), source: args.appCompose });
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
  const built = buildAppCompose({
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
  if (args.out !== undefined) {
    await writeFile(args.out, built.bytes).catch((error: NodeJS.ErrnoException) => {
      throw new InvalidInputError(`--out: cannot write ${args.out} (${error.code ?? error.message})`);
    });
  }
  return built;
}
