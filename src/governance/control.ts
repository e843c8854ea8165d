import { getAddress, zeroAddress, type Address, type PublicClient } from "viem";

import { toRpcError } from "../chain/errors.js";
import { formatDuration } from "../util/duration.js";
import { isSafe, readSafe } from "./safe-state.js";
import { isTimelock, readTimelockDelay, readTimelockHistory } from "./timelock-state.js";

/**
 * Who controls an address, followed down: a Safe's owners, a timelock's proposers,
 * executors and admins, and who controls those in turn. Every field is JSON-friendly
 * (integers as decimal strings) so the tree is also the JSON output.
 */
export type ControlNode =
  | { kind: "none"; address: Address }
  | { kind: "eoa"; address: Address }
  | {
      kind: "safe";
      address: Address;
      version: string;
      threshold: string;
      owners: ControlNode[];
      nonce: string;
      modules: Address[];
      guard: Address | null;
      singletonRelease: string | null;
    }
  | {
      kind: "timelock";
      address: Address;
      minDelay: string;
      proposers: ControlNode[];
      /** True when anyone may execute ready operations (EXECUTOR_ROLE held by the zero address). */
      executorsOpen: boolean;
      executors: ControlNode[];
      cancellers: Address[];
      /** DEFAULT_ADMIN_ROLE holders other than the timelock itself. */
      admins: ControlNode[];
    }
  | { kind: "contract"; address: Address }
  /** Described earlier in the tree (shared controller or a cycle). */
  | { kind: "seen"; address: Address };

export interface ControlWarning {
  severity: "warning" | "note";
  message: string;
}

// Local chains and public testnets: an EOA owner is fine there, and only a note.
const NON_PRODUCTION_CHAINS = new Set([31337, 1337, 11155111, 17000, 560048, 84532, 11155420, 421614, 80002, 97]);

export const isProductionChain = (chainId: number): boolean => !NON_PRODUCTION_CHAINS.has(chainId);

export interface WalkOptions {
  /** First block of the timelock event scans (default: each timelock's deployment block). */
  fromBlock?: bigint;
  /** How deep to follow controllers (default 4). */
  maxDepth?: number;
}

/** Follows the chain of control from `address`. */
export async function walkControl(client: PublicClient, address: Address, options: WalkOptions = {}, seen = new Set<Address>(), depth = 0): Promise<ControlNode> {
  const at = getAddress(address);
  if (at === zeroAddress) return { kind: "none", address: at };
  if (seen.has(at)) return { kind: "seen", address: at };
  seen.add(at);
  const code = await client.getCode({ address: at }).catch((error: unknown) => {
    throw toRpcError(client, "eth_getCode", error);
  });
  if (code === undefined || code === "0x") return { kind: "eoa", address: at };
  const deeper = depth + 1 < (options.maxDepth ?? 4);
  const follow = async (addresses: readonly Address[]): Promise<ControlNode[]> => {
    const nodes: ControlNode[] = [];
    // One after another: `seen` must be updated in order for "described above" to be right.
    for (const next of addresses) nodes.push(deeper ? await walkControl(client, next, options, seen, depth + 1) : { kind: "contract", address: next });
    return nodes;
  };
  if (await isSafe(client, at)) {
    const safe = await readSafe(client, at);
    return {
      kind: "safe",
      address: at,
      version: safe.version,
      threshold: safe.threshold.toString(),
      owners: await follow(safe.owners),
      nonce: safe.nonce.toString(),
      modules: safe.modules,
      guard: safe.guard === zeroAddress ? null : safe.guard,
      singletonRelease: safe.singletonRelease,
    };
  }
  if (await isTimelock(client, at)) {
    const minDelay = await readTimelockDelay(client, at);
    const history = await readTimelockHistory(client, at, options.fromBlock === undefined ? {} : { fromBlock: options.fromBlock });
    const executorsOpen = history.roles.executor.includes(zeroAddress);
    return {
      kind: "timelock",
      address: at,
      minDelay: minDelay.toString(),
      proposers: await follow(history.roles.proposer),
      executorsOpen,
      executors: await follow(history.roles.executor.filter((member) => member !== zeroAddress)),
      cancellers: history.roles.canceller,
      admins: await follow(history.roles.admin.filter((member) => member !== at)),
    };
  }
  return { kind: "contract", address: at };
}

