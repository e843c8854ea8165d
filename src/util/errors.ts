/**
 * The base of every error the toolkit throws on purpose. `message` is one short,
 * human-readable line (what went wrong and which input or flag caused it); `details`
 * carries the longer explanation or the offending value. CLI wrappers print `message`
 * (and `details` when verbose) and never a stack trace for these.
 */
export class DstackGovernanceError extends Error {
  override name = "DstackGovernanceError";
  /** A stable machine-readable identifier such as `INVALID_HEX`. */
  readonly code: string;
  /** Optional longer explanation. Never contains secrets. */
  readonly details: string | undefined;
  /**
   * The option the error is about, by its key in the calling API (`app`, `composeHash`,
   * `allowedEnvs[1]`); a message about it starts with `<field>: `. Front ends map it to
   * their own name for the option (the CLI: a flag).
   */
  readonly field?: string;

  constructor(code: string, message: string, options: { details?: string; cause?: unknown; field?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
    if (options.field !== undefined) this.field = options.field;
  }
}

/** Bad user input: a flag or field whose value is not of the expected form. */
export class InvalidInputError extends DstackGovernanceError {
  override name = "InvalidInputError";
  constructor(message: string, options: { details?: string; cause?: unknown; field?: string } = {}) {
    super("INVALID_INPUT", message, options);
  }
}

/** A one-line description of any thrown value, for reports and CLI output. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const short = (error as { shortMessage?: unknown }).shortMessage;
    return typeof short === "string" && short.length > 0 ? short : error.message.split("\n")[0] ?? String(error);
  }
  return String(error);
}
