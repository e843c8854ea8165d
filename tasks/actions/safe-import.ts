import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { readTextFile, writeTextFile } from "../../src/util/files.js";
import { parseExternalTransaction, proposalFromExternal } from "../../src/governance/import.js";
import { serializeProposal } from "../../src/governance/proposal.js";
import { proposalLines, signatureLines } from "../../src/governance/report.js";
import { countedSigners } from "../../src/governance/safe-execute.js";
import { checkProposal } from "../../src/governance/safe-proposal-check.js";
import { fetchFromService } from "../../src/governance/service.js";
import { signatureStatusLines } from "../../src/governance/signature-check.js";
import { InvalidInputError } from "../../src/util/errors.js";
import { parseBytes32 } from "../../src/util/hex.js";
import { parseAddress } from "../lib/args.js";
import { connectChain } from "../lib/connection.js";
import { runCommand } from "../lib/output.js";
import { networkFlag } from "../lib/next-steps.js";
import { parseServiceUrl } from "../lib/route-args.js";

interface Args {
  file: string | undefined;
  service: string | undefined;
  safeTxHash: string | undefined;
  safe: string | undefined;
  out: string | undefined;
  json: boolean;
}

/**
 * Brings a Safe transaction made elsewhere into a proposal file: from a transaction
 * service (`--service URL --safe-tx-hash H`) or a JSON file (`--file`: a service answer,
 * or protocol-kit's SafeTransaction). The proposal is rebuilt from the transaction's
 * fields, its safeTxHash recomputed and compared with what the source states, and every
 * signature checked as `safe-sign` checks them (EOA recovery, contract owners asked on
 * chain) before the file is written; pre-approved hashes are left to the chain.
 */
export default async function (args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(args.json, async () => {
    if ((args.file === undefined) === (args.service === undefined)) throw new InvalidInputError("give one source: --file FILE (service answer or protocol-kit JSON) or --service URL with --safe-tx-hash");
    const expected = args.safeTxHash === undefined ? undefined : parseBytes32(args.safeTxHash, "--safe-tx-hash");
    const service = args.service === undefined ? undefined : parseServiceUrl(args.service, "--service");
    if (service !== undefined && expected === undefined) throw new InvalidInputError("--safe-tx-hash is required with --service: the safeTxHash of the transaction to fetch");
    const flagSafe = args.safe === undefined ? undefined : parseAddress(args.safe, "--safe");
    const { publicClient, chainId, networkName } = await connectChain(hre);
    let raw: unknown;
    let source: string;
    if (service !== undefined && expected !== undefined) {
      const apiKey = process.env.SAFE_API_KEY;
      raw = await fetchFromService({ url: service, chainId, ...(apiKey === undefined || apiKey === "" ? {} : { apiKey }) }, expected);
      source = `--service ${service}`;
    } else {
      source = `--file ${args.file}`;
      const text = await readTextFile(args.file!, "--file");
      try {
        raw = JSON.parse(text);
      } catch {
        throw new InvalidInputError(`${source}: not JSON`);
      }
    }
    const external = parseExternalTransaction(raw, source);
    if (external.safe !== undefined && flagSafe !== undefined && external.safe !== flagSafe) throw new InvalidInputError(`--safe: ${flagSafe} is not the Safe ${external.safe} that ${source} names`);
    const safe = external.safe ?? flagSafe;
    if (safe === undefined) throw new InvalidInputError(`--safe is required: ${source} does not name the Safe`);
    const proposal = await proposalFromExternal(external, chainId, safe, expected, "--safe-tx-hash");
    const out = args.out ?? `safe-tx-${proposal.safeTxHash}.json`;
    const checked = await checkProposal(publicClient, proposal, `${source} (imported)`, "sign");
    const kept = { ...proposal, signatures: checked.kept };
    await writeTextFile(out, serializeProposal(kept), "--out");
    const signers = countedSigners(checked);
    const unapproved = external.approvals.filter((owner) => !checked.approvals.includes(owner));
    const network = networkFlag(networkName);
    const met = BigInt(signers.length) >= checked.safe.threshold;
    return {
      ok: true,
      data: { imported: true, source, proposal: out, safe, nonce: proposal.nonce, safeTxHash: proposal.safeTxHash, actions: proposal.actions, signatures: signers, approvedOnChain: checked.approvals, ignoredApprovals: unapproved, thresholdMet: met },
      lines: [
        `✔ imported ${proposal.safeTxHash} from ${source}: hash recomputed, ${checked.kept.length} signature(s) checked; written to ${out}`,
        ...proposalLines(kept, checked.safe),
        ...signatureLines(signers, checked.safe.threshold, checked.missing),
        ...signatureStatusLines(checked),
        ...(unapproved.length === 0 ? [] : [`ignored: pre-approved (v = 1) entries of ${unapproved.join(", ")}, which have not approved on chain (they count only if that owner executes or runs safe-approve-hash)`]),
        met ? `next: npx hardhat safe-execute --proposal ${out}${network}` : `next: the other owners check and sign with \`npx hardhat safe-sign --proposal ${out}${network}\``,
      ],
    };
  });
}
