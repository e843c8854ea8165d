import { extractDockerComposeFile, parseAppComposeJson } from "./app-compose-json.js";
import { parseComposeDocument } from "./compose-yaml.js";
import { allImagesPinned, analyzeAppComposeImages, type ServiceImagePinning } from "./images.js";

/**
 * What an app-compose allows that governance usually does not want, checked before its
 * hash is computed or allowed on chain. Each warning is a sentence for the person deciding.
 */
export interface ComposePolicyReport {
  readonly images: ServiceImagePinning[];
  /** Every service image is pinned by `@sha256:` digest (else one hash can run different code). */
  readonly allImagesPinned: boolean;
  /** Keys come from the KMS, so the on-chain allowlist governs what boots. */
  readonly kmsEnabled: boolean;
  /** Variables the docker compose file interpolates that `allowed_envs` does not list, in first-use order. */
  readonly undeclaredEnvs: string[];
  readonly warnings: string[];
}

// Compose interpolation: `$$` is a literal dollar; `${NAME…}` and `$NAME` are references.
// A default such as `${A:-${B}}` is scanned on, so B is found too.
const REFERENCE = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))/g;

/** Names of the environment variables a docker compose file interpolates (keys and values), in first-use order. */
export function interpolatedEnvVars(composeYaml: string, source = "docker compose file"): string[] {
  const names = new Set<string>();
  const visit = (value: unknown): void => {
    if (typeof value === "string") {
      for (const match of value.matchAll(REFERENCE)) {
        const name = match[1] ?? match[2];
        if (name !== undefined) names.add(name);
      }
    } else if (Array.isArray(value)) {
      value.forEach(visit);
    } else if (typeof value === "object" && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        visit(key);
        visit(item);
      }
    }
  };
  visit(parseComposeDocument(composeYaml, source));
  return [...names];
}

/** The warning for an app-compose whose keys do not come from the KMS. */
export const KMS_DISABLED_WARNING = "kms_enabled is false: the CVM does not get its keys from the KMS, so the on-chain allowlist does not govern it";

/** The warning for variables the compose file uses but `allowed_envs` does not list. */
export function undeclaredEnvsWarning(names: readonly string[]): string {
  return `the compose file uses ${names.map((name) => `\${${name}}`).join(", ")}, which allowed_envs does not list: where dstack enforces allowed_envs they are not delivered, so they are empty or their default`;
}

/**
 * Checks an app-compose (JSON text or its exact bytes): image pinning, the KMS, and
 * interpolated variables missing from `allowed_envs`. Throws the compose library's typed
 * errors when the file cannot be read as an app-compose with a docker compose file.
 */
export function checkAppComposePolicy(appCompose: string | Uint8Array, source = "app-compose.json"): ComposePolicyReport {
  const object = parseAppComposeJson(appCompose, source);
  const images = analyzeAppComposeImages(appCompose, source);
  const pinned = allImagesPinned(images);
  const keyProvider = object.key_provider;
  const kmsEnabled = typeof keyProvider === "string" ? keyProvider === "kms" : object.kms_enabled === true;
  const allowed = new Set(Array.isArray(object.allowed_envs) ? object.allowed_envs.filter((name): name is string => typeof name === "string") : []);
  const compose = extractDockerComposeFile(appCompose, source);
  const undeclaredEnvs = interpolatedEnvVars(compose, `docker_compose_file of ${source}`).filter((name) => !allowed.has(name));

  const warnings: string[] = [];
  for (const image of images) {
    if (image.status !== "pinned") warnings.push(`service ${image.service}: image ${image.image ?? "(none)"} is not pinned by @sha256 digest (${image.reason}), so this compose hash can run different code over time`);
  }
  if (!kmsEnabled) warnings.push(KMS_DISABLED_WARNING);
  if (undeclaredEnvs.length > 0) warnings.push(undeclaredEnvsWarning(undeclaredEnvs));
  return { images, allImagesPinned: pinned, kmsEnabled, undeclaredEnvs, warnings };
}
