import type { PublicClient } from "viem";

import { formatActions } from "../../src/governance/decode.js";
import { formatDuration } from "../../src/util/duration.js";
import { operationStatusLine, proposalLines, signatureLines } from "../../src/governance/report.js";
import type { Route } from "../../src/governance/route.js";
import { applyPlan as applyPlanInLibrary, type ApplyOptions as LibraryApplyOptions, type ApplyResult, type SafeOutcome } from "../../src/manage/apply-plan.js";
import type { ChangePlan } from "../../src/manage/planned-call.js";
import type { SentTransaction } from "../../src/manage/send-direct.js";
import { networkFlag, timelockExecuteCommand } from "./next-steps.js";
import type { CommandResult } from "./output.js";
import type { SignerClient } from "../../src/chain/clients.js";

export interface ApplyOptions extends Omit<LibraryApplyOptions, "serviceApiKey"> {
  /** The network's name, for the next-step commands printed after a proposal. */
  networkName?: string;
}

/**
 * The common tail of every state-changing task: applies the plan with the library (see
 * `src/manage/apply-plan.ts`; the Safe service's API key comes from `SAFE_API_KEY`) and
 * renders what it did, with the next command to run. Progress goes to stderr so that
 * `--json` output on stdout stays one document.
 */
export async function applyPlan(publicClient: PublicClient, signer: SignerClient, plan: ChangePlan, options: ApplyOptions): Promise<CommandResult> {
  const apiKey = process.env.SAFE_API_KEY;
  const result = await applyPlanInLibrary(publicClient, signer, plan, { ...options, ...(apiKey === undefined ? {} : { serviceApiKey: apiKey }) });
  return renderApplyResult(result, options.route, options.networkName);
}

/** A plan's result as the CLI prints it (`lines`) and as `--json` returns it (`data`). */
export function renderApplyResult(result: ApplyResult, route: Route | undefined, networkName: string | undefined): CommandResult {
  const { plan, calls } = result;
  const unchangedLines = plan.unchanged.map((entry) => `= ${entry.item}: ${entry.reason}; nothing to send`);
  switch (result.route) {
    case "none":
      return { ok: true, data: { sent: false, unchanged: plan.unchanged, calls: [] }, lines: unchangedLines };
    case "safe":
      return renderSafe(result.safe, route, plan, unchangedLines, networkName);
    case "safe,timelock": {
      const rendered = renderSafe(result.safe, route, plan, unchangedLines, networkName);
      const { scheduled } = result;
      const source = String(rendered.data.proposal ?? "PROPOSAL");
      return {
        ...rendered,
        data: { ...rendered.data, timelock: { address: scheduled.timelock, operationId: scheduled.id, salt: scheduled.operation.salt, delay: scheduled.operation.delay } },
        lines: [
          ...rendered.lines,
          `once executed, the Safe schedules timelock operation ${scheduled.id} (delay ${formatDuration(scheduled.operation.delay)}, salt ${scheduled.operation.salt});`,
          `after the delay: ${timelockExecuteCommand(source, scheduled.executor, networkName)}`,
        ],
      };
    }
    case "timelock": {
      const { scheduled } = result;
      const base = {
        route: "timelock",
        unchanged: plan.unchanged,
        timelock: scheduled.timelock,
        operationId: scheduled.id,
        salt: scheduled.operation.salt,
        predecessor: scheduled.operation.predecessor,
        delay: scheduled.operation.delay,
      };
      if (result.dryRun) {
        const actions = scheduled.operation.calls.length === plan.calls.length ? plan.calls.map((call) => `  - ${call.summary}`) : [];
        return {
          ok: true,
          data: { sent: false, dryRun: true, ...base, to: result.schedule.to, data: result.schedule.data, gasEstimate: result.gas },
          lines: [
            ...unchangedLines,
            `dry run: would schedule operation ${scheduled.id} on timelock ${scheduled.timelock} (delay ${formatDuration(scheduled.operation.delay)}):`,
            ...actions,
            `  to:   ${result.schedule.to}`,
            `  data: ${result.schedule.data}`,
            `  gas:  ${result.gas} (simulated from ${result.from}; nothing sent)`,
          ],
        };
      }
      return {
        ok: result.ok,
        data: { sent: true, ...base, transactions: result.transactions, operation: result.file, state: result.status.state, readyAt: result.status.readyAt },
        lines: [
          ...unchangedLines,
          ...result.transactions.flatMap(describeSent),
          `✔ operation ${scheduled.id} on timelock ${scheduled.timelock}: ${operationStatusLine(result.status)}`,
          ...formatActions(result.operationFile.actions),
          `operation written to ${result.file}`,
          `next: once ready, ${timelockExecuteCommand(result.file, scheduled.executor, networkName)}`,
        ],
      };
    }
    case "direct":
      if (result.dryRun) {
        return {
          ok: true,
          data: { sent: false, dryRun: true, route: "direct", unchanged: plan.unchanged, calls: calls.map((call, i) => ({ ...call, gasEstimate: result.gas[i] })) },
          lines: [
            ...unchangedLines,
            ...plan.calls.flatMap((call, i) => [
              `dry run: would ${call.summary}`,
              `  to:   ${call.to}`,
              `  data: ${call.data}`,
              `  gas:  ${result.gas[i]} (simulated from ${result.from}; nothing sent)`,
            ]),
          ],
        };
      }
      return {
        ok: result.ok,
        data: { sent: true, route: "direct", unchanged: plan.unchanged, transactions: result.transactions, confirmed: result.confirmation.ok, state: result.confirmation.detail },
        lines: [
          ...unchangedLines,
          ...result.transactions.flatMap(describeSent),
          result.confirmation.ok ? `confirmed: ${result.confirmation.detail}` : `NOT CONFIRMED: ${result.confirmation.detail}`,
        ],
      };
  }
}

