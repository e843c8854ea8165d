import { getAddress, isAddress, isHex, zeroAddress, type Address, type Hex } from "viem";

import { InvalidInputError } from "../util/errors.js";
import { InvalidSignatureError, ProposalMismatchError } from "./errors.js";
import { buildProposal, type SafeProposal } from "./proposal.js";
import { safeTxHash, type SafeTransaction } from "./safe-tx.js";
import { approvedHashSignature, packSignatures, recoverSafeSignature, unpackSignatures, type OwnerSignature } from "./signatures.js";

/**
 * Safe transactions made elsewhere, brought in as proposal files: a transaction service's
 * answer (`GET /v2/multisig-transactions/<safeTxHash>/`, which is also what Safe{Wallet}
 * shows and stores), Safe{Wallet}'s own view of it (the client gateway's transaction details:
 * `txData`, `detailedExecutionInfo`) or protocol-kit's `SafeTransaction` as JSON (`{ data, signatures }`,
 * the signatures as a list or object of `{ signer, data, isContractSignature }`, or packed
 * in `encodedSignatures`). Nothing in the input is trusted: the fields are parsed
 * strictly, the safeTxHash is recomputed (and must equal the one given), and each
 * signature is later checked against the Safe's owners on chain by `checkProposal`.
 */
export interface ExternalTransaction {
  /** Where it came from, for messages. */
  source: string;
  safe?: Address;
  /** The safeTxHash the source states (checked against the recomputed one). */
  safeTxHash?: Hex;
  tx: SafeTransaction;
  signatures: OwnerSignature[];
  /** Owners whose entry is a pre-approved hash (v = 1): never carried in a file, counted from the chain. */
  approvals: Address[];
  proposer?: Address;
}

/** Parses a service answer or protocol-kit JSON. Every malformed field is an `InvalidInputError` naming it. */
export function parseExternalTransaction(value: unknown, source: string): ExternalTransaction {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new InvalidInputError(`${source}: expected a JSON object (a transaction service answer or a protocol-kit SafeTransaction)`);
  const object = fromClientGateway(value as Record<string, unknown>, source);
  // protocol-kit nests the SafeTx fields under `data`; a service answer has them at the top level.
  const kit = typeof object.data === "object" && object.data !== null && !Array.isArray(object.data);
  const fields = (kit ? object.data : object) as Record<string, unknown>;
  const where = (key: string) => `${source}: field "${kit ? `data.${key}` : key}"`;
  const tx: SafeTransaction = {
    to: address(fields.to, where("to")),
    value: uint(fields.value, where("value")),
    data: fields.data === null || fields.data === undefined ? "0x" : hex(fields.data, where("data")),
    operation: operation(fields.operation, where("operation")),
    safeTxGas: uint(fields.safeTxGas, where("safeTxGas")),
    baseGas: uint(fields.baseGas, where("baseGas")),
    gasPrice: uint(fields.gasPrice, where("gasPrice")),
    gasToken: address(fields.gasToken ?? zeroAddress, where("gasToken")),
    refundReceiver: address(fields.refundReceiver ?? zeroAddress, where("refundReceiver")),
    nonce: uint(fields.nonce, where("nonce")),
  };
  const parsed: ExternalTransaction = { source, tx, signatures: [], approvals: [] };
  if (object.safe !== undefined) parsed.safe = address(object.safe, `${source}: field "safe"`);
  if (object.safeTxHash !== undefined && object.safeTxHash !== null) parsed.safeTxHash = hex(object.safeTxHash, `${source}: field "safeTxHash"`, 32);
  if (typeof object.proposer === "string" && isAddress(object.proposer, { strict: false })) parsed.proposer = getAddress(object.proposer);
  if (kit) {
    const list = Array.isArray(object.signatures) ? object.signatures : typeof object.signatures === "object" && object.signatures !== null ? Object.values(object.signatures) : [];
    for (const [i, entry] of list.entries()) {
      const name = `${source}: signature ${i + 1}`;
      if (typeof entry !== "object" || entry === null) throw new InvalidInputError(`${name}: expected { signer, data, isContractSignature }`);
      const e = entry as Record<string, unknown>;
      const signer = address(e.signer, `${name} field "signer"`);
      const data = hex(e.data, `${name} field "data"`);
      if (e.isContractSignature === true) parsed.signatures.push({ signer, signature: data, kind: "contract" });
      else addStatic(parsed, signer, data, name);
    }
    if (object.encodedSignatures !== undefined) addPacked(parsed, hex(object.encodedSignatures, `${source}: field "encodedSignatures"`), undefined, `${source}: encodedSignatures`);
  } else if (object.confirmations !== undefined && object.confirmations !== null) {
    if (!Array.isArray(object.confirmations)) throw new InvalidInputError(`${source}: field "confirmations" must be a list`);
    for (const [i, entry] of object.confirmations.entries()) {
      const name = `${source}: confirmation ${i + 1}`;
      if (typeof entry !== "object" || entry === null) throw new InvalidInputError(`${name}: expected { owner, signature }`);
      const e = entry as Record<string, unknown>;
      addPacked(parsed, hex(e.signature, `${name} field "signature"`), address(e.owner, `${name} field "owner"`), name);
    }
  }
  return parsed;
}

