import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { getAddress } from "viem";

import { proposalOperationId, proposalTransaction, readProposalFile, scheduledOperationOf } from "../../src/governance/proposal.js";
import { operationStatusLine, proposalData, proposalLines, signatureLines } from "../../src/governance/report.js";
import { assertThreshold, countedSigners, executeProposal, simulateExecution } from "../../src/governance/safe-execute.js";
import { signatureStatusLines } from "../../src/governance/signature-check.js";
import { checkProposal } from "../../src/governance/safe-proposal-check.js";
import { timelockExecutorOf } from "../../src/governance/timelock-action.js";
import { readOperationStatusWithPredecessor } from "../../src/governance/timelock-state.js";
import { requireOption } from "../lib/args.js";
import { connectSigner } from "../lib/connection.js";
import { runCommand } from "../lib/output.js";
import { timelockExecuteCommand } from "../lib/next-steps.js";

interface Args {
  proposal: string | undefined;
  dryRun: boolean;
  allowGasRefund: boolean;
  from: string | undefined;
  json: boolean;
}

/**
 * Executes a Safe proposal once enough owners signed: every check of `safe-sign` again
 * (the file, the Safe's hash, the nonce is the next one, each signature from a current
 * owner; owners' on-chain approvals counted), then the threshold, a simulation, and `execTransaction` from the signer (who
 * pays the gas and need not be an owner).
 */
export default async function (args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(args.json, async () => {
    const path = requireOption(args.proposal, "--proposal", "a Safe proposal file");
    const { proposal, where } = await readProposalFile(path, "--proposal");
    const { publicClient, signer, networkName } = await connectSigner(hre, args.from);
    const checked = await checkProposal(publicClient, proposal, where, "execute", { allowGasRefund: args.allowGasRefund === true });
    assertThreshold(checked, where);
    const signers = countedSigners(checked);
    const shown = [...proposalLines(proposal, checked.safe, checked), ...signatureLines(signers, checked.safe.threshold, checked.missing), ...signatureStatusLines(checked)];
    const base = { ...proposalData(proposal, checked), signatures: signers, approvedOnChain: checked.approvals };
    if (args.dryRun) {
      const { gas } = await simulateExecution(publicClient, getAddress(signer.account.address), proposal, checked);
      return {
        ok: true,
        data: { ...base, sent: false, dryRun: true, gasEstimate: gas },
        lines: [...shown, `dry run: execTransaction simulated from ${signer.account.address} (gas ${gas}); nothing sent`],
      };
    }
    const executed = await executeProposal(publicClient, signer, proposal, checked, where);
    const lines = [
      ...shown,
      `✔ executed Safe transaction ${proposal.safeTxHash}`,
      `  tx ${executed.transactionHash}, block ${executed.blockNumber}, gas used ${executed.gasUsed}`,
      "  events:",
      ...executed.events.map((entry) => `    ${entry.address}: ${entry.event}`),
    ];
    const data: Record<string, unknown> = { ...base, sent: true, transaction: executed };
    const id = proposalOperationId(proposal);
    if (id !== undefined && proposal.timelock !== undefined) {
      const operation = scheduledOperationOf(proposalTransaction(proposal))!;
      const status = await readOperationStatusWithPredecessor(publicClient, operation, id);
      data.timelock = { address: proposal.timelock.timelock, operationId: id, state: status.state, readyAt: status.readyAt, ...(status.blockedBy === undefined ? {} : { blockedBy: status.blockedBy }) };
      const executor = await timelockExecutorOf(publicClient, proposal.timelock.timelock, { signer: getAddress(signer.account.address), safe: checked.safe.address });
      const hint = timelockExecuteCommand(path, executor, networkName);
      lines.push(`timelock operation ${id}: ${operationStatusLine(status)}`, `next: once ready, ${hint}`);
    }
    return { ok: true, data, lines };
  });
}
