import { DstackGovernanceError } from "../util/errors.js";

/** An app-compose (or docker compose) file could not be read from disk. */
export class ComposeFileError extends DstackGovernanceError {
  override name = "ComposeFileError";
  /** The path exactly as the caller gave it, so CLIs can echo it back. */
  readonly path: string;

  constructor(path: string, message: string, options: { details?: string; cause?: unknown } = {}) {
    super("COMPOSE_FILE_UNREADABLE", message, options);
    this.path = path;
  }
}

/**
 * The docker compose text embedded in (or destined for) an app-compose is unusable:
 * `INVALID_COMPOSE_YAML` when it does not parse, `COMPOSE_NO_SERVICES` when it parses
 * but has no usable `services` mapping.
 */
export class ComposeYamlError extends DstackGovernanceError {
  override name = "ComposeYamlError";
  constructor(
    code: "INVALID_COMPOSE_YAML" | "COMPOSE_NO_SERVICES",
    message: string,
    options: { details?: string; cause?: unknown; field?: string } = {},
  ) {
    super(code, message, options);
  }

  /** The same error, about the option `field` (whose value the YAML was). */
  about(field: string): ComposeYamlError {
    return new ComposeYamlError(this.code as "INVALID_COMPOSE_YAML" | "COMPOSE_NO_SERVICES", this.message, {
      ...(this.details === undefined ? {} : { details: this.details }),
      cause: this,
      field,
    });
  }
}

/** An app-compose JSON document is malformed or lacks a field we need. */
export class AppComposeJsonError extends DstackGovernanceError {
  override name = "AppComposeJsonError";
  constructor(message: string, options: { details?: string; cause?: unknown } = {}) {
    super("INVALID_APP_COMPOSE", message, options);
  }
}

/**
 * An app-compose fails a policy the caller required (e.g. images pinned by digest, with an image
 * not pinned by digest): a failed check, not bad input.
 */
export class ComposePolicyError extends DstackGovernanceError {
  override name = "ComposePolicyError";
  constructor(message: string, options: { details?: string; cause?: unknown } = {}) {
    super("COMPOSE_POLICY_FAILED", message, options);
  }
}
