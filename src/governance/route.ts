import { getAddress, type Address, type Hex } from "viem";

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
  /** A Safe contracts file (local chains: where MultiSendCallOnly is). */
  safeContracts?: string;
}

export interface TimelockRouteOptions {
  timelock: Address;
  /** undefined: a random salt is drawn (and written to the outputs). */
  salt?: Hex;
  predecessor: Hex;
  /** undefined: the timelock's minimum delay. */
  delay?: bigint;
  /** Where the `timelock` route writes the operation (default: `timelock-op-<id>.json`). */
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

/** The address that calls the target on this route. */
export function routeExecutor(route: Route, signer: Address): Address {
  if (route.kind === "direct") return getAddress(signer);
  if (route.kind === "safe") return route.safe.safe;
  return route.timelock.timelock;
}
