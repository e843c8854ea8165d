import { CORE_SCHEMA, loadAll, mergeTag, YAMLException } from "js-yaml";

import { describeError } from "../util/errors.js";
import { ComposeYamlError } from "./errors.js";

/** One entry of a compose file's `services` mapping, in file order. */
export interface ComposeService {
  readonly name: string;
  /** The service's mapping as plain JS (anchors and `<<` merge keys resolved). */
  readonly definition: Readonly<Record<string, unknown>>;
}

/**
 * YAML 1.2 core schema plus `<<` merge keys: Docker Compose resolves merge keys, so we must
 * too or images defined through an anchor would look missing.
 *
 * Parsed with js-yaml, in time linear in the text: the `yaml` package used before spent
 * about 2 s on a 20,000-service file (and, with its quadratic duplicate-key check, over a
 * minute on 50,000), js-yaml about a tenth of that. Duplicate keys are refused. Aliases are shared references,
 * never copies, so an alias "bomb" costs no memory (nothing here walks the values they
 * point at); the keys copied by merges are capped at the text's length.
 */
const SCHEMA = CORE_SCHEMA.withTags(mergeTag);

/**
 * Parses docker compose YAML and returns its services. `source` names the input in error
 * messages (a path, or "docker_compose_file of app-compose.json").
 */
export function parseDockerCompose(text: string, source = "docker compose file"): ComposeService[] {
  if (typeof text !== "string") {
    throw new ComposeYamlError("INVALID_COMPOSE_YAML", `${source}: expected YAML text`, { details: `got ${typeof text}` });
  }
  const root = parseYaml(text, source);
  if (!isPlainMapping(root)) {
    throw new ComposeYamlError("COMPOSE_NO_SERVICES", `${source}: top level is not a mapping, so there are no services`);
  }
  const services = root.services;
  if (!isPlainMapping(services)) {
    const got = services === undefined ? "missing" : services === null ? "empty" : "not a mapping";
    throw new ComposeYamlError("COMPOSE_NO_SERVICES", `${source}: \`services\` is ${got}`);
  }
  const names = Object.keys(services);
  if (names.length === 0) {
    throw new ComposeYamlError("COMPOSE_NO_SERVICES", `${source}: \`services\` is empty`);
  }
  return names.map((name) => {
    const definition = services[name];
    if (!isPlainMapping(definition)) {
      // Compose itself rejects a service that is null or a scalar; reporting it as
      // "mutable" would hide a file that cannot deploy at all.
      throw new ComposeYamlError("COMPOSE_NO_SERVICES", `${source}: service ${JSON.stringify(name)} is not a mapping`);
    }
    return { name, definition };
  });
}

/** The whole compose document as plain JS, for checks that look beyond `services`. */
export function parseComposeDocument(text: string, source = "docker compose file"): unknown {
  if (typeof text !== "string") {
    throw new ComposeYamlError("INVALID_COMPOSE_YAML", `${source}: expected YAML text`, { details: `got ${typeof text}` });
  }
  return parseYaml(text, source);
}

function parseYaml(text: string, source: string): unknown {
  let documents: unknown[];
  try {
    documents = loadAll(text, { schema: SCHEMA, maxAliases: -1, maxTotalMergeKeys: Math.max(10_000, text.length), maxDepth: 100 });
  } catch (error) {
    const mark = error instanceof YAMLException ? error.mark : undefined;
    const at = mark === undefined ? "" : ` (line ${mark.line + 1}, column ${mark.column + 1})`;
    throw new ComposeYamlError("INVALID_COMPOSE_YAML", `${source}: not valid YAML${at}`, {
      details: error instanceof YAMLException ? error.reason : describeError(error),
      cause: error,
    });
  }
  if (documents.length > 1) {
    throw new ComposeYamlError("INVALID_COMPOSE_YAML", `${source}: not valid YAML (it holds ${documents.length} documents, a compose file is one)`);
  }
  // An empty file (or only comments) has no document: no services, as with `null`.
  return documents[0] ?? null;
}

function isPlainMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
