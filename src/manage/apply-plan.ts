import { getAddress, type Address, type Hex, type PublicClient } from "viem";

import { toRpcError } from "../chain/errors.js";
import { writeTextFile } from "../util/files.js";
import { buildOperationFile, serializeOperationFile, type OperationFile } from "../governance/operation-file.js";
import { serializeProposal, type SafeProposal } from "../governance/proposal.js";
import { assertRouteAuthorized } from "../governance/route-authorization.js";
import { routeExecutor, type Route, type SafeRouteOptions } from "../governance/route.js";
import type { SafeInfo } from "../governance/safe-state.js";
import { prepareSafeProposal, signProposal } from "../governance/safe-route.js";
import { proposeToService, serviceFailureAfterWrite } from "../governance/service.js";
import { timelockExecutorOf, type TimelockExecutor } from "../governance/timelock-action.js";
import { operationId, type TimelockOperation } from "../governance/timelock-operation.js";
import { prepareTimelockOperation } from "../governance/timelock-route.js";
import { readOperationStatus, type OperationStatus } from "../governance/timelock-state.js";
import type { OwnerSignature } from "../governance/signatures.js";
import { transactionBuilderBatch } from "../governance/tx-builder.js";
import type { ChangePlan, PlannedCall } from "./planned-call.js";
import type { SignerClient } from "../chain/clients.js";
import { executeDirect, preflightDirect, type SentTransaction } from "./send-direct.js";

export interface ApplyOptions {
  dryRun: boolean;
  /** Re-reads the chain after sending; `ok: false` when the state is not what was wanted. */
  confirm: () => Promise<{ ok: boolean; detail: string }>;
  /** How the change reaches the chain (default: the signer sends it directly). */
  route?: Route;
  /** An extra check of whoever makes the calls on this route (e.g. a timelock's executor role). */
  authorize?: (executor: Address, route: Route) => Promise<void>;
  /** The Safe transaction service's API key, when a proposal is posted to one. */
  serviceApiKey?: string;
}

/** A planned call as reported: where, what, and the calldata. */
export interface CallSummary {
  to: Address;
  functionName: string;
  data: Hex;
  summary: string;
}

/** A Safe proposal built for the plan: simulated only (`dryRun`), or signed and written to `file`. */
export type SafeOutcome =
  | { dryRun: true; proposal: SafeProposal; safe: SafeInfo; gas: bigint[]; chainId: number; signer: Address }
  | {
      dryRun: false;
      proposal: SafeProposal;
      safe: SafeInfo;
      chainId: number;
      signer: Address;
      signature: OwnerSignature;
      /** Where the signed proposal was written. */
      file: string;
      /** Where the Transaction Builder batch was written, when asked for. */
      txBuilder?: string;
      /** The transaction service the proposal was posted to, when asked for. */
      service?: string;
    };

/** The operation a timelock route schedules, and who may execute it once ready. */
export interface ScheduledOperation {
  timelock: Address;
  id: Hex;
  operation: TimelockOperation;
  /** Who holds the executor role: the signer (or anyone), the Safe, or someone else. */
  executor: TimelockExecutor;
}

/** The `timelock` route: the schedule call simulated (`dryRun`), or sent and the operation file written. */
export type TimelockOutcome =
  | { ok: boolean; route: "timelock"; dryRun: true; scheduled: ScheduledOperation; schedule: PlannedCall; gas: bigint; from: Address }
  | {
      ok: boolean;
      route: "timelock";
      dryRun: false;
      scheduled: ScheduledOperation;
      transactions: SentTransaction[];
      /** Where the operation file was written, and what it holds. */
      file: string;
      operationFile: OperationFile;
      status: OperationStatus;
    };

/**
 * What applying a plan did, by route. Nothing is printed: front ends render this.
 * `ok` is false only when a sent change is not confirmed on chain (or the scheduled
 * operation is in no pending state).
 */
export type ApplyResult = { ok: boolean; plan: ChangePlan; calls: CallSummary[] } & (
  | { route: "none" }
  | { route: "direct"; dryRun: true; gas: bigint[]; from: Address }
  | { route: "direct"; dryRun: false; transactions: SentTransaction[]; confirmation: { ok: boolean; detail: string } }
  | { route: "safe"; safe: SafeOutcome }
  | { route: "safe,timelock"; safe: SafeOutcome; scheduled: ScheduledOperation }
  | TimelockOutcome
);

/**
 * The common tail of every state-changing command: nothing to do, a dry run (simulated,
 * nothing sent), or — by route — send-wait-confirm (`direct`), a signed Safe proposal file
 * (`safe`), a scheduled timelock operation and its file (`timelock`), or a Safe proposal
 * that schedules on the timelock (`safe,timelock`). Whoever makes the calls on the route
 * must be the owner (or pending owner) the plan needs; that is checked before anything is
 * signed or sent. Each transaction hash is printed on stderr by the send primitive the
 * moment it is sent; everything else is in the result.
 */
