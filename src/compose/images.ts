import { extractDockerComposeFile } from "./app-compose-json.js";
import { parseDockerCompose, type ComposeService } from "./compose-yaml.js";

export type ImagePinStatus = "pinned" | "mutable";

/** Whether an image reference fixes the exact image content, and why (not). */
export interface ImageClassification {
  readonly status: ImagePinStatus;
  readonly reason: string;
}

/** Pinning verdict for one compose service. `image` is null when the service has none. */
export interface ServiceImagePinning extends ImageClassification {
  readonly service: string;
  readonly image: string | null;
}

// Docker's digest grammar is `algorithm ":" encoded`; the sha256 encoding must be exactly
// 64 lowercase hex digits (distribution/go-digest rejects uppercase), so an uppercase
// digest is not "pinned": the engine would refuse the reference.
const DIGEST = /^([A-Za-z0-9][A-Za-z0-9+._-]*):(.*)$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const HEX_ANY_CASE = /^[0-9a-fA-F]*$/;

/**
 * Classifies a docker image reference. Only `name@sha256:<64 lowercase hex>` is pinned:
 * a tag (including `latest`, or none at all, which means `latest`) can be re-pointed by
 * whoever controls the registry, so the compose hash would not fix what the CVM runs.
 * Never throws: anything malformed is reported as mutable with the reason.
 */
export function classifyImageReference(image: string): ImageClassification {
  if (image.trim() === "") return mutable("image is empty");
  if (/\s/.test(image)) return mutable("not a valid image reference (contains whitespace)");
  // Compose substitutes ${VAR} from the deploy-time environment, so the reference is not
  // fixed by the file's contents even if the placeholder sits where a digest goes.
  if (image.includes("$")) return mutable("uses variable interpolation, so the image is chosen at deploy time");

  const at = image.indexOf("@");
  if (at >= 0) return classifyDigest(image.slice(0, at), image.slice(at + 1));

  const tag = tagOf(image);
  if (tag === undefined) return mutable("no tag or digest (defaults to :latest, which can change)");
  if (tag === "") return mutable("not a valid image reference (empty tag)");
  if (tag === "latest") return mutable('tag "latest" can change; pin with @sha256:<digest>');
  return mutable(`tag ${JSON.stringify(tag)} can be re-pointed; pin with @sha256:<digest>`);
}

function classifyDigest(name: string, digest: string): ImageClassification {
  if (name === "") return mutable("not a valid image reference (no repository before @)");
  if (digest.includes("@")) return mutable("not a valid image reference (more than one @)");
  const match = DIGEST.exec(digest);
  if (match === null) return mutable(`digest ${JSON.stringify(digest)} is not of the form algorithm:hex`);
  const algorithm = match[1] ?? "";
  const encoded = match[2] ?? "";
  if (algorithm !== "sha256") return mutable(`digest algorithm ${JSON.stringify(algorithm)} is not sha256`);
  if (!HEX_ANY_CASE.test(encoded)) return mutable("sha256 digest is not hexadecimal");
  if (encoded.length !== 64) return mutable(`sha256 digest has ${encoded.length} hex digits, expected 64`);
  if (!SHA256_HEX.test(encoded)) return mutable("sha256 digest must be lowercase hex (Docker rejects uppercase digests)");
  const tag = tagOf(name);
  // Docker ignores the tag when a digest is present; say so, since readers may trust it.
  const note = tag === undefined || tag === "" ? "" : ` (tag ${JSON.stringify(tag)} is ignored)`;
  return { status: "pinned", reason: `pinned by sha256 digest${note}` };
}

/**
 * The tag of a reference without digest, or undefined when there is none. A colon before
 * the last `/` belongs to a registry port (`host:5000/img`), not a tag.
 */
function tagOf(name: string): string | undefined {
  const lastSlash = name.lastIndexOf("/");
  const colon = name.indexOf(":", lastSlash + 1);
  return colon < 0 ? undefined : name.slice(colon + 1);
}

function mutable(reason: string): ImageClassification {
  return { status: "mutable", reason };
}

/** Classifies one service, taking `build:` and missing images into account. */
export function classifyService(service: ComposeService): ServiceImagePinning {
  const { name, definition } = service;
  const rawImage = definition.image;
  const hasBuild = definition.build !== undefined && definition.build !== null;

  if (rawImage === undefined || rawImage === null) {
    if (hasBuild) return { service: name, image: null, ...mutable("built from source at deploy time (build:), no image to pin") };
    if (definition.extends !== undefined) {
      return { service: name, image: null, ...mutable("no image of its own (extends: is not resolved); set a pinned image on the service") };
    }
    return { service: name, image: null, ...mutable("no image and no build") };
  }
  if (typeof rawImage !== "string") {
    // Not String(rawImage): an aliased structure would be expanded in full.
    const shown = typeof rawImage !== "object" ? String(rawImage) : Array.isArray(rawImage) ? "(a list)" : "(a mapping)";
    return { service: name, image: shown, ...mutable("image is not a string") };
  }
  const verdict = classifyImageReference(rawImage);
  if (hasBuild) {
    // With build: present Compose may build locally and tag the result with this name,
    // so even a digest does not fix what runs.
    const why = verdict.status === "pinned" ? "" : `; also ${verdict.reason}`;
    return { service: name, image: rawImage, ...mutable(`has build:, so the image may be built in the CVM instead of pulled${why}`) };
  }
  return { service: name, image: rawImage, ...verdict };
}

/** Pinning verdicts for every service of a docker compose file, in file order. */
export function analyzeComposeImages(composeYaml: string, source = "docker compose file"): ServiceImagePinning[] {
  return parseDockerCompose(composeYaml, source).map(classifyService);
}

/**
 * Pinning verdicts for the docker compose file embedded in app-compose JSON (text or the
 * file's raw bytes).
 */
export function analyzeAppComposeImages(appComposeJson: string | Uint8Array, source = "app-compose.json"): ServiceImagePinning[] {
  const composeYaml = extractDockerComposeFile(appComposeJson, source);
  return analyzeComposeImages(composeYaml, `docker_compose_file of ${source}`);
}

/** True when every service's image is pinned by digest. */
export function allImagesPinned(results: readonly ServiceImagePinning[]): boolean {
  return results.length > 0 && results.every((result) => result.status === "pinned");
}
