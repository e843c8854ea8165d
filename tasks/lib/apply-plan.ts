import { getAddress, type Address, type PublicClient } from "viem";

import { toRpcError } from "../../src/chain/errors.js";
import { formatActions } from "../../src/governance/decode.js";
import { formatDuration } from "../../src/util/duration.js";
import { writeTextFile } from "../../src/util/files.js";
import { buildOperationFile, serializeOperationFile } from "../../src/governance/operation-file.js";
import { serializeProposal, type SafeProposal } from "../../src/governance/proposal.js";
import { networkFlag, operationStatusLine, proposalLines, signatureLines } from "../../src/governance/report.js";
import { assertRouteAuthorized } from "../../src/governance/route-authorization.js";
import { routeExecutor, type Route, type SafeRouteOptions } from "../../src/governance/route.js";
import { prepareSafeProposal, signProposal } from "../../src/governance/safe-route.js";
import { proposeToService, serviceFailureAfterWrite } from "../../src/governance/service.js";
import { operationId } from "../../src/governance/timelock-operation.js";
import { timelockExecuteHint } from "../../src/governance/timelock-action.js";
import { prepareTimelockOperation } from "../../src/governance/timelock-route.js";
import { readOperationStatus } from "../../src/governance/timelock-state.js";
import { transactionBuilderBatch } from "../../src/governance/tx-builder.js";
import type { ChangePlan, PlannedCall } from "../../src/manage/planned-call.js";
import { executeDirect, preflightDirect, type SentTransaction } from "../../src/manage/send-direct.js";
import type { CommandResult } from "./output.js";
import type { SignerClient } from "../../src/chain/clients.js";

export interface ApplyOptions {
  dryRun: boolean;
  /** Re-reads the chain after sending; `ok: false` when the state is not what was wanted. */
  confirm: () => Promise<{ ok: boolean; detail: string }>;
  /** How the change reaches the chain (default: the signer sends it directly). */
  route?: Route;
  /** The network's name, for the next-step commands printed after a proposal. */
  networkName?: string;
  /** An extra check of whoever makes the calls on this route (e.g. a timelock's executor role). */
  authorize?: (executor: Address, route: Route) => Promise<void>;
}

/**
 * The common tail of every state-changing task: nothing to do, a dry run (simulated, with
 * the calldata printed, nothing sent), or — by route — send-wait-confirm (`direct`), a
 * signed Safe proposal file (`safe`), a scheduled timelock operation (`timelock`), or a
 * Safe proposal that schedules on the timelock (`safe,timelock`). Whoever makes the calls
 * on the route must be the owner (or pending owner) the plan needs; that is checked
 * before anything is signed or sent. Progress goes to stderr so that `--json` output on
 * stdout stays one document.
 */