export async function applyPlan(publicClient: PublicClient, signer: SignerClient, plan: ChangePlan, options: ApplyOptions): Promise<ApplyResult> {
  const calls = plan.calls.map((call) => ({ to: call.to, functionName: call.functionName, data: call.data, summary: call.summary }));
  const base = { plan, calls };
  if (plan.calls.length === 0) return { ...base, ok: true, route: "none" };
  const route: Route = options.route ?? { kind: "direct" };
  const signerAddress = getAddress(signer.account.address);
  await assertRouteAuthorized(publicClient, plan, route, signerAddress);
  await options.authorize?.(routeExecutor(route, signerAddress), route);

  if (route.kind === "safe") return { ...base, ok: true, route: "safe", safe: await viaSafe(publicClient, signer, plan.calls, route.safe, options) };
  if (route.kind === "safe,timelock") {
    const prepared = await prepareTimelockOperation(publicClient, route.safe.safe, `Safe ${route.safe.safe}`, plan.calls, route.timelock);
    const safe = await viaSafe(publicClient, signer, [prepared.schedule], route.safe, options);
    const executor = await timelockExecutorOf(publicClient, route.timelock.timelock, { signer: signerAddress, safe: route.safe.safe });
    return { ...base, ok: true, route: "safe,timelock", safe, scheduled: { timelock: route.timelock.timelock, id: prepared.id, operation: prepared.operation, executor } };
  }
  if (route.kind === "timelock") return { ...base, ...(await viaTimelock(publicClient, signer, plan, route, options)) };

  if (options.dryRun) {
    const { gas } = await preflightDirect(publicClient, signer, plan);
    return { ...base, ok: true, route: "direct", dryRun: true, gas, from: signerAddress };
  }
  const transactions = await executeDirect(publicClient, signer, plan);
  const confirmation = await options.confirm();
  return { ...base, ok: confirmation.ok, route: "direct", dryRun: false, transactions, confirmation };
}

/** Builds, signs and writes a Safe proposal for `calls` (and optionally exports / posts it). */
async function viaSafe(publicClient: PublicClient, signer: SignerClient, calls: readonly PlannedCall[], options: SafeRouteOptions, apply: ApplyOptions): Promise<SafeOutcome> {
  const chainId = await publicClient.getChainId().catch((error: unknown) => {
    throw toRpcError(publicClient, "eth_chainId", error);
  });
  const signerAddress = getAddress(signer.account.address);
  const { proposal, safe, gas } = await prepareSafeProposal(publicClient, chainId, signerAddress, calls, options);
  if (apply.dryRun) return { dryRun: true, proposal, safe, gas, chainId, signer: signerAddress };
  const signature = await signProposal(signer, proposal);
  const signed: SafeProposal = { ...proposal, signatures: [signature] };
  const file = options.proposalOut ?? `safe-tx-${proposal.safeTxHash}.json`;
  await writeTextFile(file, serializeProposal(signed), "proposalOut");
  const outcome: SafeOutcome = { dryRun: false, proposal: signed, safe, chainId, signer: signerAddress, signature, file };
  if (options.exportTxBuilder !== undefined) {
    const batch = transactionBuilderBatch(chainId, safe.address, calls, {
      name: `dstack-governance ${proposal.safeTxHash.slice(0, 10)}`,
      description: calls.map((call) => call.summary).join("; "),
    });
    await writeTextFile(options.exportTxBuilder, `${JSON.stringify(batch, null, 2)}\n`, "exportTxBuilder");
    outcome.txBuilder = options.exportTxBuilder;
  }
  if (options.service !== undefined) {
    const apiKey = apply.serviceApiKey;
    await proposeToService({ url: options.service, chainId, ...(apiKey === undefined || apiKey === "" ? {} : { apiKey }) }, signed, signature).catch((error: unknown) => {
      throw serviceFailureAfterWrite(error, file);
    });
    outcome.service = options.service;
  }
  return outcome;
}

/** Schedules the plan's calls on the timelock with the signer (a proposer) and writes the operation file. */
async function viaTimelock(
  publicClient: PublicClient,
  signer: SignerClient,
  plan: ChangePlan,
  route: Extract<Route, { kind: "timelock" }>,
  apply: ApplyOptions,
): Promise<TimelockOutcome> {
  const signerAddress = getAddress(signer.account.address);
  const timelock = route.timelock.timelock;
  const prepared = await prepareTimelockOperation(publicClient, signerAddress, `signer ${signerAddress}`, plan.calls, route.timelock);
  const schedulePlan: ChangePlan = { target: timelock, calls: [prepared.schedule], unchanged: [], sender: { role: "anyone" } };
  const id = operationId(prepared.operation);
  const executor = await timelockExecutorOf(publicClient, timelock, { signer: signerAddress });
  const scheduled: ScheduledOperation = { timelock, id, operation: prepared.operation, executor };
  if (apply.dryRun) {
    const { gas } = await preflightDirect(publicClient, signer, schedulePlan);
    return { ok: true, route: "timelock", dryRun: true, scheduled, schedule: prepared.schedule, gas: gas[0]!, from: signerAddress };
  }
  const transactions = await executeDirect(publicClient, signer, schedulePlan);
  const chainId = await publicClient.getChainId();
  const file = route.timelock.operationOut ?? `timelock-op-${id}.json`;
  const operationFile = buildOperationFile(chainId, prepared.operation, plan.calls.map((call) => call.summary), signerAddress);
  await writeTextFile(file, serializeOperationFile(operationFile), "operationOut");
  const status = await readOperationStatus(publicClient, timelock, id);
  return { ok: status.state === "waiting" || status.state === "ready", route: "timelock", dryRun: false, scheduled, transactions, file, operationFile, status };
}
