import type { Hex } from "../util/hex.js";
import { AppComposeJsonError } from "./errors.js";
import { hashAppComposeBytes } from "./hash.js";
import { toDeterministicJson, toPhalaCloudJson, type AppComposeSerialization, type JsonValue } from "./serialize.js";

/** An app-compose serialised in one style: write `bytes` verbatim, since `composeHash` is their hash. */
export interface SerializedAppCompose {
  readonly json: string;
  readonly bytes: Uint8Array;
  readonly composeHash: Hex;
}

type AppComposeObject = { readonly [key: string]: JsonValue | undefined };

/**
 * The fields Phala Cloud drops before serialising (`@phala/cloud` `preprocessAppCompose`):
 * `docker_compose_file` when the runner is `bash`, `bash_script` when it is
 * `docker-compose`, and an empty `pre_launch_script`.
 */
export function preprocessForPhalaCloud(appCompose: AppComposeObject): AppComposeObject {
  const copy: Record<string, JsonValue | undefined> = { ...appCompose };
  if (copy.runner === "bash" && "docker_compose_file" in copy) delete copy.docker_compose_file;
  else if (copy.runner === "docker-compose" && "bash_script" in copy) delete copy.bash_script;
  if ("pre_launch_script" in copy && !copy.pre_launch_script) delete copy.pre_launch_script;
  return copy;
}

/**
 * Serialises an app-compose object in `style` (see `AppComposeSerialization`) and hashes it.
 * `phala` applies Phala Cloud's field preprocessing first, as its `getComposeHash` does.
 */
export function serializeAppCompose(appCompose: AppComposeObject, style: AppComposeSerialization): SerializedAppCompose {
  const json = style === "phala" ? toPhalaCloudJson(preprocessForPhalaCloud(appCompose)) : toDeterministicJson(appCompose);
  const bytes = new TextEncoder().encode(json);
  return { json, bytes, composeHash: hashAppComposeBytes(bytes) };
}

/**
 * Largest app-compose read. Real ones are a few KB; dstack copies up to 50 MB into a
 * CVM, but the file reaches a verifier from whoever runs the CVM, so a bound keeps a
 * hostile one from costing unbounded time and memory. Larger files are refused.
 */
export const MAX_APP_COMPOSE_BYTES = 8 * 1024 * 1024;

/**
 * Parses app-compose JSON (text or raw file bytes) into an object. Only for reading
 * fields: never re-serialise the result to hash it (see `hashAppComposeBytes`).
 */
export function parseAppComposeJson(input: string | Uint8Array, source = "app-compose.json"): Record<string, unknown> {
  if (typeof input !== "string" && !(input instanceof Uint8Array)) {
    throw new AppComposeJsonError(`${source}: expected JSON text or bytes`, { details: `got ${typeof input}` });
  }
  const size = typeof input === "string" ? Buffer.byteLength(input, "utf8") : input.length;
  if (size > MAX_APP_COMPOSE_BYTES) {
    throw new AppComposeJsonError(`${source}: is ${size} bytes, more than MAX_APP_COMPOSE_BYTES (${MAX_APP_COMPOSE_BYTES})`);
  }
  const text = typeof input === "string" ? input : decodeUtf8(input, source);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new AppComposeJsonError(`${source}: not valid JSON`, {
      details: error instanceof Error ? error.message : String(error),
      cause: error,
    });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new AppComposeJsonError(`${source}: top level is not a JSON object`, {
      details: `got ${parsed === null ? "null" : Array.isArray(parsed) ? "an array" : typeof parsed}`,
    });
  }
  return parsed as Record<string, unknown>;
}

/** The docker compose YAML embedded as `docker_compose_file` in an app-compose. */
export function extractDockerComposeFile(input: string | Uint8Array, source = "app-compose.json"): string {
  const appCompose = parseAppComposeJson(input, source);
  const compose = appCompose.docker_compose_file;
  if (compose === undefined) {
    const runner = appCompose.runner;
    throw new AppComposeJsonError(`${source}: has no docker_compose_file`, {
      details: typeof runner === "string" ? `runner is ${JSON.stringify(runner)}` : undefined,
    });
  }
  if (typeof compose !== "string") {
    throw new AppComposeJsonError(`${source}: docker_compose_file is not a string`, {
      details: `got ${compose === null ? "null" : Array.isArray(compose) ? "an array" : typeof compose}`,
    });
  }
  return compose;
}

function decodeUtf8(bytes: Uint8Array, source: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    throw new AppComposeJsonError(`${source}: not valid UTF-8`, { cause: error });
  }
}