function describeSent(tx: SentTransaction): string[] {
  return [`✔ ${tx.summary}`, `  tx ${tx.hash}, block ${tx.blockNumber}, gas used ${tx.gasUsed}`];
}

/** A Safe proposal: what a dry run would propose, or the written file, its signature and the next step. */
function renderSafe(outcome: SafeOutcome, route: Route | undefined, plan: ChangePlan, unchangedLines: string[], networkName: string | undefined): CommandResult {
  const { proposal, safe } = outcome;
  const base = { route: route?.kind, unchanged: plan.unchanged, safe: safe.address, nonce: proposal.nonce, safeTxHash: proposal.safeTxHash, actions: proposal.actions };
  if (outcome.dryRun) {
    return {
      ok: true,
      data: { sent: false, dryRun: true, proposed: false, ...base, to: proposal.to, operation: proposal.operation, data: proposal.data, gasEstimates: outcome.gas },
      lines: [...unchangedLines, "dry run: would propose to the Safe (nothing signed, written or sent):", ...proposalLines(proposal, safe).map((line) => `  ${line}`)],
    };
  }
  const { file, signer } = outcome;
  const extra: string[] = [];
  const data: Record<string, unknown> = { sent: false, proposed: true, ...base, proposal: file, signatures: [outcome.signature.signer], threshold: safe.threshold };
  if (outcome.txBuilder !== undefined) {
    data.txBuilder = outcome.txBuilder;
    extra.push(`✔ Transaction Builder batch written to ${outcome.txBuilder} (Safe{Wallet} → Apps → Transaction Builder; it computes its own nonce and safeTxHash)`);
  }
  if (outcome.service !== undefined) {
    data.service = outcome.service;
    extra.push(`✔ posted to the Safe transaction service ${outcome.service}`);
  }
  const network = networkFlag(networkName);
  const thresholdMet = safe.threshold <= 1n;
  return {
    ok: true,
    data,
    lines: [
      ...unchangedLines,
      `✔ Safe proposal written to ${file}, signed by ${signer}`,
      ...proposalLines(proposal, safe).map((line) => `  ${line}`),
      ...signatureLines([signer], safe.threshold, safe.owners.filter((owner) => owner !== signer)).map((line) => `  ${line}`),
      ...extra,
      thresholdMet
        ? `next: npx hardhat safe-execute --proposal ${file}${network}`
        : `next: the other owners check and sign with \`npx hardhat safe-sign --proposal ${file}${network}\`, then anyone runs \`npx hardhat safe-execute --proposal ${file}${network}\``,
    ],
  };
}
