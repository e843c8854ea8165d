import type { Address } from "viem";

import { parseDuration } from "../../src/util/duration.js";
import type { Route, SafeRouteOptions, TimelockRouteOptions } from "../../src/governance/route.js";
import { ZERO_BYTES32 } from "../../src/governance/timelock-operation.js";
import { parseAddressText } from "../../src/util/address.js";
import { InvalidInputError } from "../../src/util/errors.js";
import { parseBytes32 } from "../../src/util/hex.js";

/** The route options every state-changing task takes (declared by the `sending` builder). */
export interface RouteArgs {
  via?: string;
  safe?: string;
  timelock?: string;
  salt?: string;
  predecessor?: string;
  delay?: string;
  safeNonce?: string;
  proposalOut?: string;
  operationOut?: string;
  exportTxBuilder?: string;
  proposeToService?: string;
  safeContracts?: string;
}

const SAFE_ONLY = [
  ["safeNonce", "--safe-nonce"],
  ["proposalOut", "--proposal-out"],
  ["exportTxBuilder", "--export-tx-builder"],
  ["proposeToService", "--propose-to-service"],
  ["safeContracts", "--safe-contracts"],
] as const;
const TIMELOCK_ONLY = [
  ["salt", "--salt"],
  ["predecessor", "--predecessor"],
  ["delay", "--delay"],
] as const;

/**
 * Parses and checks the route options before anything touches the chain: a flag that
 * does not belong to the chosen route is refused (naming it), not ignored.
 */
export function parseRoute(args: RouteArgs): Route {
  const via = (args.via ?? "direct").trim().toLowerCase().replace(/\s+/g, "").replace("+", ",");
  const given = (key: keyof RouteArgs) => args[key] !== undefined && args[key] !== "";
  const refuse = (pairs: ReadonlyArray<readonly [keyof RouteArgs, string]>, why: string) => {
    for (const [key, flag] of pairs) if (given(key)) throw new InvalidInputError(`${flag} ${why}`);
  };
  switch (via) {
    case "direct":
      refuse([["safe", "--safe"], ...SAFE_ONLY], "only applies with --via safe or --via safe,timelock");
      refuse([["timelock", "--timelock"], ...TIMELOCK_ONLY, ["operationOut", "--operation-out"]], "only applies with --via timelock or --via safe,timelock");
      return { kind: "direct" };
    case "safe":
      refuse([["timelock", "--timelock"], ...TIMELOCK_ONLY, ["operationOut", "--operation-out"]], "only applies with --via timelock or --via safe,timelock");
      return { kind: "safe", safe: safeOptions(args) };
    case "timelock":
      refuse([["safe", "--safe"], ...SAFE_ONLY], "only applies with --via safe or --via safe,timelock");
      return { kind: "timelock", timelock: { ...timelockOptions(args), ...(given("operationOut") ? { operationOut: args.operationOut! } : {}) } };
    case "safe,timelock":
      if (given("operationOut")) {
        throw new InvalidInputError("--operation-out only applies with --via timelock (with --via safe,timelock the proposal file carries the operation)");
      }
      return { kind: "safe,timelock", safe: safeOptions(args), timelock: timelockOptions(args) };
    default:
      throw new InvalidInputError(`--via: expected direct, safe, timelock or safe,timelock, got ${JSON.stringify(args.via)}`);
  }
}

function address(value: string | undefined, flag: string, why: string): Address {
  if (value === undefined || value.trim() === "") throw new InvalidInputError(`${flag} is required ${why}`);
  return parseAddressText(value, flag);
}

function safeOptions(args: RouteArgs): SafeRouteOptions {
  const options: SafeRouteOptions = { safe: address(args.safe, "--safe", "with --via safe: the address of the Safe") };
  if (args.safeNonce !== undefined && args.safeNonce !== "") {
    if (!/^\d+$/.test(args.safeNonce.trim())) throw new InvalidInputError(`--safe-nonce: expected a non-negative integer, got ${JSON.stringify(args.safeNonce)}`);
    options.nonce = BigInt(args.safeNonce.trim());
  }
  if (args.proposalOut !== undefined && args.proposalOut !== "") options.proposalOut = args.proposalOut;
  if (args.exportTxBuilder !== undefined && args.exportTxBuilder !== "") options.exportTxBuilder = args.exportTxBuilder;
  if (args.proposeToService !== undefined && args.proposeToService !== "") options.service = parseServiceUrl(args.proposeToService);
  if (args.safeContracts !== undefined && args.safeContracts !== "") options.safeContracts = args.safeContracts;
  return options;
}

function timelockOptions(args: RouteArgs): TimelockRouteOptions {
  const options: TimelockRouteOptions = {
    timelock: address(args.timelock, "--timelock", "with --via timelock: the address of the TimelockController"),
    predecessor: args.predecessor === undefined || args.predecessor === "" ? ZERO_BYTES32 : parseBytes32(args.predecessor, "--predecessor"),
  };
  if (args.salt !== undefined && args.salt !== "") options.salt = parseBytes32(args.salt, "--salt");
  if (args.delay !== undefined && args.delay !== "") options.delay = parseDuration(args.delay, "--delay");
  return options;
}

/** A transaction service base URL (http or https). */
export function parseServiceUrl(value: string, flag = "--propose-to-service"): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new InvalidInputError(`${flag}: not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new InvalidInputError(`${flag}: expected an http(s) URL of a Safe transaction service`);
  return url.toString().replace(/\/+$/, "");
}
