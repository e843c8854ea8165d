import { InvalidInputError } from "../util/errors.js";
import { parseHexBytes, toBareHex, type Hex } from "../util/hex.js";
import { parseDockerCompose } from "./compose-yaml.js";
import { ComposeYamlError } from "./errors.js";
import { serializeAppCompose } from "./app-compose-json.js";
import { APP_COMPOSE_SERIALIZATIONS, isWellFormedUnicode, type AppComposeSerialization } from "./serialize.js";

/** dstack's key provider kinds (dstack-types `KeyProviderKind`). */
export type KeyProviderKind = "none" | "kms" | "local" | "tpm";
export const KEY_PROVIDER_KINDS: readonly KeyProviderKind[] = ["none", "kms", "local", "tpm"];

/**
 * The app-compose fields this builder writes (names as in dstack's SDKs and vmm-cli).
 * A type alias rather than an interface so it is assignable to `JsonValue`.
 */
export type AppComposeManifest = {
  manifest_version: 2;
  name: string;
  runner: "docker-compose";
  docker_compose_file: string;
  kms_enabled: boolean;
  gateway_enabled: boolean;
  local_key_provider_enabled: boolean;
  key_provider?: KeyProviderKind;
  key_provider_id?: string;
  public_logs: boolean;
  public_sysinfo: boolean;
  public_tcbinfo?: boolean;
  allowed_envs: string[];
  no_instance_id: boolean;
  secure_time: boolean;
  pre_launch_script?: string;
  swap_size?: number;
};

export interface BuildAppComposeOptions {
  /** App name; must be non-empty. */
  name: string;
  /** The docker-compose.yaml text, or its raw bytes (must be UTF-8; kept verbatim, BOM included). */
  dockerCompose: string | Uint8Array;
  /** Default false. On-chain compose-hash governance only applies when true. */
  kmsEnabled?: boolean;
  /** Default false. */
  gatewayEnabled?: boolean;
  /** Default false. */
  localKeyProviderEnabled?: boolean;
  /** Written only when given; must agree with the enabled flags. */
  keyProvider?: KeyProviderKind;
  /** Hex (optional 0x); written only when given, as lowercase hex without 0x. */
  keyProviderId?: string;
  /** Names of env vars the CVM may receive encrypted; order is kept (it is hashed). */
  allowedEnvs?: readonly string[];
  /** Written verbatim when non-empty; an empty script is omitted, as dstack does. */
  preLaunchScript?: string;
  /** Default false. */
  noInstanceId?: boolean;
  /** Default false. Written explicitly because the guest treats a missing field as true. */
  secureTime?: boolean;
  /** Default false. */
  publicLogs?: boolean;
  /** Default false. */
  publicSysinfo?: boolean;
  /** Written only when given (the guest defaults a missing field to true). */
  publicTcbinfo?: boolean;
  /** Swap in bytes; written only when > 0, like vmm-cli's `swap_size`. */
  swapSizeBytes?: number;
  /** How the bytes are written (default `dstack`, the SDKs' compact form; `phala` for Phala Cloud). */
  serialization?: AppComposeSerialization;
}

/** A built app-compose: write `bytes` to disk verbatim, since `composeHash` is their hash. */
export interface BuiltAppCompose {
  readonly appCompose: AppComposeManifest;
  readonly json: string;
  readonly bytes: Uint8Array;
  readonly composeHash: Hex;
}

const OPTION_KEYS: ReadonlySet<string> = new Set([
  "name",
  "dockerCompose",
  "kmsEnabled",
  "gatewayEnabled",
  "localKeyProviderEnabled",
  "keyProvider",
  "keyProviderId",
  "allowedEnvs",
  "preLaunchScript",
  "noInstanceId",
  "secureTime",
  "publicLogs",
  "publicSysinfo",
  "publicTcbinfo",
  "swapSizeBytes",
  "serialization",
] satisfies (keyof BuildAppComposeOptions)[]);

// POSIX "Name": what a shell, `env` and dstack's .env handling accept as a variable name.
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: detects control characters in order to refuse them
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/**
 * Builds app-compose.json with the field set vmm-cli's `compose` command writes, serialised
 * the way dstack's SDKs do for the compose hash (sorted keys, compact, UTF-8, non-ASCII raw)
 * or, with `serialization: "phala"`, the way Phala Cloud does. Inputs are validated first;
 * the docker compose text must parse and have services.
 */
