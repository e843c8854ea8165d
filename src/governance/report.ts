import type { Address } from "viem";

import { formatActions } from "./decode.js";
import { formatDuration, formatTimestamp } from "./duration.js";
import type { SafeProposal } from "./proposal.js";
import type { SafeInfo } from "./safe-state.js";
import type { OperationStatus } from "./timelock-state.js";

/** `--network NAME` for the next-step hints (omitted on the default network). */
export const networkFlag = (network: string | undefined): string => (network === undefined || network === "default" ? "" : ` --network ${network}`);

/** What a signer reads before signing: the Safe, the hash, each decoded action, the proposer's words. */
export function proposalLines(proposal: SafeProposal, safe: Pick<SafeInfo, "address" | "threshold" | "owners" | "nonce">): string[] {
  const lines = [
    `Safe ${safe.address} on chain ${proposal.chainId}: ${safe.threshold} of ${safe.owners.length} owners must sign; Safe nonce ${safe.nonce}, proposal nonce ${proposal.nonce}`,
    `safeTxHash ${proposal.safeTxHash}`,
    `${proposal.operation === 1 ? "DELEGATECALL" : "call"} ${proposal.to}, value ${proposal.value} wei, ${(proposal.data.length - 2) / 2} bytes of data`,
    "what it does (decoded from the data):",
    ...formatActions(proposal.actions),
  ];
  // The proposer's own words cannot be checked against the data; the decoded lines above are.
  if (proposal.summaries.length > 0) lines.push("the proposer's summary (its words, not checked; the decoded lines above are):", ...proposal.summaries.map((summary) => `  - ${summary}`));
  return lines;
}

/** The signatures so far against the threshold. */
export function signatureLines(signers: readonly Address[], threshold: bigint, missing: readonly Address[]): string[] {
  const have = BigInt(signers.length);
  return [
    `signatures: ${have} of the ${threshold} required${signers.length === 0 ? "" : ` (${signers.join(", ")})`}`,
    have >= threshold ? "threshold met: the proposal can be executed" : `${threshold - have} more needed, from: ${missing.join(", ")}`,
  ];
}

/** The state of a timelock operation in words: pending (ready at T, in D) / ready / done / not scheduled. */
export function operationStatusLine(status: OperationStatus): string {
  switch (status.state) {
    case "unset":
      return "not scheduled (never, or cancelled)";
    case "waiting":
      return `pending: ready at ${formatTimestamp(status.readyAt)} (in ${formatDuration(status.readyAt - status.now)})`;
    case "ready":
      return `ready since ${formatTimestamp(status.readyAt)}: can be executed`;
    case "done":
      return "done (executed)";
  }
}
