import { file, flag, int, str, type ArgsOf } from "./builders.js";

/**
 * The options that name compose hashes, shared by compose-hash and the compose-hash
 * allowlist tasks (declared in `tasks/index.ts`, read by `compose-args.ts`).
 */

// Options that build an app-compose.json from a docker-compose.yaml.
export const composeBuildOptions = [
  file("dockerCompose", "FILE: a docker-compose.yaml to build the app-compose.json from"),
  str("serialization", "How the app-compose bytes are written: dstack (the SDKs' compact JSON; default when building) or phala (Phala Cloud's 4-space form); with --app-compose, re-serialise that file's JSON"),
  str("name", "NAME written into a built app-compose.json (default: the compose file's folder name)"),
  file("out", "FILE to write the built app-compose.json to (the exact bytes that were hashed; not written when a check fails)"),
  flag("kmsEnabled", "Built app-compose: keys come from the dstack KMS (on-chain governance)"),
  flag("gatewayEnabled", "Built app-compose: expose the app through the dstack gateway"),
  flag("localKeyProvider", "Built app-compose: use the local key provider"),
  str("keyProvider", "Built app-compose: key_provider none|kms|local|tpm (must agree with --kms-enabled / --local-key-provider)"),
  str("keyProviderId", "Built app-compose: key_provider_id (HEX)"),
  str("allowedEnvs", "Built app-compose: NAME,NAME… of the encrypted env vars the app may receive"),
  file("preLaunchScript", "Built app-compose: FILE whose text is the pre-launch script"),
  flag("noInstanceId", "Built app-compose: no instance id"),
  flag("secureTime", "Built app-compose: wait for secure time before starting"),
  flag("publicLogs", "Built app-compose: make the container logs public"),
  flag("publicSysinfo", "Built app-compose: make the system info public"),
  str("publicTcbinfo", "Built app-compose: public_tcbinfo true|false (omitted when not given; the guest then treats it as true)"),
  int("swapSize", "Built app-compose: swap_size in BYTES (0: no swap, field omitted)", 0),
];

export const hashSourceOptions = [
  str("hash", "0xHASH[,0xHASH…]: compose hashes (0x + 64 hex digits each); or give --app-compose / --docker-compose"),
  file("appCompose", "FILE: an app-compose.json whose exact bytes are hashed"),
];

/** What the action receives for `composeBuildOptions`. */
export type ComposeBuildArgs = ArgsOf<typeof composeBuildOptions>;
/** What the action receives for `hashSourceOptions`. */
export type HashSourceArgs = ArgsOf<typeof hashSourceOptions>;
