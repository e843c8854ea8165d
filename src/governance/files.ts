import { open, writeFile } from "node:fs/promises";

import { InvalidInputError } from "../util/errors.js";

/**
 * The largest governance file read (proposal, operation, Safe contracts): 4 MiB. The
 * biggest real proposal (a batch of KMS info updates with quotes and event logs) is a
 * few hundred KiB; anything far larger is not one, and printing it would bury the
 * decoded actions a signer must read.
 */
export const MAX_GOVERNANCE_FILE_BYTES = 4 * 1024 * 1024;

/**
 * Reads a text file named by a flag; a missing, unreadable or oversized file is an input
 * error naming the flag. The size is checked before the content is read.
 */
export async function readTextFile(path: string, flag: string, maxBytes = MAX_GOVERNANCE_FILE_BYTES): Promise<string> {
  // An option key (not a CLI flag) is the error's field, for front ends to name as they do.
  const about = flag.startsWith("-") ? {} : { field: flag };
  const cannot = (error: NodeJS.ErrnoException): never => {
    throw new InvalidInputError(`${flag}: cannot read ${path} (${error.code ?? error.message})`, about);
  };
  const handle = await open(path, "r").catch(cannot);
  try {
    const { size } = await handle.stat().catch(cannot);
    if (size > maxBytes) throw new InvalidInputError(`${flag}: ${path} is ${formatBytes(size)}; a governance file is at most ${formatBytes(maxBytes)}: not a file this toolkit wrote`, about);
    // Read one byte more than allowed: a file that grew after stat() is refused too.
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null).catch(cannot);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) throw new InvalidInputError(`${flag}: ${path} is larger than ${formatBytes(maxBytes)}: not a file this toolkit wrote`, about);
    }
    return buffer.subarray(0, length).toString("utf8");
  } finally {
    await handle.close();
  }
}

/** Writes a text file named by a flag (replacing it); a failure is an input error naming the flag. */
export async function writeTextFile(path: string, text: string, flag: string): Promise<void> {
  await writeFile(path, text).catch((error: NodeJS.ErrnoException) => {
    throw new InvalidInputError(`${flag}: cannot write ${path} (${error.code ?? error.message})`, flag.startsWith("-") ? {} : { field: flag });
  });
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : `${bytes} bytes`;
}
