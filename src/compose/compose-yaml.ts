import { parseDocument } from "yaml";

import { describeError } from "../util/errors.js";
import { ComposeYamlError } from "./errors.js";

/** One entry of a compose file's `services` mapping, in file order. */
export interface ComposeService {
  readonly name: string;
  /** The service's mapping as plain JS (anchors and `<<` merge keys resolved). */
  readonly definition: Readonly<Record<string, unknown>>;
}

// Docker Compose resolves `<<` merge keys, so we must too or images defined through an
// anchor would look missing. The alias cap keeps a "billion laughs" file from exhausting
// memory.
const YAML_OPTIONS = { merge: true, prettyErrors: true, maxAliasCount: 100 } as const;

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
  const services = root["services"];
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
  const doc = parseDocument(text, YAML_OPTIONS);
  const first = doc.errors[0];
  if (first !== undefined) {
    const where = first.linePos?.[0];
    const at = where === undefined ? "" : ` (line ${where.line}, column ${where.col})`;
    throw new ComposeYamlError("INVALID_COMPOSE_YAML", `${source}: not valid YAML${at}`, {
      details: doc.errors.map((error) => error.message).join("\n"),
    });
  }
  try {
    return doc.toJS({ maxAliasCount: YAML_OPTIONS.maxAliasCount });
  } catch (error) {
    // toJS throws for excessive alias expansion, which parsing alone does not catch.
    throw new ComposeYamlError("INVALID_COMPOSE_YAML", `${source}: YAML could not be resolved`, {
      details: describeError(error),
      cause: error,
    });
  }
}

function isPlainMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
