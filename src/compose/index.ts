// Public API of the compose library: app-compose hashing, building and image-pinning
// analysis. Plain TypeScript with no Hardhat dependency, so CLIs and verifiers can use it.
export { AppComposeJsonError, ComposeFileError, ComposeYamlError } from "./errors.js";
export { hashAppComposeBytes, hashAppComposeFile, hashAppComposeText, readAppComposeFile } from "./hash.js";
export {
  compareCodePoints,
  isWellFormedUnicode,
  toDeterministicJson,
  toDeterministicJsonBytes,
  type JsonValue,
} from "./serialize.js";
export {
  buildAppCompose,
  KEY_PROVIDER_KINDS,
  type AppComposeManifest,
  type BuildAppComposeOptions,
  type BuiltAppCompose,
  type KeyProviderKind,
} from "./build.js";
export { parseDockerCompose, type ComposeService } from "./compose-yaml.js";
export { extractDockerComposeFile, MAX_APP_COMPOSE_BYTES, parseAppComposeJson } from "./app-compose-json.js";
export {
  allImagesPinned,
  analyzeAppComposeImages,
  analyzeComposeImages,
  classifyImageReference,
  classifyService,
  type ImageClassification,
  type ImagePinStatus,
  type ServiceImagePinning,
} from "./images.js";