export function buildAppCompose(options: BuildAppComposeOptions): BuiltAppCompose {
  const appCompose = toManifest(options);
  return { appCompose, ...serializeAppCompose(appCompose, checkSerialization(options.serialization)) };
}

function checkSerialization(value: unknown): AppComposeSerialization {
  if (value === undefined) return "dstack";
  if (typeof value !== "string" || !(APP_COMPOSE_SERIALIZATIONS as readonly string[]).includes(value)) {
    throw new InvalidInputError(`serialization: expected one of ${APP_COMPOSE_SERIALIZATIONS.join(", ")}`, { details: `got ${JSON.stringify(value)}`, field: "serialization" });
  }
  return value as AppComposeSerialization;
}

function toManifest(options: BuildAppComposeOptions): AppComposeManifest {
  if (typeof options !== "object" || options === null) {
    throw new InvalidInputError("app-compose options: expected an object");
  }
  // A misspelt flag (say `kms: true`) would otherwise silently build a KMS-less app.
  const unknown = Object.keys(options).filter((key) => !OPTION_KEYS.has(key));
  if (unknown.length > 0) {
    throw new InvalidInputError(`app-compose options: unknown option ${unknown.map((key) => JSON.stringify(key)).join(", ")}`, {
      details: `known options: ${[...OPTION_KEYS].join(", ")}`,
    });
  }

  const kmsEnabled = flag(options.kmsEnabled, "kmsEnabled");
  const localKeyProviderEnabled = flag(options.localKeyProviderEnabled, "localKeyProviderEnabled");
  const keyProvider = checkKeyProvider(options.keyProvider, kmsEnabled, localKeyProviderEnabled);

  const manifest: AppComposeManifest = {
    manifest_version: 2,
    name: checkName(options.name),
    runner: "docker-compose",
    docker_compose_file: checkDockerCompose(options.dockerCompose),
    kms_enabled: kmsEnabled,
    gateway_enabled: flag(options.gatewayEnabled, "gatewayEnabled"),
    local_key_provider_enabled: localKeyProviderEnabled,
    public_logs: flag(options.publicLogs, "publicLogs"),
    public_sysinfo: flag(options.publicSysinfo, "publicSysinfo"),
    allowed_envs: checkAllowedEnvs(options.allowedEnvs),
    no_instance_id: flag(options.noInstanceId, "noInstanceId"),
    secure_time: flag(options.secureTime, "secureTime"),
  };
  if (keyProvider !== undefined) manifest.key_provider = keyProvider;
  if (options.keyProviderId !== undefined) manifest.key_provider_id = checkKeyProviderId(options.keyProviderId);
  if (options.publicTcbinfo !== undefined) manifest.public_tcbinfo = flag(options.publicTcbinfo, "publicTcbinfo");
  const script = checkPreLaunchScript(options.preLaunchScript);
  if (script !== undefined) manifest.pre_launch_script = script;
  const swap = checkSwapSize(options.swapSizeBytes);
  if (swap !== undefined) manifest.swap_size = swap;
  return manifest;
}

function flag(value: unknown, option: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") {
    // Catches CLI plumbing that passes "false", which is truthy.
    throw new InvalidInputError(`${option}: expected true or false`, { details: `got ${JSON.stringify(value)}`, field: option });
  }
  return value;
}

function checkName(name: unknown): string {
  if (typeof name !== "string") throw new InvalidInputError("name: expected a string", { details: `got ${typeof name}`, field: "name" });
  if (name.trim() === "") throw new InvalidInputError("name: must not be empty", { field: "name" });
  if (CONTROL_CHARS.test(name)) throw new InvalidInputError("name: must not contain control characters (newlines, tabs, ...)", { field: "name" });
  if (!isWellFormedUnicode(name)) throw new InvalidInputError("name: contains an unpaired UTF-16 surrogate", { field: "name" });
  return name;
}

