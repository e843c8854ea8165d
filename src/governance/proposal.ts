import { isDeepStrictEqual } from "node:util";

import { getAddress, type Address, type Hex } from "viem";

import { InvalidInputError } from "../util/errors.js";
import { asStoredAction, decodeSafeTransaction, type DecodedAction } from "./decode.js";
import { ProposalMismatchError } from "./errors.js";
import { readTextFile } from "../util/files.js";
import { clampSummaries, parseSummaries } from "./free-text.js";
import { JsonFields } from "./json-fields.js";
import { decodeMultiSendCall, isMultiSendCall } from "./multisend.js";
import { safeTxHash, type SafeTransaction } from "./safe-tx.js";
import { parseOwnerSignature, type OwnerSignature } from "./signatures.js";
import { operationId, scheduledOperation, serializeOperation, type SerializedOperation, type TimelockOperation } from "./timelock-operation.js";

export const PROPOSAL_FORMAT = "dstack-governance/safe-proposal";

// What `toISOString()` writes; nothing else is free text in a proposal besides `summaries`.
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/**
 * A Safe proposal file: everything an owner needs to check and sign offline, and what
 * `safe-execute` needs to execute. The Safe transaction fields are what the safeTxHash
 * covers; `actions` are their decoding (re-derived and compared whenever the file is
 * read); `summaries` are the proposing command's own words; `timelock` is the operation a
 * `safe,timelock` route's proposal schedules (for `timelock-execute` later).
 */
export interface SafeProposal {
  format: typeof PROPOSAL_FORMAT;
  version: 1;
  chainId: number;
  safe: Address;
  /** Decimal strings, so that JSON keeps every digit. */
  nonce: string;
  to: Address;
  value: string;
  data: Hex;
  operation: 0 | 1;
  safeTxGas: string;
  baseGas: string;
  gasPrice: string;
  gasToken: Address;
  refundReceiver: Address;
  safeTxHash: Hex;
  actions: DecodedAction[];
  summaries: string[];
  timelock?: SerializedOperation;
  signatures: OwnerSignature[];
  proposedBy: Address;
  createdAt: string;
}

/** The Safe transaction a proposal's fields describe. */
export function proposalTransaction(proposal: SafeProposal): SafeTransaction {
  return {
    to: proposal.to,
    value: BigInt(proposal.value),
    data: proposal.data,
    operation: proposal.operation,
    safeTxGas: BigInt(proposal.safeTxGas),
    baseGas: BigInt(proposal.baseGas),
    gasPrice: BigInt(proposal.gasPrice),
    gasToken: proposal.gasToken,
    refundReceiver: proposal.refundReceiver,
    nonce: BigInt(proposal.nonce),
  };
}

/** Builds an (unsigned) proposal; `actions`, `safeTxHash` and `timelock` are derived from the transaction. */
export function buildProposal(args: {
  chainId: number;
  safe: Address;
  tx: SafeTransaction;
  summaries: string[];
  proposedBy: Address;
  createdAt?: Date;
}): SafeProposal {
  const { chainId, safe, tx } = args;
  const timelock = scheduledOperationOf(tx);
  return {
    format: PROPOSAL_FORMAT,
    version: 1,
    chainId,
    safe: getAddress(safe),
    nonce: tx.nonce.toString(),
    to: getAddress(tx.to),
    value: tx.value.toString(),
    data: tx.data,
    operation: tx.operation,
    safeTxGas: tx.safeTxGas.toString(),
    baseGas: tx.baseGas.toString(),
    gasPrice: tx.gasPrice.toString(),
    gasToken: getAddress(tx.gasToken),
    refundReceiver: getAddress(tx.refundReceiver),
    safeTxHash: safeTxHash(chainId, safe, tx),
    actions: decodeSafeTransaction(tx),
    summaries: clampSummaries(args.summaries),
    ...(timelock === undefined ? {} : { timelock: serializeOperation(timelock) }),
    signatures: [],
    proposedBy: getAddress(args.proposedBy),
    createdAt: (args.createdAt ?? new Date()).toISOString(),
  };
}

/** The proposal as its file holds it (stable key order, two-space indent, final newline). */
export function serializeProposal(proposal: SafeProposal): string {
  return `${JSON.stringify(proposal, null, 2)}\n`;
}

/**
 * Reads a proposal file's text: every field present and of the right type (an
 * `InvalidInputError` naming the field otherwise). Consistency is checked separately by
 * `checkProposalIntegrity`.
 */
export function parseProposal(text: string, where: string): SafeProposal {
  const f = JsonFields.parse(text, where);
  if (f.raw("format") !== PROPOSAL_FORMAT) throw new InvalidInputError(`${where}: not a Safe proposal file (format is not "${PROPOSAL_FORMAT}")`);
  if (f.raw("version") !== 1) throw new InvalidInputError(`${where}: unsupported proposal version ${JSON.stringify(f.raw("version"))}`);
  const operation = f.integer("operation");
  if (operation !== 0 && operation !== 1) throw new InvalidInputError(`${where}: field "operation" must be 0 (call) or 1 (delegatecall)`);
  const signatures = f.array("signatures").map((entry, i) => parseOwnerSignature(entry, `${where} signature ${i + 1}`));
  const actions = f.array("actions");
  const summaries = parseSummaries(f.array("summaries"), where);
  const createdAt = f.string("createdAt");
  if (!ISO_TIMESTAMP.test(createdAt)) throw new InvalidInputError(`${where}: field "createdAt" must be an ISO 8601 UTC timestamp (2026-01-31T12:00:00.000Z)`);
  const proposal: SafeProposal = {
    format: PROPOSAL_FORMAT,
    version: 1,
    chainId: f.integer("chainId"),
    safe: f.address("safe"),
    nonce: f.uint("nonce").toString(),
    to: f.address("to"),
    value: f.uint("value").toString(),
    data: f.hex("data"),
    operation,
    safeTxGas: f.uint("safeTxGas").toString(),
    baseGas: f.uint("baseGas").toString(),
    gasPrice: f.uint("gasPrice").toString(),
    gasToken: f.address("gasToken"),
    refundReceiver: f.address("refundReceiver"),
    safeTxHash: f.hex("safeTxHash", 32),
    actions: actions as DecodedAction[],
    summaries,
    signatures,
    proposedBy: f.address("proposedBy"),
    createdAt,
  };
  if (f.has("timelock")) proposal.timelock = f.raw("timelock") as SerializedOperation;
  return proposal;
}

