import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";

import { InvalidInputError } from "../util/errors.js";

/**
 * The folder of what the tool remembers about one chain: `<dir>/chain-<id>/`, the same
 * shape as Ignition's `ignition/deployments/chain-<id>/`, so the files sit next to each
 * other in a project and are easy to commit (deployments) or inspect (pending sends).
 */
export function chainStateDir(dir: string, chainId: number): string {
  return path.join(dir, `chain-${chainId}`);
}

/**
 * Reads a JSON state file; a missing file is `undefined`. A file that is not valid JSON is
 * never treated as empty (that would forget a pending transaction or a deployment): it is
 * a set-up error naming the file.
 */
export function readStateFile(file: string): unknown {
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, "utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InvalidInputError(`${file} is not valid JSON; fix it or move it away`, { details: (error as Error).message });
  }
}

/** Writes a JSON state file atomically (a temporary file renamed over it): a kill mid-write leaves the old file. */
export function writeStateFile(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`);
  renameSync(temporary, file);
}
