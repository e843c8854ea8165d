import { isAbsolute, join } from "node:path";

import type { ConfigurationVariableHooks } from "hardhat/types/hooks";

import { removeForkCacheOnExit, snapshotServerFor } from "../../../src/fork/on-demand.js";
import { SNAPSHOT_DEFAULT_PREFIX } from "../index.js";

export default async (): Promise<Partial<ConfigurationVariableHooks>> => ({
  async fetchValue(context, variable, next) {
    // The environment (checked by Hardhat before any handler) and the keystore come first;
    // only when they have nothing does the chain end at the variable's default.
    const value = await next(context, variable);
    const marker = variable.default;
    if (marker === undefined || !marker.startsWith(SNAPSHOT_DEFAULT_PREFIX) || value !== marker) return value;
    const path = marker.slice(SNAPSHOT_DEFAULT_PREFIX.length);
    const server = await snapshotServerFor(isAbsolute(path) ? path : join(context.config.paths.root, path));
    // Where Hardhat points EDR's fork cache (config-resolution: <paths.cache>/edr-fork-cache).
    removeForkCacheOnExit(join(context.config.paths.cache, "edr-fork-cache"));
    return server.url;
  },
});
