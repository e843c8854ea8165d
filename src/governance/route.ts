import { getAddress, type Address, type Hex } from "viem";

import { parseAddressText } from "../util/address.js";
import { InvalidInputError } from "../util/errors.js";
import { parseBytes32 } from "../util/hex.js";
import { parseDuration } from "../util/duration.js";
import { ZERO_BYTES32 } from "./timelock-operation.js";

export interface SafeRouteOptions {
  safe: Address;
  /** Propose at this Safe nonce instead of the Safe's current one (to queue behind a pending proposal). */
  nonce?: bigint;
  /** Where to write the proposal (default: `safe-tx-<safeTxHash>.json`). */
  proposalOut?: string;
  /** Also write a Safe{Wallet} Transaction Builder batch file. */
  exportTxBuilder?: string;
  /** Also post the proposal to this Safe transaction service. */
  service?: string;
  /** A `--safe-contracts` file (local chains: where MultiSendCallOnly is). */
  safeContracts?: string;
}

export interface TimelockRouteOptions {
  timelock: Address;
  /** undefined: a random salt is drawn (and written to the outputs). */
  salt?: Hex;
  predecessor: Hex;
  /** undefined: the timelock's minimum delay. */
  delay?: bigint;
  /** Where `--via timelock` writes the operation (default: `timelock-op-<id>.json`). */
  operationOut?: string;
}

/**
 * How a state-changing command reaches the chain:
 *  - `direct`: the signer sends the calls itself (it must be the owner);
 *  - `safe`: a Safe proposal (the Safe is the owner), signed by the signer, an owner of the Safe;
 *  - `timelock`: the signer, a proposer of the timelock, schedules the calls (the timelock is the owner);
 *  - `safe,timelock`: a Safe proposal that schedules the calls on the timelock (the Safe is a
 *    proposer, the timelock the owner).
 */
export type Route =
  | { kind: "direct" }
  | { kind: "safe"; safe: SafeRouteOptions }
  | { kind: "timelock"; timelock: TimelockRouteOptions }
  | { kind: "safe,timelock"; safe: SafeRouteOptions; timelock: TimelockRouteOptions };

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

/** The address that calls the target on this route. */
export function routeExecutor(route: Route, signer: Address): Address {
  if (route.kind === "direct") return getAddress(signer);
  if (route.kind === "safe") return route.safe.safe;
  return route.timelock.timelock;
}
