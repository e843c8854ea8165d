import { readFile, writeFile } from "node:fs/promises";

import { InvalidInputError } from "../util/errors.js";

/** Reads a text file named by a flag; a missing or unreadable file is an input error naming the flag. */
export async function readTextFile(path: string, flag: string): Promise<string> {
  return readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
    throw new InvalidInputError(`${flag}: cannot read ${path} (${error.code ?? error.message})`);
  });
}

/** Writes a text file named by a flag (replacing it); a failure is an input error naming the flag. */
export async function writeTextFile(path: string, text: string, flag: string): Promise<void> {
  await writeFile(path, text).catch((error: NodeJS.ErrnoException) => {
    throw new InvalidInputError(`${flag}: cannot write ${path} (${error.code ?? error.message})`);
  });
}
