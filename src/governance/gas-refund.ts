import { formatEther, getAddress, zeroAddress, type Address } from "viem";

import { DstackGovernanceError } from "../util/errors.js";
import type { SafeProposal } from "./proposal.js";

/**
 * A Safe transaction's refund terms. When `gasPrice` is not zero, `execTransaction` pays
 * `(gas used + baseGas) × price` from the Safe to `refundReceiver` (to the executing
 * account when that is zero): in ETH at `min(gasPrice, the transaction's gas price)`, in
 * an ERC-20 `gasToken` at `gasPrice` with no cap at all. `safeTxGas` only bounds the inner
 * call. The toolkit proposes all five fields zero; anything else is someone else's choice
 * that the signer must see first.
 */
export interface GasRefund {
  safeTxGas: bigint;
  baseGas: bigint;
  gasPrice: bigint;
  gasToken: Address;
  refundReceiver: Address;
  /** Who is paid: the refund receiver, or the account that executes (`tx.origin`). */
  payee: string;
  /** baseGas × gasPrice (in gasToken units, or wei): what baseGas alone is worth at the full gasPrice. */
  baseGasPayment: bigint;
  /** With gas used up to `gasBound`: (gasBound + baseGas) × gasPrice. */
  worstCasePayment: bigint;
  /** The gas used assumed for the worst case: the block gas limit (gas used is not bounded by the signature). */
  gasBound: bigint;
  /** One line with both amounts and the unit. */
  summary: string;
}

/** A proposal's gas/refund fields are not all zero; refused unless the signer allowed it. */
export class GasRefundError extends DstackGovernanceError {
  override name = "GasRefundError";
  constructor(message: string, details?: string) {
    super("GAS_REFUND", message, details === undefined ? {} : { details });
  }
}

/** The refund terms of a proposal, or `undefined` when all five fields are zero (the toolkit's own proposals). */
export function gasRefundOf(proposal: Pick<SafeProposal, "safeTxGas" | "baseGas" | "gasPrice" | "gasToken" | "refundReceiver">, gasBound: bigint): GasRefund | undefined {
  const safeTxGas = BigInt(proposal.safeTxGas);
  const baseGas = BigInt(proposal.baseGas);
  const gasPrice = BigInt(proposal.gasPrice);
  const gasToken = getAddress(proposal.gasToken);
  const refundReceiver = getAddress(proposal.refundReceiver);
  if (safeTxGas === 0n && baseGas === 0n && gasPrice === 0n && gasToken === zeroAddress && refundReceiver === zeroAddress) return undefined;
  const payee = refundReceiver === zeroAddress ? "the account that executes it (tx.origin, anyone)" : refundReceiver;
  const baseGasPayment = baseGas * gasPrice;
  const worstCasePayment = (gasBound + baseGas) * gasPrice;
  const amount = (value: bigint): string => (gasToken === zeroAddress ? `${formatEther(value)} ETH` : `${value} units of token ${gasToken}`);
  const summary =
    gasPrice === 0n
      ? `gasPrice is 0: no refund is paid, but safeTxGas ${safeTxGas} lets the inner call fail without reverting the Safe transaction (the nonce is used up)`
      : gasToken === zeroAddress
        ? `the Safe pays ${payee} (gas used + baseGas) × the lower of gasPrice and the executing transaction's gas price, which the executor chooses: up to ${amount(worstCasePayment)} (${gasBound} gas used, the block gas limit); baseGas alone at gasPrice is ${amount(baseGasPayment)}`
        : `the Safe pays ${payee} (gas used + baseGas) × gasPrice in token ${gasToken}, not capped by the transaction's gas price: at least ${amount(baseGasPayment)} (baseGas × gasPrice), up to ${amount(worstCasePayment)} (${gasBound} gas used, the block gas limit)`;
  return { safeTxGas, baseGas, gasPrice, gasToken, refundReceiver, payee, baseGasPayment, worstCasePayment, gasBound, summary };
}

/** The refund fields as the signer reads them, first, in a warning. */
export function gasRefundLines(refund: GasRefund): string[] {
  return [
    `⚠ GAS REFUND: this proposal pays from the Safe's funds; ${refund.summary}`,
    `⚠   safeTxGas ${refund.safeTxGas}, baseGas ${refund.baseGas}, gasPrice ${refund.gasPrice}, gasToken ${refund.gasToken === zeroAddress ? "ETH" : refund.gasToken}, refundReceiver ${refund.refundReceiver}`,
  ];
}

/**
 * Refuses a proposal whose gas/refund fields are not all zero, unless `allowed`
 * (allowGasRefund); the message names each field and the payment.
 */
export function assertNoGasRefund(refund: GasRefund | undefined, where: string, allowed: boolean): void {
  if (refund === undefined || allowed) return;
  throw new GasRefundError(
    `${where}: the proposal sets safeTxGas ${refund.safeTxGas}, baseGas ${refund.baseGas}, gasPrice ${refund.gasPrice}, gasToken ${refund.gasToken}, refundReceiver ${refund.refundReceiver}: ${refund.summary}; the toolkit proposes all of them zero. Refused`,
  );
}