export async function applyPlan(publicClient: PublicClient, signer: SignerClient, plan: ChangePlan, options: ApplyOptions): Promise<CommandResult> {
  const unchangedLines = plan.unchanged.map((entry) => `= ${entry.item}: ${entry.reason}; nothing to send`);
  const calls = plan.calls.map((call) => ({ to: call.to, functionName: call.functionName, data: call.data, summary: call.summary }));
  if (plan.calls.length === 0) {
    return { ok: true, data: { sent: false, unchanged: plan.unchanged, calls: [] }, lines: unchangedLines };
  }
  const route: Route = options.route ?? { kind: "direct" };
  const signerAddress = getAddress(signer.account.address);
  await assertRouteAuthorized(publicClient, plan, route, signerAddress);
  await options.authorize?.(routeExecutor(route, signerAddress), route);
  if (route.kind === "safe") return viaSafe(publicClient, signer, plan.calls, route.safe, options, unchangedLines, plan);
  if (route.kind === "timelock") return viaTimelock(publicClient, signer, plan, route, options, unchangedLines);
  if (route.kind === "safe,timelock") {
    const prepared = await prepareTimelockOperation(publicClient, route.safe.safe, `Safe ${route.safe.safe}`, plan.calls, route.timelock);
    const result = await viaSafe(publicClient, signer, [prepared.schedule], route.safe, options, unchangedLines, plan);
    return {
      ...result,
      data: { ...result.data, timelock: { address: route.timelock.timelock, operationId: prepared.id, salt: prepared.operation.salt, delay: prepared.operation.delay } },
      lines: [
        ...result.lines,
        `once executed, the Safe schedules timelock operation ${prepared.id} (delay ${formatDuration(prepared.operation.delay)}, salt ${prepared.operation.salt});`,
        `after the delay: ${await timelockExecuteHint(publicClient, route.timelock.timelock, String(result.data.proposal ?? "PROPOSAL"), { signer: signerAddress, safe: route.safe.safe, network: networkFlag(options.networkName) })}`,
      ],
    };
  }

  if (options.dryRun) {
    const { gas } = await preflightDirect(publicClient, signer, plan);
    return {
      ok: true,
      data: { sent: false, dryRun: true, route: "direct", unchanged: plan.unchanged, calls: calls.map((call, i) => ({ ...call, gasEstimate: gas[i] })) },
      lines: [
        ...unchangedLines,
        ...plan.calls.flatMap((call, i) => [
          `dry run: would ${call.summary}`,
          `  to:   ${call.to}`,
          `  data: ${call.data}`,
          `  gas:  ${gas[i]} (simulated from ${signer.account.address}; nothing sent)`,
        ]),
      ],
    };
  }
  // Each hash is printed on stderr by the send primitive the moment it is sent.
  const sent = await executeDirect(publicClient, signer, plan);
  const confirmation = await options.confirm();
  return {
    ok: confirmation.ok,
    data: { sent: true, route: "direct", unchanged: plan.unchanged, transactions: sent, confirmed: confirmation.ok, state: confirmation.detail },
    lines: [...unchangedLines, ...sent.flatMap(describeSent), confirmation.ok ? `confirmed: ${confirmation.detail}` : `NOT CONFIRMED: ${confirmation.detail}`],
  };
}

function describeSent(tx: SentTransaction): string[] {
  return [`✔ ${tx.summary}`, `  tx ${tx.hash}, block ${tx.blockNumber}, gas used ${tx.gasUsed}`];
}

/** Builds, signs and writes a Safe proposal for `calls` (and optionally exports / posts it). */
async function viaSafe(
  publicClient: PublicClient,
  signer: SignerClient,
  calls: readonly PlannedCall[],
  options: SafeRouteOptions,
  apply: ApplyOptions,
  unchangedLines: string[],
  plan: ChangePlan,
): Promise<CommandResult> {
  const chainId = await publicClient.getChainId().catch((error: unknown) => {
    throw toRpcError(publicClient, "eth_chainId", error);
  });
  const signerAddress = getAddress(signer.account.address);
  const { proposal, safe, gas } = await prepareSafeProposal(publicClient, chainId, signerAddress, calls, options);
  const base = { route: apply.route?.kind, unchanged: plan.unchanged, safe: safe.address, nonce: proposal.nonce, safeTxHash: proposal.safeTxHash, actions: proposal.actions };
  if (apply.dryRun) {
    return {
      ok: true,
      data: { sent: false, dryRun: true, proposed: false, ...base, to: proposal.to, operation: proposal.operation, data: proposal.data, gasEstimates: gas },
      lines: [...unchangedLines, "dry run: would propose to the Safe (nothing signed, written or sent):", ...proposalLines(proposal, safe).map((line) => `  ${line}`)],
    };
  }
  const signature = await signProposal(signer, proposal);
  const signed: SafeProposal = { ...proposal, signatures: [signature] };
  const file = options.proposalOut ?? `safe-tx-${proposal.safeTxHash}.json`;
  await writeTextFile(file, serializeProposal(signed), "--proposal-out");
  const extra: string[] = [];
  const data: Record<string, unknown> = { sent: false, proposed: true, ...base, proposal: file, signatures: [signature.signer], threshold: safe.threshold };
  if (options.exportTxBuilder !== undefined) {
    const batch = transactionBuilderBatch(chainId, safe.address, calls, {
      name: `dstack-governance ${proposal.safeTxHash.slice(0, 10)}`,
      description: calls.map((call) => call.summary).join("; "),
    });
    await writeTextFile(options.exportTxBuilder, `${JSON.stringify(batch, null, 2)}\n`, "--export-tx-builder");
    data.txBuilder = options.exportTxBuilder;
    extra.push(`✔ Transaction Builder batch written to ${options.exportTxBuilder} (Safe{Wallet} → Apps → Transaction Builder; it computes its own nonce and safeTxHash)`);
  }
  if (options.service !== undefined) {
    const apiKey = process.env.SAFE_API_KEY;
    await proposeToService({ url: options.service, chainId, ...(apiKey === undefined || apiKey === "" ? {} : { apiKey }) }, signed, signature).catch((error: unknown) => {
      throw serviceFailureAfterWrite(error, file);
    });
    data.service = options.service;
    extra.push(`✔ posted to the Safe transaction service ${options.service}`);
  }
  const network = networkFlag(apply.networkName);
  const thresholdMet = safe.threshold <= 1n;
  return {
    ok: true,
    data,
    lines: [
      ...unchangedLines,
      `✔ Safe proposal written to ${file}, signed by ${signerAddress}`,
      ...proposalLines(signed, safe).map((line) => `  ${line}`),
      ...signatureLines([signerAddress], safe.threshold, safe.owners.filter((owner) => owner !== signerAddress)).map((line) => `  ${line}`),
      ...extra,
      thresholdMet
        ? `next: npx hardhat safe-execute --proposal ${file}${network}`
        : `next: the other owners check and sign with \`npx hardhat safe-sign --proposal ${file}${network}\`, then anyone runs \`npx hardhat safe-execute --proposal ${file}${network}\``,
    ],
  };
}