function checkDockerCompose(input: unknown): string {
  let text: string;
  if (typeof input === "string") {
    text = input;
  } else if (input instanceof Uint8Array) {
    try {
      // ignoreBOM keeps a leading BOM in the text, as Python's bytes.decode("utf-8") in
      // vmm-cli does; dropping it would change the hash.
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(input);
    } catch (error) {
      throw new InvalidInputError("dockerCompose: not valid UTF-8", { cause: error, field: "dockerCompose" });
    }
  } else {
    throw new InvalidInputError("dockerCompose: expected YAML text or bytes", { details: `got ${typeof input}`, field: "dockerCompose" });
  }
  if (text.trim() === "") throw new InvalidInputError("dockerCompose: must not be empty", { field: "dockerCompose" });
  if (!isWellFormedUnicode(text)) throw new InvalidInputError("dockerCompose: contains an unpaired UTF-16 surrogate", { field: "dockerCompose" });
  // Fail here rather than after the hash is on-chain and the CVM refuses to start.
  try {
    parseDockerCompose(text, "dockerCompose");
  } catch (error) {
    if (error instanceof ComposeYamlError) throw error.about("dockerCompose");
    throw error;
  }
  return text;
}

function checkAllowedEnvs(envs: unknown): string[] {
  if (envs === undefined) return [];
  if (!Array.isArray(envs)) throw new InvalidInputError("allowedEnvs: expected a list of names", { details: `got ${typeof envs}`, field: "allowedEnvs" });
  const seen = new Set<string>();
  return envs.map((env: unknown, index) => {
    if (typeof env !== "string" || !ENV_NAME.test(env)) {
      throw new InvalidInputError(`allowedEnvs[${index}]: ${JSON.stringify(env)} is not a valid environment variable name`, {
        details: "Names must match [A-Za-z_][A-Za-z0-9_]* (letters, digits, underscore; not starting with a digit).",
        field: `allowedEnvs[${index}]`,
      });
    }
    if (seen.has(env)) throw new InvalidInputError(`allowedEnvs[${index}]: duplicate name ${JSON.stringify(env)}`, { field: `allowedEnvs[${index}]` });
    seen.add(env);
    return env;
  });
}

function checkKeyProvider(value: unknown, kmsEnabled: boolean, localEnabled: boolean): KeyProviderKind | undefined {
  // The guest silently prefers KMS when both flags are set; make that choice explicit.
  if (kmsEnabled && localEnabled) {
    throw new InvalidInputError("kmsEnabled and localKeyProviderEnabled: only one key provider can be enabled", { field: "kmsEnabled and localKeyProviderEnabled" });
  }
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !(KEY_PROVIDER_KINDS as readonly string[]).includes(value)) {
    throw new InvalidInputError(`keyProvider: expected one of ${KEY_PROVIDER_KINDS.join(", ")}`, {
      details: `got ${JSON.stringify(value)}`,
      field: "keyProvider",
    });
  }
  const kind = value as KeyProviderKind;
  // The guest reads key_provider first and the flags only as a fallback, so a mismatch
  // would make the flags in the signed manifest lie about which provider is used.
  const consistent = kind === "kms" ? kmsEnabled : kind === "local" ? localEnabled : !kmsEnabled && !localEnabled;
  if (!consistent) {
    throw new InvalidInputError(`keyProvider: "${kind}" contradicts kmsEnabled=${kmsEnabled}, localKeyProviderEnabled=${localEnabled}`, { field: "keyProvider" });
  }
  return kind;
}

function checkKeyProviderId(value: unknown): string {
  if (typeof value !== "string") throw new InvalidInputError("keyProviderId: expected a hex string", { details: `got ${typeof value}`, field: "keyProviderId" });
  return toBareHex(parseHexBytes(value, "keyProviderId"));
}

function checkPreLaunchScript(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw new InvalidInputError("preLaunchScript: expected a string", { details: `got ${typeof value}`, field: "preLaunchScript" });
  if (!isWellFormedUnicode(value)) throw new InvalidInputError("preLaunchScript: contains an unpaired UTF-16 surrogate", { field: "preLaunchScript" });
  return value === "" ? undefined : value;
}

function checkSwapSize(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidInputError("swapSizeBytes: expected a non-negative whole number of bytes", { details: `got ${String(value)}`, field: "swapSizeBytes" });
  }
  return value === 0 ? undefined : value;
}
