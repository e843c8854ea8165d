import { concat, encodeFunctionData, getAddress, hashDomain, hashStruct, keccak256, type Address, type Hex, type PublicClient } from "viem";

import { isRevertError, toRpcError } from "../chain/errors.js";
import { SAFE_TX_TYPES, safeTxTypedData, type SafeTransaction } from "./safe-tx.js";

/**
 * Signatures by owners that are contracts (EIP-1271), as Safe 1.3.0/1.4.1 check them: for a
 * v = 0 entry the Safe calls the owner's legacy `isValidSignature(bytes data, bytes signature)`
 * with `data` = the EIP-712 encoding of the SafeTx (0x1901 ‖ domain separator ‖ struct hash,
 * whose keccak256 is the safeTxHash) and expects the magic value 0x20c13b0b. A Safe owner
 * answers through its CompatibilityFallbackHandler: it wraps `data` in a SafeMessage of its
 * own domain and runs `checkSignatures` on that message's hash with its own owners'
 * signatures — which is what those owners sign here.
 */

/** The legacy EIP-1271 magic value (`isValidSignature(bytes,bytes)`), what Safe 1.3.0/1.4.1 require. */
export const LEGACY_EIP1271_MAGIC = "0x20c13b0b";

const legacyIsValidSignatureAbi = [
  {
    type: "function",
    name: "isValidSignature",
    stateMutability: "view",
    inputs: [
      { name: "_data", type: "bytes" },
      { name: "_signature", type: "bytes" },
    ],
    outputs: [{ name: "", type: "bytes4" }],
  },
] as const;

/** The EIP-712 types of a Safe message (CompatibilityFallbackHandler's `SafeMessage(bytes message)`). */
export const SAFE_MESSAGE_TYPES = { SafeMessage: [{ type: "bytes", name: "message" }] } as const;

/** What is signed and checked for one Safe: the data its owners' contracts receive, and its hash. */
export interface SignedData {
  /** The bytes a contract owner's `isValidSignature` receives. */
  data: Hex;
  /** keccak256(data): what EOA owners' signatures recover from. */
  hash: Hex;
}

/** The EIP-712 encoding of a SafeTx: the bytes a contract owner of `safe` is asked to accept. */
export function safeTxSignedData(chainId: number, safe: Address, tx: SafeTransaction): SignedData {
  const typed = safeTxTypedData(chainId, safe, tx);
  const data = concat(["0x1901", hashDomain({ domain: { chainId: BigInt(chainId), verifyingContract: typed.domain.verifyingContract }, types: { EIP712Domain: EIP712_DOMAIN } }), hashStruct({ data: typed.message, primaryType: "SafeTx", types: SAFE_TX_TYPES })]);
  return { data, hash: keccak256(data) };
}

/** The SafeMessage typed data the owners of `ownerSafe` sign so that it accepts `data` (EIP-712). */
export function safeMessageTypedData(chainId: number, ownerSafe: Address, data: Hex) {
  return { domain: { chainId, verifyingContract: getAddress(ownerSafe) }, types: SAFE_MESSAGE_TYPES, primaryType: "SafeMessage" as const, message: { message: data } };
}

/** What `ownerSafe`'s own owners sign (and its own contract owners receive) for it to accept `data`. */
export function safeMessageSignedData(chainId: number, ownerSafe: Address, data: Hex): SignedData {
  const typed = safeMessageTypedData(chainId, ownerSafe, data);
  const encoded = concat(["0x1901", hashDomain({ domain: { chainId: BigInt(chainId), verifyingContract: typed.domain.verifyingContract }, types: { EIP712Domain: EIP712_DOMAIN } }), hashStruct({ data: typed.message, primaryType: "SafeMessage", types: SAFE_MESSAGE_TYPES })]);
  return { data: encoded, hash: keccak256(encoded) };
}

const EIP712_DOMAIN = [
  { name: "chainId", type: "uint256" },
  { name: "verifyingContract", type: "address" },
] as const;

/**
 * Asks the owner contract itself, as the Safe will: `isValidSignature(data, signature)`
 * answering the legacy magic value is a yes; a revert or any other answer is a no (with
 * the reason); an RPC failure is an error, never a no.
 */
export async function contractAcceptsSignature(client: PublicClient, owner: Address, data: Hex, signature: Hex): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    const answer = await client.call({ to: owner, data: encodeFunctionData({ abi: legacyIsValidSignatureAbi, functionName: "isValidSignature", args: [data, signature] }) });
    const word = answer.data ?? "0x";
    if (word.slice(0, 10).toLowerCase() === LEGACY_EIP1271_MAGIC && word.length >= 10) return { ok: true };
    return { ok: false, reason: word === "0x" ? "it returned nothing (not an EIP-1271 contract?)" : `it answered ${word.slice(0, 10)}, not ${LEGACY_EIP1271_MAGIC}` };
  } catch (error) {
    if (!isRevertError(error)) throw toRpcError(client, "eth_call", error);
    const message = (error as Error).message;
    const code = /GS0\d\d/.exec(message)?.[0];
    return { ok: false, reason: `its isValidSignature reverted${code === undefined ? "" : ` (${code})`}` };
  }
}
