import { isScalar, LineCounter, parseDocument, visit, type Document } from "yaml";

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
//
// `uniqueKeys: false`: the library checks each key against every earlier key of its
// mapping, which is quadratic (a 50,000-service file took over a minute); duplicates are
// found instead in one pass with a set per mapping (`duplicateKeyProblem`), by the same
// rule (equal scalar values).
const YAML_OPTIONS = { merge: true, prettyErrors: true, maxAliasCount: 100, uniqueKeys: false } as const;

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

function parseYaml(text: string, source: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { ...YAML_OPTIONS, lineCounter });
  const first = doc.errors[0];
  if (first !== undefined) {
    const where = first.linePos?.[0];
    const at = where === undefined ? "" : ` (line ${where.line}, column ${where.col})`;
    throw new ComposeYamlError("INVALID_COMPOSE_YAML", `${source}: not valid YAML${at}`, {
      details: doc.errors.map((error) => error.message).join("\n"),
    });
  }
  const duplicate = duplicateKeyOffset(doc);
  if (duplicate !== undefined) {
    const { line, col } = lineCounter.linePos(duplicate.offset);
    throw new ComposeYamlError("INVALID_COMPOSE_YAML", `${source}: not valid YAML (line ${line}, column ${col})`, {
      details: `Map keys must be unique: ${JSON.stringify(String(duplicate.key))} appears more than once in one mapping`,
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

/** The first key that repeats an earlier scalar key of the same mapping, in one pass over the document. */
function duplicateKeyOffset(doc: Document): { key: unknown; offset: number } | undefined {
  let found: { key: unknown; offset: number } | undefined;
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        if (seen.has(pair.key.value)) {
          found = { key: pair.key.value, offset: pair.key.range?.[0] ?? 0 };
          return visit.BREAK;
        }
        seen.add(pair.key.value);
      }
      return undefined;
    },
  });
  return found;
}

function isPlainMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