/**
 * Safe{Wallet}'s transaction details (the client gateway's `/v1/chains/<id>/transactions/<id>`:
 * `safeAddress`, `txData` with `hexData` and `to.value`, `detailedExecutionInfo` with the
 * gas fields, nonce, safeTxHash and `confirmations: [{ signer: { value }, signature }]`) as
 * the transaction service's shape; any other object is returned as it is.
 */
function fromClientGateway(object: Record<string, unknown>, source: string): Record<string, unknown> {
  const txData = object.txData;
  const info = object.detailedExecutionInfo;
  if (typeof txData !== "object" || txData === null || typeof info !== "object" || info === null) return object;
  const t = txData as Record<string, unknown>;
  const d = info as Record<string, unknown>;
  if (d.type !== undefined && d.type !== "MULTISIG") throw new InvalidInputError(`${source}: not a multisig transaction (detailedExecutionInfo.type is ${JSON.stringify(d.type)})`);
  const value = (entry: unknown) => (typeof entry === "object" && entry !== null ? (entry as Record<string, unknown>).value : entry);
  const confirmations = Array.isArray(d.confirmations) ? d.confirmations.map((c) => (typeof c === "object" && c !== null ? { owner: value((c as Record<string, unknown>).signer), signature: (c as Record<string, unknown>).signature } : c)) : d.confirmations;
  return {
    safe: object.safeAddress,
    to: value(t.to),
    value: t.value,
    data: t.hexData,
    operation: t.operation,
    safeTxGas: d.safeTxGas,
    baseGas: d.baseGas,
    gasPrice: d.gasPrice,
    gasToken: d.gasToken,
    refundReceiver: value(d.refundReceiver),
    nonce: d.nonce,
    safeTxHash: d.safeTxHash,
    confirmations,
  };
}

/** A 65-byte entry whose signer is stated: EOA, or a pre-approved hash (v = 1). */
function addStatic(parsed: ExternalTransaction, signer: Address, data: Hex, name: string): void {
  if (data.length !== 132) throw new InvalidInputError(`${name}: an owner signature must be 65 bytes (or marked isContractSignature)`);
  const v = parseInt(data.slice(-2), 16);
  if (v === 1) parsed.approvals.push(signer);
  else parsed.signatures.push({ signer, signature: data });
}

