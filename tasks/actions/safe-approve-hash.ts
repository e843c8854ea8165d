import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { getAddress } from "viem";

import { sendApproveHash, simulateApproveHash } from "../../src/governance/approve-hash.js";
import { readProposalFile } from "../../src/governance/proposal.js";
import { networkFlag, proposalLines, signatureLines } from "../../src/governance/report.js";
import { countedSigners } from "../../src/governance/safe-execute.js";
import { checkProposal } from "../../src/governance/safe-proposal-check.js";
import { signatureStatusLines } from "../../src/governance/signature-check.js";
import { requireOption } from "../lib/args.js";
import { connectSigner } from "../lib/connection.js";
import { runCommand } from "../lib/output.js";

interface Args {
  proposal?: string;
  dryRun: boolean;
  from?: string;
  json: boolean;
}

/**
 * An owner approves a proposal on chain instead of signing the file: every check of
 * `safe-sign` (the file, the Safe's own hash, the nonce, the signatures so far), the
 * proposal shown, then `approveHash(safeTxHash)` sent from the owner. `safe-execute`
 * counts the approval. The file is not changed.
 */
export default async function (args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(args.json, async () => {
    const path = requireOption(args.proposal, "--proposal", "a Safe proposal file");
    const { proposal, where } = await readProposalFile(path);
    const { publicClient, signer, networkName } = await connectSigner(hre, args.from);
    const checked = await checkProposal(publicClient, proposal, where, "sign");
    const me = getAddress(signer.account.address);
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
