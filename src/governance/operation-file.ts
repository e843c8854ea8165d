import { isDeepStrictEqual } from "node:util";

import { getAddress, type Address, type Hex } from "viem";

import { InvalidInputError } from "../util/errors.js";
import { asStoredAction, decodeCall, type DecodedAction } from "./decode.js";
import { ProposalMismatchError } from "./errors.js";
import { clampSummaries, parseSummaries } from "./free-text.js";
import { JsonFields } from "./json-fields.js";
import { checkProposalIntegrity, parseProposal, PROPOSAL_FORMAT } from "./proposal.js";
import { operationId, serializeOperation, type SerializedOperation, type TimelockOperation } from "./timelock-operation.js";

export const OPERATION_FORMAT = "dstack-governance/timelock-operation";

/**
 * A timelock operation file, written when a command schedules on the `timelock` route: what
 * `timelock-execute` and `timelock-cancel` need, with the operation's calls decoded for
 * whoever executes it.
 */
export interface OperationFile {
  format: typeof OPERATION_FORMAT;
  version: 1;
  chainId: number;
  operation: SerializedOperation;
  /** The decoding of the operation's calls (re-derived and compared when read). */
  actions: DecodedAction[];
  summaries: string[];
  scheduledBy: Address;
  createdAt: string;
}

/** The readable steps of an operation's calls. */
export function decodeOperation(op: Pick<TimelockOperation, "calls">): DecodedAction[] {
  return op.calls.flatMap((call, i) => decodeCall(call, String(i + 1)));
}

export function buildOperationFile(chainId: number, op: TimelockOperation, summaries: string[], scheduledBy: Address): OperationFile {
  return {
    format: OPERATION_FORMAT,
    version: 1,
    chainId,
    operation: serializeOperation(op),
    actions: decodeOperation(op),
    summaries: clampSummaries(summaries),
    scheduledBy: getAddress(scheduledBy),
    createdAt: new Date().toISOString(),
  };
}

export function serializeOperationFile(file: OperationFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** Parses a serialized operation and checks that its id is the hash of its fields. */
export function parseOperation(value: unknown, where: string): TimelockOperation {
  const f = JsonFields.of(value, where);
  const calls = f.array("calls").map((entry, i) => {
    const c = JsonFields.of(entry, `${where} call ${i + 1}`);
    return { to: c.address("to"), value: c.uint("value"), data: c.hex("data") };
  });
  if (calls.length === 0) throw new InvalidInputError(`${where}: the operation has no calls`);
  const op: TimelockOperation = {
    timelock: f.address("timelock"),
    calls,
    predecessor: f.hex("predecessor", 32),
    salt: f.hex("salt", 32),
    delay: f.uint("delay"),
    batch: f.boolean("batch"),
  };
  if (!op.batch && calls.length !== 1) throw new InvalidInputError(`${where}: a non-batch operation has exactly one call`);
  const id = f.hex("id", 32);
  const computed = operationId(op);
  if (computed !== id) {
    throw new ProposalMismatchError(`${where}: the operation id ${id} does not match its calls, predecessor and salt (they hash to ${computed}): the file was edited`);
  }
  return op;
}

/** What `timelock-execute`/`timelock-cancel` read from an operation file. */
export interface LoadedOperation {
  chainId: number;
  operation: TimelockOperation;
  id: Hex;
  summaries: string[];
  /** "operation file" or "Safe proposal". */
  source: string;
}

/**
 * Reads an operation from a timelock operation file or from a `safe,timelock` route's
 * Safe proposal (whose transaction schedules it); either way the id is re-derived and
 * the readable actions re-decoded and compared.
 */
export function parseOperationSource(text: string, where: string): LoadedOperation {
  const f = JsonFields.parse(text, where);
  if (f.raw("format") === PROPOSAL_FORMAT) {
    const proposal = parseProposal(text, where);
    checkProposalIntegrity(proposal, where);
    if (proposal.timelock === undefined) throw new InvalidInputError(`${where}: this Safe proposal schedules no timelock operation`);
    const operation = parseOperation(proposal.timelock, `${where} timelock`);
    return { chainId: proposal.chainId, operation, id: operationId(operation), summaries: proposal.summaries, source: "Safe proposal" };
  }
  if (f.raw("format") !== OPERATION_FORMAT) {
    throw new InvalidInputError(`${where}: neither a timelock operation file nor a Safe proposal (unknown "format")`);
  }
  if (f.raw("version") !== 1) throw new InvalidInputError(`${where}: unsupported operation file version ${JSON.stringify(f.raw("version"))}`);
  const operation = parseOperation(f.raw("operation"), `${where} operation`);
  const stored = f.array("actions");
  const decoded = decodeOperation(operation);
  const expected = decoded.length === stored.length ? decoded.map((action, i) => asStoredAction(action, stored[i])) : decoded;
  if (!isDeepStrictEqual(stored, JSON.parse(JSON.stringify(expected)))) {
    throw new ProposalMismatchError(`${where}: the readable actions in the file do not match the operation's calls: the file was edited`);
  }
  const summaries = parseSummaries(f.array("summaries"), where);
  return { chainId: f.integer("chainId"), operation, id: operationId(operation), summaries, source: "operation file" };
}
