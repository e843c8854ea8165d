/**
 * Hardhat plugin: a network whose fork URL is a configuration variable that, when the
 * variable is not set (environment or keystore), is a loopback server serving a recorded
 * fork snapshot, started on demand and stopped with the process.
 *
 * In hardhat.config.ts:
 *   forking: { url: rpcUrlOrSnapshot("SEPOLIA_RPC_URL", "fork/sepolia-snapshot.json"), blockNumber: … }
 *
 * Only variables made with `rpcUrlOrSnapshot` fall back: `configVariable("SEPOLIA_RPC_URL")`
 * elsewhere (e.g. the real `sepolia` network) still fails when unset, so a missing URL is
 * never silently replaced by a snapshot on a network that sends transactions.
 */
import { configVariable } from "hardhat/config";
import type { ConfigurationVariable } from "hardhat/types/config";
import type { HardhatPlugin } from "hardhat/types/plugins";

/** Marks the default value of a fork URL variable that falls back to a snapshot file. */
export const SNAPSHOT_DEFAULT_PREFIX = "fork-snapshot:";

/**
 * A configuration variable holding an RPC URL; when unset, a loopback server serving the
 * snapshot at `snapshotPath` (relative to the project root).
 */
export function rpcUrlOrSnapshot(variable: string, snapshotPath: string): ConfigurationVariable {
  return configVariable(variable, { default: `${SNAPSHOT_DEFAULT_PREFIX}${snapshotPath}` });
}

const forkSnapshotPlugin: HardhatPlugin = {
  id: "dstack-governance-fork-snapshot",
  // Declared so that this plugin's fetchValue handler runs before (wraps) the keystore's:
  // a URL stored in the keystore then still takes precedence over the snapshot.
  dependencies: () => [import("@nomicfoundation/hardhat-keystore")],
  hookHandlers: {
    configurationVariables: () => import("./hook-handlers/configuration-variables.js"),
  },
};

export default forkSnapshotPlugin;
