import { readFile } from "node:fs/promises";

import { sha256 } from "@noble/hashes/sha2.js";

import { describeError, InvalidInputError } from "../util/errors.js";
import { toHex, type Hex } from "../util/hex.js";
import { ComposeFileError } from "./errors.js";
import { isWellFormedUnicode } from "./serialize.js";

/**
 * The compose hash dstack measures into RTMR3 and DstackApp allowlists: SHA-256 of the
 * app-compose file's exact bytes. Never parse and re-serialise first: a pretty-printed
 * file hashes as pretty-printed, and that is what the CVM boots.
 */
export function hashAppComposeBytes(bytes: Uint8Array): Hex {
  if (!(bytes instanceof Uint8Array)) {
    throw new InvalidInputError("app-compose bytes: expected a Uint8Array", { details: `got ${typeof bytes}` });
  }
  return toHex(sha256(bytes));
}

/**
 * Hash of app-compose text as a CVM reports it (e.g. `tcb_info.app_compose` from `/info`),
 * i.e. of its UTF-8 encoding.
 */
export function hashAppComposeText(text: string): Hex {
  if (typeof text !== "string") {
    throw new InvalidInputError("app-compose text: expected a string", { details: `got ${typeof text}` });
  }
  // TextEncoder would silently turn a lone surrogate into U+FFFD and hash different bytes.
  if (!isWellFormedUnicode(text)) {
    throw new InvalidInputError("app-compose text: contains an unpaired UTF-16 surrogate, so it has no UTF-8 encoding");
  }
  return hashAppComposeBytes(new TextEncoder().encode(text));
}

/** Reads an app-compose file's raw bytes, with a typed error that names the path. */
export async function readAppComposeFile(path: string): Promise<Uint8Array> {
  if (typeof path !== "string" || path.length === 0) {
    throw new InvalidInputError("app-compose path: expected a non-empty file path");
  }
  try {
    const buffer = await readFile(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (error) {
    throw new ComposeFileError(path, `cannot read app-compose file ${JSON.stringify(path)}: ${reasonFor(error)}`, {
      details: describeError(error),
      cause: error,
    });
  }
}

/** SHA-256 of the file at `path`, byte for byte. */
export async function hashAppComposeFile(path: string): Promise<Hex> {
  return hashAppComposeBytes(await readAppComposeFile(path));
}

function reasonFor(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case "ENOENT":
      return "no such file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "is a directory";
    case "ENOTDIR":
      return "a parent path is not a directory";
    default:
      return typeof code === "string" ? code : "read failed";
  }
}