/** Packed signatures (a service confirmation, protocol-kit's encodedSignatures): EOA entries take the stated owner or the address they recover to. */
function addPacked(parsed: ExternalTransaction, packed: Hex, owner: Address | undefined, name: string): void {
  let entries: ReturnType<typeof unpackSignatures>;
  try {
    entries = unpackSignatures(packed, owner === undefined ? undefined : 1);
  } catch (error) {
    throw new InvalidSignatureError(`${name}: ${(error as Error).message}`);
  }
  if (owner !== undefined) {
    // One confirmation is one signature in Safe's encoding, nothing more.
    const [entry] = entries;
    const rebuilt = entry === undefined ? "0x" : entry.kind === "eoa" ? entry.signature : packSignatures([entry.kind === "approvedHash" ? approvedHashSignature(entry.signer) : { signer: entry.signer, signature: entry.signature, kind: "contract" }]);
    if (rebuilt.toLowerCase() !== packed.toLowerCase()) throw new InvalidSignatureError(`${name} is not one signature in Safe's encoding (${(packed.length - 2) / 2} bytes)`);
  }
  for (const entry of entries) {
    if (entry.kind === "eoa") {
      parsed.signatures.push({ signer: owner ?? zeroAddress, signature: entry.signature });
      continue;
    }
    if (owner !== undefined && entry.signer !== owner) throw new InvalidSignatureError(`${name} is stated to be by ${owner} but its signature names ${entry.signer}`);
    if (entry.kind === "approvedHash") parsed.approvals.push(entry.signer);
    else parsed.signatures.push({ signer: entry.signer, signature: entry.signature, kind: "contract" });
  }
}

/**
 * Rebuilds the proposal for `chainId` from an external transaction: the safeTxHash is
 * recomputed and must equal the one the source states (and `expectedHash`, when given,
 * named `expectedLabel` in messages);
 * EOA signatures with no stated signer take the address they recover to (checking them
 * against the owners is `checkProposal`'s work).
 */
export async function proposalFromExternal(external: ExternalTransaction, chainId: number, safe: Address, expectedHash?: Hex, expectedLabel = "the expected safeTxHash"): Promise<SafeProposal> {
  const computed = safeTxHash(chainId, safe, external.tx);
  for (const [stated, by] of [[external.safeTxHash, external.source], [expectedHash, expectedLabel]] as const) {
    if (stated !== undefined && stated.toLowerCase() !== computed) {
      throw new ProposalMismatchError(`${by} states safeTxHash ${stated}, but the transaction's fields hash to ${computed} for Safe ${safe} on chain ${chainId}: refusing to import it`);
    }
  }
  const signatures: OwnerSignature[] = [];
  for (const entry of external.signatures) {
    if (entry.kind === "contract" || entry.signer !== zeroAddress) signatures.push(entry);
    else signatures.push({ signer: await recoverSafeSignature(computed, entry.signature), signature: entry.signature });
  }
  let proposal: SafeProposal;
  try {
    proposal = buildProposal({ chainId, safe, tx: external.tx, summaries: [], proposedBy: external.proposer ?? signatures[0]?.signer ?? zeroAddress });
  } catch (error) {
    throw new InvalidInputError(`${external.source}: the transaction data does not decode: ${(error as Error).message}`);
  }
  return { ...proposal, signatures };
}

function address(value: unknown, where: string): Address {
  if (typeof value !== "string" || !isAddress(value, { strict: false })) throw new InvalidInputError(`${where} must be a 0x-prefixed 20-byte address`);
  return getAddress(value);
}

function hex(value: unknown, where: string, bytes?: number): Hex {
  if (typeof value !== "string" || !isHex(value, { strict: true }) || value.length % 2 !== 0) throw new InvalidInputError(`${where} must be 0x-prefixed hex`);
  if (bytes !== undefined && value.length !== 2 + 2 * bytes) throw new InvalidInputError(`${where} must be ${bytes} bytes of 0x-prefixed hex`);
  return value.toLowerCase() as Hex;
}

function uint(value: unknown, where: string): bigint {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === "string" && /^\d+$/.test(value)) return BigInt(value);
  throw new InvalidInputError(`${where} must be a non-negative integer (a number or a decimal string)`);
}

function operation(value: unknown, where: string): 0 | 1 {
  if (value === 0 || value === 1) return value;
  throw new InvalidInputError(`${where} must be 0 (call) or 1 (delegatecall)`);
}
