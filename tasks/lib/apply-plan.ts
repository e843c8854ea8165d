import type { PublicClient } from "viem";

import type { ChangePlan } from "../../src/manage/planned-call.js";
import { executeDirect, preflightDirect, type SentTransaction, type SignerClient } from "../../src/manage/send-direct.js";
import type { CommandResult } from "./output.js";

export interface ApplyOptions {
  dryRun: boolean;
  /** Re-reads the chain after sending; `ok: false` when the state is not what was wanted. */
  confirm: () => Promise<{ ok: boolean; detail: string }>;
}

/**
 * The common tail of every state-changing task: nothing to do, a dry run (simulated, with
 * the calldata printed, nothing sent), or send-wait-confirm. Progress goes to stderr so
 * that `--json` output on stdout stays one document.
 */
export async function applyPlan(publicClient: PublicClient, signer: SignerClient, plan: ChangePlan, options: ApplyOptions): Promise<CommandResult> {
  const unchangedLines = plan.unchanged.map((entry) => `= ${entry.item}: ${entry.reason}; nothing to send`);
  const calls = plan.calls.map((call) => ({ to: call.to, functionName: call.functionName, data: call.data, summary: call.summary }));
  if (plan.calls.length === 0) {
    return { ok: true, data: { sent: false, unchanged: plan.unchanged, calls: [] }, lines: unchangedLines };
  }
  if (options.dryRun) {
    const { gas } = await preflightDirect(publicClient, signer, plan);
    return {
      ok: true,
      data: { sent: false, dryRun: true, unchanged: plan.unchanged, calls: calls.map((call, i) => ({ ...call, gasEstimate: gas[i] })) },
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
  const sent = await executeDirect(publicClient, signer, plan, (done, total, tx) => {
    if (total > 1) console.error(`[${done}/${total}] ${tx.summary}: ${tx.hash}`);
  });
  const confirmation = await options.confirm();
  return {
    ok: confirmation.ok,
    data: { sent: true, unchanged: plan.unchanged, transactions: sent, confirmed: confirmation.ok, state: confirmation.detail },
    lines: [...unchangedLines, ...sent.flatMap(describeSent), confirmation.ok ? `confirmed: ${confirmation.detail}` : `NOT CONFIRMED: ${confirmation.detail}`],
  };
}

function describeSent(tx: SentTransaction): string[] {
  return [`✔ ${tx.summary}`, `  tx ${tx.hash}, block ${tx.blockNumber}, gas used ${tx.gasUsed}`];
}
