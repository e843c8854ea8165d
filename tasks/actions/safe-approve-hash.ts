import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { getAddress } from "viem";

import { safeAbi } from "../../src/governance/abi/safe.js";
import { approveHashCall, sendApproveHash, simulateApproveHash } from "../../src/governance/approve-hash.js";
import { readProposalFile } from "../../src/governance/proposal.js";
import { proposalLines, signatureLines } from "../../src/governance/report.js";
import { countedSigners } from "../../src/governance/safe-execute.js";
import { checkProposal } from "../../src/governance/safe-proposal-check.js";
import { assertSafeOwner } from "../../src/governance/safe-route.js";
import { assertDirectOrSafe } from "../../src/governance/timelock-action.js";
import type { ChangePlan } from "../../src/manage/planned-call.js";
import { signatureStatusLines } from "../../src/governance/signature-check.js";
import { applyPlan } from "../lib/apply-plan.js";
import { requireOption } from "../lib/args.js";
import type { SendingDirectOrSafeArgs } from "../lib/builders.js";
import { connectSigner } from "../lib/connection.js";
import { runCommand } from "../lib/output.js";
import { networkFlag } from "../lib/next-steps.js";
import { parseRoute } from "../lib/route-args.js";

interface Args extends SendingDirectOrSafeArgs {
  proposal: string | undefined;
}

/**
 * An owner approves a proposal on chain instead of signing the file: every check of
 * `safe-sign` (the file, the Safe's own hash, the nonce, the signatures so far), the
 * proposal shown, then `approveHash(safeTxHash)` sent from the owner. `safe-execute`
 * counts the approval. The file is not changed. With `--via safe --safe OWNER_SAFE`, an
 * owner that is a Safe approves through a proposal of its own (what Safe{Wallet} does for
 * nested Safes): its owners sign and execute that proposal, then the approval counts.
 */
export default async function (args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(args.json, async () => {
    const path = requireOption(args.proposal, "--proposal", "a Safe proposal file");
    assertDirectOrSafe(args.via, "safe-approve-hash");
    const route = parseRoute({ ...args, timelock: undefined });
    const { proposal, where } = await readProposalFile(path, "--proposal");
    const { publicClient, signer, networkName } = await connectSigner(hre, args.from);
    const checked = await checkProposal(publicClient, proposal, where, "sign");
    const me = route.kind === "safe" ? route.safe.safe : getAddress(signer.account.address);
    const signers = countedSigners(checked);
    const shown = [...proposalLines(proposal, checked.safe)];
    const base = { safe: checked.safe.address, nonce: proposal.nonce, safeTxHash: proposal.safeTxHash, actions: proposal.actions, threshold: checked.safe.threshold };
    if (signers.includes(me)) {
      return {
        ok: true,
        data: { ...base, approved: false, alreadySigned: true, signatures: signers },
        lines: [...shown, `= ${me} has already signed or approved this proposal; nothing to send`, ...signatureLines(signers, checked.safe.threshold, checked.missing), ...signatureStatusLines(checked)],
      };
    }
    if (route.kind === "safe") {
      assertSafeOwner(checked.safe, me, "approve (--safe names the owner Safe that approves)");
      const call = approveHashCall(checked, proposal.safeTxHash);
      const plan: ChangePlan = { target: checked.safe.address, calls: [{ ...call, abi: safeAbi, functionName: "approveHash", args: [proposal.safeTxHash] }], unchanged: [], sender: { role: "anyone" } };
      const result = await applyPlan(publicClient, signer, plan, {
        dryRun: args.dryRun,
        route,
        networkName,
        confirm: async () => ({ ok: true, detail: "" }),
      });
      return {
        ...result,
        data: { ...base, approver: me, approved: false, ...result.data },
        lines: [...shown, `owner Safe ${me} approves ${proposal.safeTxHash} on chain through its own proposal; once that executes, safe-execute counts it:`, ...result.lines],
      };
    }
    if (args.dryRun) {
      const gas = await simulateApproveHash(publicClient, signer, checked, proposal.safeTxHash);
      return {
        ok: true,
        data: { ...base, approved: false, dryRun: true, gasEstimate: gas, signatures: signers },
        lines: [...shown, ...signatureLines(signers, checked.safe.threshold, checked.missing), `dry run: approveHash(${proposal.safeTxHash}) simulated from ${me} (gas ${gas}); nothing sent`],
      };
    }
    const sent = await sendApproveHash(publicClient, signer, checked, proposal.safeTxHash);
    const nowSigned = [...signers, me];
    const missing = checked.missing.filter((owner) => owner !== me);
    const met = BigInt(nowSigned.length) >= checked.safe.threshold;
    return {
      ok: true,
      data: { ...base, approved: true, approver: me, transaction: sent, signatures: nowSigned, thresholdMet: met },
      lines: [
        ...shown,
        `✔ ${me} approved ${proposal.safeTxHash} on chain (approveHash): tx ${sent.transactionHash}, block ${sent.blockNumber}, gas used ${sent.gasUsed}`,
        ...signatureLines(nowSigned, checked.safe.threshold, missing),
        met ? `next: npx hardhat safe-execute --proposal ${path}${networkFlag(networkName)}` : `next: the other owners sign or approve (npx hardhat safe-sign --proposal ${path}${networkFlag(networkName)})`,
      ],
    };
  });
}
