import { InvalidInputError } from "../util/errors.js";

/**
 * A JSON value as the serialiser accepts it. `undefined` object members are skipped,
 * mirroring the dstack SDKs, which drop unset (None/undefined/omitempty) fields.
 */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue | undefined };

/**
 * Serialises `value` the way dstack's SDKs compute a compose hash (Python
 * `json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`, the JS SDK's
 * recursive key sort + `JSON.stringify`): keys sorted recursively, no whitespace, non-ASCII
 * characters emitted as-is. Hash the UTF-8 bytes of the result.
 *
 * The JSON text is written here rather than by `JSON.stringify` on a re-ordered object
 * because JS objects always enumerate integer-like keys ("9", "10") first in numeric
 * order, which would silently disagree with Python's lexicographic sort.
 *
 * Inputs on which the SDKs disagree with each other are rejected instead of being
 * given one arbitrary encoding: non-integer, unsafe or non-finite numbers (Python prints
 * `1.0`, JS prints `1`; the SDKs turn NaN into null) and lone UTF-16 surrogates (not
 * encodable as UTF-8).
 */
export function toDeterministicJson(value: JsonValue): string {
  return write(value, "$");
}

/** UTF-8 bytes of {@link toDeterministicJson}: exactly what gets hashed and written to disk. */
export function toDeterministicJsonBytes(value: JsonValue): Uint8Array {
  return new TextEncoder().encode(toDeterministicJson(value));
}

/**
 * Orders strings by Unicode code point, as Python's `sorted` and Go's `sort.Strings` do.
 * Plain `<` compares UTF-16 code units, which puts astral characters (emoji) before
 * U+E000..U+FFFF; the JS SDK inherits that quirk, but it only matters for such keys.
 */
export function compareCodePoints(a: string, b: string): number {
  const left = Array.from(a, (ch) => ch.codePointAt(0) ?? 0);
  const right = Array.from(b, (ch) => ch.codePointAt(0) ?? 0);
  const shared = Math.min(left.length, right.length);
  for (let i = 0; i < shared; i++) {
    const x = left[i] ?? 0;
    const y = right[i] ?? 0;
    if (x !== y) return x - y;
  }
  return left.length - right.length;
}

// With the `u` flag a well-formed surrogate pair is one code point, so \p{Cs} only
// matches unpaired halves.
const LONE_SURROGATE = /\p{Cs}/u;

/** True when the string can be encoded as UTF-8 without replacement characters. */
export function isWellFormedUnicode(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

function write(value: JsonValue | undefined, path: string): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isSafeInteger(value)) {
        throw new InvalidInputError(`app-compose value at ${path}: only safe integers are supported, got ${String(value)}`, {
          details: "Floats, NaN and Infinity serialise differently across the dstack SDKs, so they cannot be hashed portably.",
        });
      }
      // `-0` must print as `0`, which String() does.
      return String(value);
    case "string":
      return writeString(value, path);
    case "object":
      if (Array.isArray(value)) return writeArray(value as readonly JsonValue[], path);
      return writeObject(value as { readonly [key: string]: JsonValue | undefined }, path);
    default:
      throw new InvalidInputError(`app-compose value at ${path}: unsupported type ${typeof value}`);
  }
}

function writeString(value: string, path: string): string {
  if (!isWellFormedUnicode(value)) {
    throw new InvalidInputError(`app-compose value at ${path}: string contains an unpaired UTF-16 surrogate`, {
      details: "Such a string has no UTF-8 encoding; Python's json.dumps(...).encode('utf-8') fails on it.",
    });
  }
  // For well-formed strings JSON.stringify escapes exactly what Python's
  // ensure_ascii=False encoder escapes: `"`, `\`, \b \f \n \r \t, and other C0 controls as
  // lowercase \u00xx. Everything else (DEL, U+2028, non-ASCII) is emitted raw.
  return JSON.stringify(value);
}

function writeArray(items: readonly JsonValue[], path: string): string {
  const parts: string[] = [];
  items.forEach((item, index) => {
    if (item === undefined) {
      throw new InvalidInputError(`app-compose value at ${path}[${index}]: undefined array element`);
    }
    parts.push(write(item, `${path}[${index}]`));
  });
  return `[${parts.join(",")}]`;
}

function writeObject(object: { readonly [key: string]: JsonValue | undefined }, path: string): string {
  const proto: unknown = Object.getPrototypeOf(object);
  if (proto !== Object.prototype && proto !== null) {
    throw new InvalidInputError(`app-compose value at ${path}: only plain objects are supported`, {
      details: `got an instance of ${describeConstructor(object)}`,
    });
  }
  const keys = Object.keys(object).filter((key) => object[key] !== undefined);
  keys.sort(compareCodePoints);
  const parts = keys.map((key) => {
    const childPath = `${path}.${key}`;
    return `${writeString(key, childPath)}:${write(object[key], childPath)}`;
  });
  return `{${parts.join(",")}}`;
}

function describeConstructor(value: object): string {
  const ctor = (value as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === "string" && ctor.name.length > 0 ? ctor.name : "an unknown class";
}

/**
 * How an app-compose object is turned into the bytes that are hashed and booted:
 * - `dstack`: the dstack SDKs' compact form ({@link toDeterministicJson}); what vmm-cli and
 *   the SDKs' `getComposeHash` produce.
 * - `phala`: Phala Cloud's form ({@link toPhalaCloudJson}); what Phala Cloud provisions.
 */
export type AppComposeSerialization = "dstack" | "phala";
export const APP_COMPOSE_SERIALIZATIONS: readonly AppComposeSerialization[] = ["dstack", "phala"];

/**
 * Serialises `value` the way Phala Cloud does (`@phala/cloud` `dumpAppCompose`): keys
 * sorted, `JSON.stringify(…, null, 4)`, then every `": ` replaced by `":`. The result is
 * 4-space indented with no space after a key's colon, as in the app-compose text of CVMs
 * provisioned there. Hash its UTF-8 bytes.
 *
 * Phala's replacement runs over the whole text, so a string value containing `": ` (say a
 * JSON snippet in the compose file) loses that space too; it is mirrored here, because that
 * rewritten text is what such a CVM boots ({@link phalaRewritesStrings} tells when it
 * happens). Values are first checked as {@link toDeterministicJson} checks them. Key order
 * is JavaScript's (`Object.keys(…).sort()` on a plain object, so integer-like keys come
 * first in numeric order), exactly as the Phala SDK orders them.
 */
export function toPhalaCloudJson(value: { readonly [key: string]: JsonValue | undefined }): string {
  // Validates: floats, lone surrogates and non-plain objects are rejected with a path.
  toDeterministicJson(value);
  return JSON.stringify(sortForPhala(value), null, 4).replace(/": /g, '":');
}

/** True when Phala Cloud's serialisation changes the content of a string in `value` (see {@link toPhalaCloudJson}). */
export function phalaRewritesStrings(value: JsonValue | undefined): boolean {
  if (typeof value === "string") return JSON.stringify(value).includes('": ');
  if (value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) return (value as readonly JsonValue[]).some((item) => phalaRewritesStrings(item));
  return Object.entries(value).some(([key, item]) => JSON.stringify(key).includes('": ') || phalaRewritesStrings(item));
}

function sortForPhala(value: JsonValue | undefined): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return (value as readonly JsonValue[]).map((item) => sortForPhala(item));
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortForPhala((value as { readonly [key: string]: JsonValue | undefined })[key]);
  return sorted;
}