/** Schedules the plan's calls on the timelock with the signer (a proposer) and writes the operation file. */
async function viaTimelock(
  publicClient: PublicClient,
  signer: SignerClient,
  plan: ChangePlan,
  route: Extract<Route, { kind: "timelock" }>,
  apply: ApplyOptions,
  unchangedLines: string[],
): Promise<CommandResult> {
  const signerAddress = getAddress(signer.account.address);
  const prepared = await prepareTimelockOperation(publicClient, signerAddress, `signer ${signerAddress}`, plan.calls, route.timelock);
  const schedulePlan: ChangePlan = { target: route.timelock.timelock, calls: [prepared.schedule], unchanged: [], sender: { role: "anyone" } };
  const id = operationId(prepared.operation);
  const base = {
    route: "timelock",
    unchanged: plan.unchanged,
    timelock: route.timelock.timelock,
    operationId: id,
    salt: prepared.operation.salt,
    predecessor: prepared.operation.predecessor,
    delay: prepared.operation.delay,
  };
  const actions = prepared.operation.calls.length === plan.calls.length ? plan.calls.map((call) => `  - ${call.summary}`) : [];
  if (apply.dryRun) {
    const { gas } = await preflightDirect(publicClient, signer, schedulePlan);
    return {
      ok: true,
      data: { sent: false, dryRun: true, ...base, to: prepared.schedule.to, data: prepared.schedule.data, gasEstimate: gas[0] },
      lines: [
        ...unchangedLines,
        `dry run: would schedule operation ${id} on timelock ${route.timelock.timelock} (delay ${formatDuration(prepared.operation.delay)}):`,
        ...actions,
        `  to:   ${prepared.schedule.to}`,
        `  data: ${prepared.schedule.data}`,
        `  gas:  ${gas[0]} (simulated from ${signerAddress}; nothing sent)`,
      ],
    };
  }
  const sent = await executeDirect(publicClient, signer, schedulePlan);
  const chainId = await publicClient.getChainId();
  const file = route.timelock.operationOut ?? `timelock-op-${id}.json`;
  const operationFile = buildOperationFile(chainId, prepared.operation, plan.calls.map((call) => call.summary), signerAddress);
  await writeTextFile(file, serializeOperationFile(operationFile), "--operation-out");
  const status = await readOperationStatus(publicClient, route.timelock.timelock, id);
  return {
    ok: status.state === "waiting" || status.state === "ready",
    data: { sent: true, ...base, transactions: sent, operation: file, state: status.state, readyAt: status.readyAt },
    lines: [
      ...unchangedLines,
      ...sent.flatMap(describeSent),
      `✔ operation ${id} on timelock ${route.timelock.timelock}: ${operationStatusLine(status)}`,
      ...formatActions(operationFile.actions),
      `operation written to ${file}`,
      `next: once ready, ${await timelockExecuteHint(publicClient, route.timelock.timelock, file, { signer: signerAddress, network: networkFlag(apply.networkName) })}`,
    ],
  };
}
