/**
 * One snapshot server per snapshot file and process, started on first use and shared by
 * every connection that forks it (Hardhat re-resolves the fork URL for each connection
 * with config overrides). The servers are unref'd: they stop with the process.
 *
 * With `DSTACK_FORK_STATS_FILE` set, the requests every server of this process answered
 * (per method) are appended to that file as one JSON line when the process exits: the
 * fork benchmark (scripts/bench-fork.ts) sums them over its processes. With `DSTACK_FORK_LOG=1`, every request is
 * printed to stderr as it is answered (method, parameters, and the error if any).
 */
import { appendFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";

import { startSnapshotServer, type SnapshotServer } from "./server.js";
import { loadSnapshot, type Snapshot } from "./snapshot.js";

const servers = new Map<string, Promise<SnapshotServer>>();
const tracked: SnapshotServer[] = [];
const forkCacheDirs = new Set<string>();
let exitHook = false;

/**
 * EDR caches answers about old blocks on disk under `<cacheDir>/rpc_cache/v2/<host>_<port>`.
 * A snapshot server listens on a new port each run, so that cache could never be hit again
 * (and must not be: a re-recorded snapshot may differ): it is removed when the process exits.
 */
export function removeForkCacheOnExit(edrForkCacheDir: string): void {
  forkCacheDirs.add(edrForkCacheDir);
  installExitHook();
}

/** The server of the snapshot at `path` (absolute or relative to the working directory), started if needed. */
export function snapshotServerFor(path: string): Promise<SnapshotServer> {
  const file = resolve(path);
  let server = servers.get(file);
  if (server === undefined) {
    server = startTrackedServer(loadSnapshot(file), file.split(/[\\/]/).pop() ?? file);
    servers.set(file, server);
    // A failed start must not be cached: the next connection tries again and reports it.
    server.catch(() => servers.delete(file));
  }
  return server;
}

/** Starts a server whose requests count in this process's totals (tests with modified snapshots use it). */
export async function startTrackedServer(snapshot: Snapshot, label: string): Promise<SnapshotServer> {
  const verbose = process.env.DSTACK_FORK_LOG !== undefined && process.env.DSTACK_FORK_LOG !== "" && process.env.DSTACK_FORK_LOG !== "0";
  const server = await startSnapshotServer(snapshot, {
    label,
    ...(verbose
      ? { onRequest: (method, params, error) => process.stderr.write(`[fork ${label}] ${method} ${JSON.stringify(params)}${error === undefined ? "" : ` -> ERROR ${error}`}
`) }
      : {}),
  });
  tracked.push(server);
  installExitHook();
  return server;
}

/** Requests answered by every tracked server of this process, per method. */
export function requestTotals(): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const server of tracked) {
    for (const [method, count] of Object.entries(server.counts())) totals[method] = (totals[method] ?? 0) + count;
  }
  return totals;
}

function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.on("exit", () => {
    for (const dir of forkCacheDirs) {
      for (const server of tracked) rmSync(join(dir, "rpc_cache", "v2", new URL(server.url).host.replace(":", "_")), { recursive: true, force: true });
    }
    const file = process.env.DSTACK_FORK_STATS_FILE;
    if (file !== undefined && file !== "" && tracked.length > 0) {
      appendFileSync(file, `${JSON.stringify({ pid: process.pid, servers: tracked.length, requests: requestTotals() })}\n`);
    }
  });
}
