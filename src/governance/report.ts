import type { Address } from "viem";

import { formatActions, type DecodedAction } from "./decode.js";
import { formatDuration } from "../util/duration.js";
import { formatTimestamp } from "../util/timestamp.js";
import { unverifiedTextLines } from "./free-text.js";
import { gasRefundLines, type GasRefund } from "./gas-refund.js";
import type { SafeProposal } from "./proposal.js";
import type { SafeInfo } from "./safe-state.js";
import type { OperationStatus } from "./timelock-state.js";

/**
 * What a signer reads before signing, in this order: the gas/refund terms when not zero
 * (a warning, only shown when the signer allowed them); the proposer's free text, marked
 * as unverified on every line; the Safe and the hash; each decoded action with its warnings; what the chain adds
 * (`notes`); and last a recap of the decoded actions, so that nothing the proposer wrote
 * comes after (or can pose as) what the data does.
 */
export function proposalLines(
  proposal: SafeProposal,
  safe: Pick<SafeInfo, "address" | "threshold" | "owners" | "nonce">,
  checked: { gasRefund?: GasRefund; notes?: readonly string[] } = {},
): string[] {
  const notes = checked.notes ?? [];
  return [
    ...(checked.gasRefund === undefined ? [] : gasRefundLines(checked.gasRefund)),
    ...unverifiedTextLines("UNVERIFIED: the proposer's own words (not checked against the data; only the decoded lines below are):", proposal.summaries),
    `Safe ${safe.address} on chain ${proposal.chainId}: ${safe.threshold} of ${safe.owners.length} owners must sign; Safe nonce ${safe.nonce}, proposal nonce ${proposal.nonce}`,
    `safeTxHash ${proposal.safeTxHash}`,
    `${proposal.operation === 1 ? "DELEGATECALL" : "call"} ${proposal.to}, value ${proposal.value} wei, ${(proposal.data.length - 2) / 2} bytes of data`,
    "what it does (decoded from the data the signatures cover):",
    ...formatActions(proposal.actions),
    ...notes.map((note) => `⚠ ${note}`),
    ...recapLines(proposal.actions, checked.gasRefund !== undefined, notes.length),
  ];
}

/**
 * The `--json` fields both safe-sign and safe-execute report about a checked proposal:
 * what it does and what the chain adds, from the same decode the text lines show.
 */
export function proposalData(proposal: SafeProposal, checked: { safe: Pick<SafeInfo, "address">; gasRefund?: GasRefund; notes: readonly string[] }) {
  return {
    safe: checked.safe.address,
    nonce: proposal.nonce,
    safeTxHash: proposal.safeTxHash,
    actions: proposal.actions,
    notes: checked.notes,
    ...(checked.gasRefund === undefined ? {} : { gasRefund: checked.gasRefund }),
  };
}

/** The last lines of a proposal: one line per decoded action, and how many warnings to read. */
export function recapLines(actions: readonly DecodedAction[], gasRefund: boolean, notes: number): string[] {
  const control = actions.filter((action) => action.authority !== undefined).length;
  const warned = actions.filter((action) => action.warning !== undefined).length;
  const flags = [
    gasRefund ? "a GAS REFUND paid from the Safe" : undefined,
    control > 0 ? `${control} control change${control === 1 ? "" : "s"}` : undefined,
    warned > 0 ? `${warned} other warning${warned === 1 ? "" : "s"}` : undefined,
    notes > 0 ? `${notes} note${notes === 1 ? "" : "s"} from the chain` : undefined,
  ].filter((flag): flag is string => flag !== undefined);
  return [
    `recap: signing approves exactly these ${actions.length} decoded step${actions.length === 1 ? "" : "s"}${flags.length === 0 ? "" : `, with ${flags.join(", ")} (⚠ above)`}:`,
    ...actions.map((action) => `${"  ".repeat(action.step.split(".").length)}${action.step}. ${action.authority === undefined ? "" : "[CONTROL] "}${action.description}`),
  ];
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
  const own = ownStatusLine(status);
  if (status.blockedBy === undefined) return own;
  const { id, state } = status.blockedBy;
  const why = state === "unset" ? "is not scheduled (never, or cancelled): this operation can never execute; schedule it again without that predecessor" : `is ${state === "waiting" ? "still pending" : "ready but not executed"}: execute it first`;
  return `BLOCKED by its predecessor ${id}, which ${why} (own state: ${own})`;
}

function ownStatusLine(status: OperationStatus): string {
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