/** Weak set-ups in a control tree, most serious first. `role` names what the root is ("owner"). */
export function controlWarnings(root: ControlNode, role: string, chainId: number): ControlWarning[] {
  const warnings: ControlWarning[] = [];
  const production = isProductionChain(chainId);
  if (root.kind === "eoa") {
    warnings.push({
      severity: production ? "warning" : "note",
      message: `the ${role} ${root.address} is an EOA: one stolen key can let new code boot${production ? "" : " (acceptable on a test network)"}`,
    });
  }
  if (root.kind === "none") warnings.push({ severity: "note", message: `the ${role} is the zero address: ownership was renounced, no one can change the policy` });
  const visit = (node: ControlNode, path: string): void => {
    if (node.kind === "safe") {
      const owners = node.owners.length;
      if (node.threshold === "1") {
        warnings.push({ severity: "warning", message: `${path}Safe ${node.address} is 1-of-${owners}: any single owner key can act alone` });
      }
      if (node.modules.length > 0) {
        warnings.push({ severity: "warning", message: `${path}Safe ${node.address} has module(s) ${node.modules.join(", ")} enabled: they can execute without owner signatures` });
      }
      if (node.singletonRelease === null) {
        warnings.push({ severity: "warning", message: `${path}Safe ${node.address} runs singleton code this toolkit does not recognise as a Safe release` });
      }
      for (const owner of node.owners) visit(owner, `${path}owner of Safe ${node.address}: `);
    } else if (node.kind === "timelock") {
      if (node.minDelay === "0") {
        warnings.push({ severity: "warning", message: `${path}timelock ${node.address} has a zero delay: it gives no time to review or react` });
      }
      if (node.proposers.length === 0) {
        warnings.push({ severity: "warning", message: `${path}timelock ${node.address} has no proposer: no change can ever be scheduled` });
      }
      if (!node.executorsOpen && node.executors.length === 0) {
        warnings.push({ severity: "warning", message: `${path}timelock ${node.address} has no executor: scheduled changes can never run` });
      }
      for (const proposer of node.proposers) {
        if (proposer.kind === "eoa") {
          warnings.push({ severity: "warning", message: `${path}proposer ${proposer.address} of timelock ${node.address} is an EOA: one key can schedule any change (it still waits out the delay)` });
        }
        visit(proposer, `${path}proposer of timelock ${node.address}: `);
      }
      for (const admin of node.admins) {
        warnings.push({
          severity: "warning",
          message: `${path}${admin.address} holds DEFAULT_ADMIN_ROLE on timelock ${node.address}: it can grant roles without the delay (renounce it once set up)`,
        });
      }
      for (const executor of node.executors) visit(executor, `${path}executor of timelock ${node.address}: `);
    }
  };
  visit(root, "");
  return warnings;
}

/** The control tree as indented lines. */
export function formatControl(node: ControlNode, indent = ""): string[] {
  switch (node.kind) {
    case "none":
      return [`${indent}nobody (zero address)`];
    case "eoa":
      return [`${indent}EOA ${node.address}`];
    case "contract":
      return [`${indent}contract ${node.address} (neither a Safe nor a TimelockController)`];
    case "seen":
      return [`${indent}${node.address} (described above)`];
    case "safe": {
      const lines = [
        `${indent}Safe ${node.address}: ${node.threshold} of ${node.owners.length} owners, nonce ${node.nonce}, v${node.version}${node.singletonRelease === null ? " (unrecognised singleton code)" : ""}`,
      ];
      if (node.modules.length > 0) lines.push(`${indent}  modules: ${node.modules.join(", ")}`);
      if (node.guard !== null) lines.push(`${indent}  guard: ${node.guard}`);
      lines.push(`${indent}  owners:`);
      for (const owner of node.owners) lines.push(...formatControl(owner, `${indent}    `));
      return lines;
    }
    case "timelock": {
      const lines = [`${indent}timelock ${node.address}: minimum delay ${formatDuration(BigInt(node.minDelay))}`];
      lines.push(`${indent}  proposers:${node.proposers.length === 0 ? " none" : ""}`);
      for (const proposer of node.proposers) lines.push(...formatControl(proposer, `${indent}    `));
      lines.push(`${indent}  executors:${node.executorsOpen ? " anyone (open role)" : node.executors.length === 0 ? " none" : ""}`);
      for (const executor of node.executors) lines.push(...formatControl(executor, `${indent}    `));
      lines.push(`${indent}  cancellers: ${node.cancellers.length === 0 ? "none" : node.cancellers.join(", ")}`);
      lines.push(`${indent}  admins: ${node.admins.length === 0 ? "the timelock itself only" : node.admins.map((admin) => admin.address).join(", ")}`);
      return lines;
    }
  }
}

/** A short label for an address's kind, for suggestions in error messages. */
export async function classifyController(client: PublicClient, address: Address): Promise<"eoa" | "safe" | "timelock" | "contract"> {
  const code = await client.getCode({ address }).catch((error: unknown) => {
    throw toRpcError(client, "eth_getCode", error);
  });
  if (code === undefined || code === "0x") return "eoa";
  if (await isSafe(client, address)) return "safe";
  if (await isTimelock(client, address)) return "timelock";
  return "contract";
}
