import { open, readFile, writeFile } from "node:fs/promises";

import { InvalidInputError } from "./errors.js";

/**
 * The largest governance file read (proposal, operation, Safe contracts): 4 MiB. The
 * biggest real proposal (a batch of KMS info updates with quotes and event logs) is a
 * few hundred KiB; anything far larger is not one, and printing it would bury the
 * decoded actions a signer must read.
 */
export const MAX_GOVERNANCE_FILE_BYTES = 4 * 1024 * 1024;

/**
 * Reads a file named by a flag, whole; a missing or unreadable file is an input error
 * naming the flag. For files of a size the caller bounds otherwise (or need not).
 */
export async function readFileNamedByFlag(path: string, flag: string): Promise<Buffer> {
  return readFile(path).catch(cannotRead(path, flag));
}

/**
 * Reads a text file named by a flag; a missing, unreadable or oversized file is an input
 * error naming the flag. The size is checked before the content is read. `tooLarge` words
 * the refusal of a file over `maxBytes` (`size` undefined: it grew while being read);
 * by default, as a governance file.
 */
export async function readTextFile(
  path: string,
  flag: string,
  maxBytes = MAX_GOVERNANCE_FILE_BYTES,
  tooLarge: (size: number | undefined) => string = (size) =>
    size === undefined
      ? `${flag}: ${path} is larger than ${formatBytes(maxBytes)}: not a file this toolkit wrote`
      : `${flag}: ${path} is ${formatBytes(size)}; a governance file is at most ${formatBytes(maxBytes)}: not a file this toolkit wrote`,
): Promise<string> {
  const cannot = cannotRead(path, flag);
  const handle = await open(path, "r").catch(cannot);
  try {
    const { size } = await handle.stat().catch(cannot);
    if (size > maxBytes) throw new InvalidInputError(tooLarge(size), fieldOf(flag));
    // Read until the end, refusing at one byte more than allowed: a file that grew after
    // stat() is refused too. The buffer is sized by stat(), not by the (large) limit.
    let buffer = Buffer.alloc(Math.min(size, maxBytes) + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) buffer = Buffer.concat([buffer, Buffer.alloc(Math.min(buffer.length, maxBytes + 1 - length))]);
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null).catch(cannot);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) throw new InvalidInputError(tooLarge(undefined), fieldOf(flag));
    }
    return buffer.subarray(0, length).toString("utf8");
  } finally {
    await handle.close();
  }
}

function cannotRead(path: string, flag: string): (error: NodeJS.ErrnoException) => never {
  return (error) => {
    throw new InvalidInputError(`${flag}: cannot read ${path} (${error.code ?? error.message})`, fieldOf(flag));
  };
}

/** Writes a text file named by a flag (replacing it); a failure is an input error naming the flag. */
export async function writeTextFile(path: string, text: string, flag: string): Promise<void> {
  await writeFile(path, text).catch((error: NodeJS.ErrnoException) => {
    throw new InvalidInputError(`${flag}: cannot write ${path} (${error.code ?? error.message})`, fieldOf(flag));
  });
}

/** An option key (a CLI flag starts with a dash) is the error's field, for front ends to name as they do. */
function fieldOf(label: string): { field?: string } {
  return label.startsWith("-") ? {} : { field: label };
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : `${bytes} bytes`;
}
