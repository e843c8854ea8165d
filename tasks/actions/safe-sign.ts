import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { getAddress } from "viem";

import { writeTextFile } from "../../src/util/files.js";
import { readProposalFile, serializeProposal, type SafeProposal } from "../../src/governance/proposal.js";
import type { OwnerSignature } from "../../src/governance/signatures.js";
import { proposalData, proposalLines, signatureLines } from "../../src/governance/report.js";
import { checkProposal } from "../../src/governance/safe-proposal-check.js";
import { ownerSafesOf, readOwnerSafe, signAsOwnerSafe } from "../../src/governance/nested-signing.js";
import { assertSafeOwner, signProposal } from "../../src/governance/safe-route.js";
import { confirmOnService, serviceFailureAfterWrite } from "../../src/governance/service.js";
import { countedSigners } from "../../src/governance/safe-execute.js";
import { signatureStatusLines } from "../../src/governance/signature-check.js";
import { NotSafeOwnerError } from "../../src/governance/errors.js";
import { packSignatures } from "../../src/governance/signatures.js";
import { parseAddress, requireOption } from "../lib/args.js";
import { connectSigner } from "../lib/connection.js";
import { runCommand } from "../lib/output.js";
import { networkFlag } from "../lib/next-steps.js";
import { parseServiceUrl } from "../lib/route-args.js";

interface Args {
  proposal: string | undefined;
  out: string | undefined;
  proposeToService: string | undefined;
  ownerSafe: string | undefined;
  dryRun: boolean;
  allowGasRefund: boolean;
  from: string | undefined;
  json: boolean;
}

/**
 * An owner's step: re-derive the safeTxHash and the readable actions from the file's
 * fields and compare them with the file, check the Safe (owners, nonce, its own hash) and
 * the signatures already there, show what the proposal does, then add this signer's
 * EIP-712 signature. With `--owner-safe`, an owner of a Safe that is itself an owner signs
 * for that Safe (its SafeMessage; the Safe's signature counts once its own threshold is
 * met). `--dry-run` shows and checks without signing.
 */
export default async function (args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(args.json, async () => {
    const path = requireOption(args.proposal, "--proposal", "a Safe proposal file");
    const service = args.proposeToService === undefined ? undefined : parseServiceUrl(args.proposeToService);
    const ownerSafe = args.ownerSafe === undefined ? undefined : parseAddress(args.ownerSafe, "--owner-safe");
    const { proposal, where } = await readProposalFile(path, "--proposal");
    const { publicClient, signer, networkName } = await connectSigner(hre, args.from);
    const checked = await checkProposal(publicClient, proposal, where, "sign", { allowGasRefund: args.allowGasRefund === true });
    const me = getAddress(signer.account.address);
    const shown = proposalLines(proposal, checked.safe, checked);
    const base = { ...proposalData(proposal, checked), summaries: proposal.summaries, threshold: checked.safe.threshold };
    const signers = countedSigners(checked);
    const signerFor = ownerSafe ?? me;
    const extra = signatureStatusLines(checked);
    if (signers.includes(signerFor)) {
      return {
        ok: true,
        data: { ...base, signed: false, alreadySigned: true, signatures: signers },
        lines: [...shown, `= ${signerFor} has already signed this proposal; nothing to add`, ...signatureLines(signers, checked.safe.threshold, checked.missing), ...extra],
      };
    }
    if (ownerSafe === undefined && !checked.safe.owners.includes(me)) {
      const viaSafes = await ownerSafesOf(publicClient, checked.safe, me);
      if (viaSafes.length > 0) {
        throw new NotSafeOwnerError(
          `signer ${me} is not an owner of Safe ${checked.safe.address}, but owns its owner Safe ${viaSafes.join(", ")}: sign for it with --owner-safe ${viaSafes[0]}`,
        );
      }
    }
    if (ownerSafe === undefined) assertSafeOwner(checked.safe, me, "sign");
    else await readOwnerSafe(publicClient, checked, ownerSafe, me);
    if (args.dryRun) {
      return {
        ok: true,
        data: { ...base, signed: false, dryRun: true, signatures: signers },
        lines: [...shown, ...signatureLines(signers, checked.safe.threshold, checked.missing), ...extra, `✔ checked: the file matches its hash and data, and the Safe agrees (dry run: not signed)`],
      };
    }
    const out = args.out ?? path;
    const outFlag = args.out === undefined ? "--proposal" : "--out";
    const apiKey = process.env.SAFE_API_KEY;
    const serviceOptions = service === undefined ? undefined : { url: service, chainId: proposal.chainId, ...(apiKey === undefined || apiKey === "" ? {} : { apiKey }) };
    let counts: boolean;
    let posted: OwnerSignature | undefined;
    let signedLine: string;
    let updated: SafeProposal;
    if (ownerSafe !== undefined) {
      const nested = await signAsOwnerSafe(publicClient, signer, proposal, checked, ownerSafe);
      const replaced = checked.kept.some((entry) => entry.signer === ownerSafe);
      updated = { ...proposal, signatures: replaced ? checked.kept.map((entry) => (entry.signer === ownerSafe ? nested.entry : entry)) : [...checked.kept, nested.entry] };
      counts = nested.complete;
      // The service takes a contract signature as Safe reads it (static part with offset 65, then its bytes), once it is complete.
      posted = nested.complete ? { signer: ownerSafe, signature: packSignatures([nested.entry]) } : undefined;
      const have = nested.entry.ownerSignatures?.length ?? 0;
      signedLine = `✔ ${me} signed for owner Safe ${ownerSafe} (${have} of its ${nested.ownerSafe.threshold} owner signatures${nested.complete ? ": its signature now counts" : ""})`;
    } else {
      const signature = await signProposal(signer, proposal);
      updated = { ...proposal, signatures: [...checked.kept, signature] };
      counts = true;
      posted = signature;
      signedLine = `✔ signed by ${me}`;
    }
    await writeTextFile(out, serializeProposal(updated), outFlag);
    if (serviceOptions !== undefined && posted !== undefined) {
      await confirmOnService(serviceOptions, proposal.safeTxHash, posted).catch((error: unknown) => {
        throw serviceFailureAfterWrite(error, out);
      });
    }
    const nowSigned = counts ? [...signers, signerFor] : signers;
    const missing = checked.missing.filter((owner) => !nowSigned.includes(owner));
    const met = BigInt(nowSigned.length) >= checked.safe.threshold;
    const sentTo = service !== undefined && posted !== undefined ? ` and sent to ${service}` : "";
    return {
      ok: true,
      data: { ...base, signed: true, signer: me, ...(ownerSafe === undefined ? {} : { ownerSafe, ownerSafeComplete: counts }), proposal: out, signatures: nowSigned, thresholdMet: met, ...(sentTo === "" ? {} : { service }) },
      lines: [
        ...shown,
        `${signedLine}; written to ${out}${sentTo}`,
        ...signatureLines(nowSigned, checked.safe.threshold, missing),
        ...extra,
        met ? `next: npx hardhat safe-execute --proposal ${out}${networkFlag(networkName)}` : `next: pass ${out} to the next owner (npx hardhat safe-sign --proposal ${out}${networkFlag(networkName)})`,
      ],
    };
  });
}

