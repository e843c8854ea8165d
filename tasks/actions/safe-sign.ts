import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { getAddress } from "viem";

import { writeTextFile } from "../../src/governance/files.js";
import { readProposalFile, serializeProposal, type SafeProposal } from "../../src/governance/proposal.js";
import { networkFlag, proposalLines, signatureLines } from "../../src/governance/report.js";
import { parseServiceUrl } from "../../src/governance/route.js";
import { checkProposal } from "../../src/governance/safe-proposal-check.js";
import { assertSafeOwner, signProposal } from "../../src/governance/safe-route.js";
import { confirmOnService } from "../../src/governance/service.js";
import { requireOption } from "../lib/args.js";
import { connectSigner } from "../lib/connection.js";
import { runCommand } from "../lib/output.js";

interface Args {
  proposal?: string;
  out?: string;
  proposeToService?: string;
  dryRun: boolean;
  allowGasRefund: boolean;
  from?: string;
  json: boolean;
}

/**
 * An owner's step: re-derive the safeTxHash and the readable actions from the file's
 * fields and compare them with the file, check the Safe (owners, nonce, its own hash) and
 * the signatures already there, show what the proposal does, then add this signer's
 * EIP-712 signature. `--dry-run` shows and checks without signing.
 */
export default async function (args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(args.json, async () => {
    const path = requireOption(args.proposal, "--proposal", "a Safe proposal file");
    const service = args.proposeToService === undefined ? undefined : parseServiceUrl(args.proposeToService);
    const { proposal, where } = await readProposalFile(path);
    const { publicClient, signer, networkName } = await connectSigner(hre, args.from);
    const checked = await checkProposal(publicClient, proposal, where, "sign", { allowGasRefund: args.allowGasRefund === true });
    const me = getAddress(signer.account.address);
    const shown = proposalLines(proposal, checked.safe, checked);
    const base = {
      safe: checked.safe.address,
      nonce: proposal.nonce,
      safeTxHash: proposal.safeTxHash,
      actions: proposal.actions,
      notes: checked.notes,
      ...(checked.gasRefund === undefined ? {} : { gasRefund: checked.gasRefund }),
      summaries: proposal.summaries,
      threshold: checked.safe.threshold,
    };
    const signers = checked.signatures.map((entry) => entry.signer);
    if (signers.includes(me)) {
      return {
        ok: true,
        data: { ...base, signed: false, alreadySigned: true, signatures: signers },
        lines: [...shown, `= ${me} has already signed this proposal; nothing to add`, ...signatureLines(signers, checked.safe.threshold, checked.missing)],
      };
    }
    assertSafeOwner(checked.safe, me, "sign");
    if (args.dryRun) {
      return {
        ok: true,
        data: { ...base, signed: false, dryRun: true, signatures: signers },
        lines: [...shown, ...signatureLines(signers, checked.safe.threshold, checked.missing), `✔ checked: the file matches its hash and data, and the Safe agrees (dry run: not signed)`],
      };
    }
    const signature = await signProposal(signer, proposal);
    const updated: SafeProposal = { ...proposal, signatures: [...checked.signatures, signature] };
    const out = args.out ?? path;
    await writeTextFile(out, serializeProposal(updated), args.out === undefined ? "--proposal" : "--out");
    if (service !== undefined) {
      const apiKey = process.env.SAFE_API_KEY;
      await confirmOnService({ url: service, chainId: proposal.chainId, ...(apiKey === undefined || apiKey === "" ? {} : { apiKey }) }, proposal.safeTxHash, signature);
    }
    const nowSigned = [...signers, me];
    const missing = checked.missing.filter((owner) => owner !== me);
    const met = BigInt(nowSigned.length) >= checked.safe.threshold;
    return {
      ok: true,
      data: { ...base, signed: true, signer: me, proposal: out, signatures: nowSigned, thresholdMet: met, ...(service === undefined ? {} : { service }) },
      lines: [
        ...shown,
        `✔ signed by ${me}; written to ${out}${service === undefined ? "" : ` and sent to ${service}`}`,
        ...signatureLines(nowSigned, checked.safe.threshold, missing),
        met ? `next: npx hardhat safe-execute --proposal ${out}${networkFlag(networkName)}` : `next: pass ${out} to the next owner (npx hardhat safe-sign --proposal ${out}${networkFlag(networkName)})`,
      ],
    };
  });
}