/**
 * Reads a proposal file named by `flag` and checks it against itself, offline: an edited
 * file is refused before the chain is even contacted. `where` names it in messages.
 */
export async function readProposalFile(path: string, flag: string): Promise<{ proposal: SafeProposal; where: string }> {
  const where = `${flag} ${path}`;
  const proposal = parseProposal(await readTextFile(path, flag), where);
  checkProposalIntegrity(proposal, where);
  // What is shown (and written back when signing) is the decoding itself, with every field
  // this version derives, not the file's copy of it.
  proposal.actions = decodeSafeTransaction(proposalTransaction(proposal));
  return { proposal, where };
}

/**
 * Checks that a proposal file is consistent with itself, without the chain: its
 * safeTxHash is the hash of its fields, its readable actions are the decoding of its
 * data, and its timelock operation (if any) is the one the data schedules. An edited
 * file fails here with a message that says which part no longer matches.
 */
export function checkProposalIntegrity(proposal: SafeProposal, where: string): void {
  const tx = proposalTransaction(proposal);
  const computed = safeTxHash(proposal.chainId, proposal.safe, tx);
  if (computed !== proposal.safeTxHash.toLowerCase()) {
    throw new ProposalMismatchError(
      `${where}: the safeTxHash ${proposal.safeTxHash} does not match the proposal's fields (they hash to ${computed}): the file was edited after it was written; do not sign it`,
    );
  }
  let decoded: DecodedAction[];
  try {
    decoded = decodeSafeTransaction(tx);
  } catch (error) {
    throw new ProposalMismatchError(`${where}: the transaction data does not decode: ${(error as Error).message}`);
  }
  const stored = proposal.actions;
  const length = Math.max(decoded.length, stored.length);
  for (let i = 0; i < length; i += 1) {
    if (!isDeepStrictEqual(normalise(stored[i]), normalise(asStoredAction(decoded[i], stored[i])))) {
      const said = stored[i] === undefined ? "nothing" : describe(stored[i]);
      const does = decoded[i] === undefined ? "nothing" : describe(decoded[i]);
      throw new ProposalMismatchError(
        `${where}: action ${decoded[i]?.step ?? stored[i]?.step ?? i + 1} in the file does not match the transaction data: the file says "${said}", the data does "${does}"; do not sign it`,
      );
    }
  }
  const operation = scheduledOperationOf(tx);
  const expected = operation === undefined ? undefined : serializeOperation(operation);
  if (!isDeepStrictEqual(normaliseOperation(proposal.timelock), expected)) {
    throw new ProposalMismatchError(`${where}: the timelock operation in the file is not the one the transaction data schedules; do not sign it`);
  }
}

/** The timelock operation the transaction schedules: directly, or as one entry of a MultiSend batch. */
export function scheduledOperationOf(tx: Pick<SafeTransaction, "to" | "data" | "operation">): TimelockOperation | undefined {
  if (tx.operation === 0) return scheduledOperation(tx.to, tx.data);
  if (!isMultiSendCall(tx.data)) return undefined;
  const found = decodeMultiSendCall(tx.data)
    .map((call) => scheduledOperation(call.to, call.data))
    .filter((op): op is TimelockOperation => op !== undefined);
  return found.length === 1 ? found[0] : undefined;
}

/** The operation id of the proposal's timelock operation, checked against its fields. */
export function proposalOperationId(proposal: SafeProposal): Hex | undefined {
  const operation = scheduledOperationOf(proposalTransaction(proposal));
  return operation === undefined ? undefined : operationId(operation);
}

function describe(action: DecodedAction | undefined): string {
  if (action === undefined) return "nothing";
  return typeof action === "object" && action !== null && typeof action.description === "string" ? `${action.description} [${action.call}]` : JSON.stringify(action);
}

// Addresses may be written in any case; everything else must be exactly equal.
function normalise(action: unknown): unknown {
  if (typeof action !== "object" || action === null) return action;
  const copy: Record<string, unknown> = { ...(action as Record<string, unknown>) };
  if (typeof copy.to === "string") copy.to = copy.to.toLowerCase();
  return copy;
}

function normaliseOperation(value: unknown): unknown {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null) return value;
  const op = value as SerializedOperation;
  try {
    return {
      ...op,
      timelock: getAddress(op.timelock),
      id: typeof op.id === "string" ? op.id.toLowerCase() : op.id,
      calls: Array.isArray(op.calls) ? op.calls.map((call) => ({ ...call, to: getAddress(call.to), data: typeof call.data === "string" ? call.data.toLowerCase() : call.data })) : op.calls,
      predecessor: typeof op.predecessor === "string" ? op.predecessor.toLowerCase() : op.predecessor,
      salt: typeof op.salt === "string" ? op.salt.toLowerCase() : op.salt,
    };
  } catch {
    return value;
  }
}
