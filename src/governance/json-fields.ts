import { getAddress, isHex, type Address, type Hex } from "viem";

import { addressProblem } from "../util/address.js";
import { InvalidInputError } from "../util/errors.js";

/** The deepest nesting of arrays and objects a governance file may have (they use at most 5). */
export const MAX_JSON_DEPTH = 32;

/**
 * How deeply the arrays and objects of a JSON text nest, counted without parsing (and
 * without recursion), stopping as soon as `limit` is exceeded.
 */
export function jsonNestingDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i += 1; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth += 1;
      if (depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (c === 0x5d || c === 0x7d) depth -= 1;
  }
  return deepest;
}

/**
 * Strict readers for the fields of the JSON files the governance commands exchange
 * (proposals, timelock operations). A missing or mistyped field is an `InvalidInputError`
 * naming the file and the field, never a silently defaulted value.
 */
export class JsonFields {
  constructor(
    private readonly object: Record<string, unknown>,
    /** What is being read, for messages: e.g. the proposal file's path. */
    readonly where: string,
  ) {}

  /**
   * Parses a file's text as one JSON object, refusing nesting deeper than
   * `MAX_JSON_DEPTH` before parsing (every reader after this one may recurse).
   */
  static parse(text: string, where: string): JsonFields {
    const depth = jsonNestingDepth(text, MAX_JSON_DEPTH);
    if (depth > MAX_JSON_DEPTH) throw new InvalidInputError(`${where}: JSON nested more than ${MAX_JSON_DEPTH} levels deep: not a file this toolkit wrote`);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new InvalidInputError(`${where}: not JSON`);
    }
    return JsonFields.of(value, where);
  }

  static of(value: unknown, where: string): JsonFields {
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new InvalidInputError(`${where}: expected a JSON object`);
    return new JsonFields(value as Record<string, unknown>, where);
  }

  has(key: string): boolean {
    return this.object[key] !== undefined;
  }

  raw(key: string): unknown {
    return this.object[key];
  }

  private fail(key: string, expected: string): never {
    const got = this.object[key];
    throw new InvalidInputError(`${this.where}: field "${key}" must be ${expected}${got === undefined ? " (missing)" : ""}`);
  }

  string(key: string): string {
    const value = this.object[key];
    return typeof value === "string" ? value : this.fail(key, "a string");
  }

  address(key: string): Address {
    const value = this.object[key];
    if (typeof value !== "string") return this.fail(key, "a 0x-prefixed 20-byte address");
    const problem = addressProblem(value);
    return problem === undefined ? getAddress(value.toLowerCase()) : this.fail(key, problem.startsWith("expected") ? "a 0x-prefixed 20-byte address" : `an address with a correct checksum: ${problem}`);
  }

  hex(key: string, bytes?: number): Hex {
    const value = this.object[key];
    if (typeof value !== "string" || !isHex(value, { strict: true }) || value.length % 2 !== 0) return this.fail(key, "0x-prefixed hex");
    if (bytes !== undefined && value.length !== 2 + bytes * 2) return this.fail(key, `${bytes} bytes of 0x-prefixed hex`);
    return value.toLowerCase() as Hex;
  }

  /** A non-negative integer given as a decimal string (JSON numbers lose precision). */
  uint(key: string): bigint {
    const value = this.object[key];
    return typeof value === "string" && /^\d+$/.test(value) ? BigInt(value) : this.fail(key, "a non-negative integer as a decimal string");
  }

  integer(key: string): number {
    const value = this.object[key];
    return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : this.fail(key, "a non-negative integer");
  }

  boolean(key: string): boolean {
    const value = this.object[key];
    return typeof value === "boolean" ? value : this.fail(key, "true or false");
  }

  array(key: string): unknown[] {
    const value = this.object[key];
    return Array.isArray(value) ? value : this.fail(key, "an array");
  }
}
