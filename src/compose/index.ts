// Public API of the compose library: app-compose hashing, building and image-pinning
// analysis. Plain TypeScript with no Hardhat dependency, so CLIs and verifiers can use it.
export { AppComposeJsonError, ComposeFileError, ComposePolicyError, ComposeYamlError } from "./errors.js";
export { hashAppComposeBytes, hashAppComposeFile, hashAppComposeText, readAppComposeFile } from "./hash.js";
export {
  APP_COMPOSE_SERIALIZATIONS,
  compareCodePoints,
  isWellFormedUnicode,
  phalaRewritesStrings,
  toDeterministicJson,
  toDeterministicJsonBytes,
  toPhalaCloudJson,
  type AppComposeSerialization,
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
export { parseComposeDocument, parseDockerCompose, type ComposeService } from "./compose-yaml.js";
export {
  extractDockerComposeFile,
  MAX_APP_COMPOSE_BYTES,
  parseAppComposeJson,
  preprocessForPhalaCloud,
  serializeAppCompose,
  type SerializedAppCompose,
} from "./app-compose-json.js";
export { checkAppComposePolicy, interpolatedEnvVars, KMS_DISABLED_WARNING, undeclaredEnvsWarning, type ComposePolicyReport } from "./policy.js";
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
