import { getAddress, keccak256, stringToHex, type Address } from "viem";

import type { BatchCall } from "./multisend.js";

/**
 * A Safe{Wallet} Transaction Builder batch file (format "1.0"): Safe{Wallet} → Apps →
 * Transaction Builder → drag the file in. Each call is given as raw data, so the builder
 * shows exactly the calldata the proposal carries. The checksum is the builder's own
 * (keccak256 of its canonical serialisation with `meta.name` nulled), so the import is
 * not flagged as modified.
 */
export interface TransactionBuilderBatch {
  version: "1.0";
  chainId: string;
  createdAt: number;
  meta: {
    name: string;
    description: string;
    txBuilderVersion: string;
    createdFromSafeAddress: Address;
    createdFromOwnerAddress: string;
    checksum?: string;
  };
  transactions: Array<{ to: Address; value: string; data: string; contractMethod: null; contractInputsValues: null }>;
}

export function transactionBuilderBatch(
  chainId: number,
  safe: Address,
  calls: readonly BatchCall[],
  meta: { name: string; description: string; createdAt?: number },
): TransactionBuilderBatch {
  const batch: TransactionBuilderBatch = {
    version: "1.0",
    chainId: String(chainId),
    createdAt: meta.createdAt ?? Date.now(),
    meta: {
      name: meta.name,
      description: meta.description,
      txBuilderVersion: "1.18.0",
      createdFromSafeAddress: getAddress(safe),
      createdFromOwnerAddress: "",
    },
    transactions: calls.map((call) => ({ to: getAddress(call.to), value: call.value.toString(), data: call.data, contractMethod: null, contractInputsValues: null })),
  };
  return { ...batch, meta: { ...batch.meta, checksum: transactionBuilderChecksum(batch) } };
}

/** The Transaction Builder's checksum of a batch (without its `meta.checksum`). */
export function transactionBuilderChecksum(batch: TransactionBuilderBatch): string {
  const { checksum: _ignored, ...meta } = batch.meta;
  return keccak256(stringToHex(serialize({ ...batch, meta: { ...meta, name: null } })));
}

// The builder's serialisation: keys sorted, each object as its key list then its values.
function serialize(json: unknown): string {
  if (Array.isArray(json)) return `[${json.map((element) => serialize(element)).join(",")}]`;
  if (typeof json === "object" && json !== null) {
    const keys = Object.keys(json).sort();
    let out = `{${JSON.stringify(keys, replacer)}`;
    for (const key of keys) out += `${serialize((json as Record<string, unknown>)[key])},`;
    return `${out}}`;
  }
  return `${JSON.stringify(json, replacer)}`;
}

const replacer = (_key: string, value: unknown) => (value === undefined ? null : value);
