import { readFile, rename, writeFile } from "node:fs/promises";

import { getAddress, type Address } from "viem";

import { InvalidInputError } from "../util/errors.js";
import type { GovernedRole } from "./governance-events.js";

/** Where a governance watch stopped: the chain, the contracts watched, and the first block not yet read. */
export interface WatchCursor {
  version: 1;
  chainId: number;
  contracts: Array<{ address: Address; role: GovernedRole }>;
  /** The first block not yet read, as a decimal string. */
  nextBlock: string;
}

/** Parses a cursor file's text; throws, naming the file, when it is not a cursor. */
export function parseWatchCursor(text: string, path: string): WatchCursor {
  try {
    const cursor = JSON.parse(text) as WatchCursor;
    if (cursor.version !== 1 || !/^\d+$/.test(cursor.nextBlock) || !Array.isArray(cursor.contracts)) {
      throw new Error("unexpected shape");
    }
    return cursor;
  } catch (error) {
    throw new InvalidInputError(`cursor: ${path} is not a watch-governance cursor (${(error as Error).message})`, { field: "cursor" });
  }
}

/** Reads a cursor file; `undefined` when there is none yet (the first run). */
export async function readWatchCursor(path: string): Promise<WatchCursor | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new InvalidInputError(`cursor: cannot read ${path} (${(error as Error).message})`, { field: "cursor" });
  }
  return parseWatchCursor(text, path);
}

// Written to a temporary file and renamed, so an interrupted write never loses the position.
export async function writeWatchCursor(path: string, cursor: WatchCursor): Promise<void> {
  await writeFile(`${path}.tmp`, `${JSON.stringify(cursor, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}

/** Throws unless `cursor` was written for the same chain and the same contracts (in any order). */
export function assertCursorMatches(cursor: WatchCursor, path: string, chainId: number, contracts: ReadonlyArray<{ address: Address; role: GovernedRole }>): void {
  const key = (list: ReadonlyArray<{ address: Address; role: GovernedRole }>) => JSON.stringify(list.map((c) => [getAddress(c.address), c.role]).sort());
  if (cursor.chainId !== chainId || key(cursor.contracts) !== key(contracts)) {
    throw new InvalidInputError(`cursor: ${path} belongs to other contracts or chain ${cursor.chainId}; use another cursor file`, { field: "cursor" });
  }
}
