import {
  MultiSendMissingError,
  OperationExistsError,
  OwnerSafeWithoutFallbackError,
  RouteNotAuthorizedError,
  SafeContractsMissingError,
  SignerNotSafeOwnerError,
  ThresholdNotMetError,
} from "../../src/governance/errors.js";
import { GasRefundError } from "../../src/governance/gas-refund.js";
import { OwnerWithoutCodeError } from "../../src/manage/errors.js";
import type { DstackGovernanceError } from "../../src/util/errors.js";

/**
 * The CLI's advice for an error: the flag or command that gets past it, appended to the
 * library's message (which names no flag or command). Keyed by error class and the
 * structured data the error carries; `undefined` when there is nothing to add.
 */
/** What the CLI puts before the library's message: the route flag a refusal is about. */
export function cliPrefix(error: DstackGovernanceError): string | undefined {
  if (error instanceof RouteNotAuthorizedError && error.context.route !== undefined && error.context.route !== "direct") return `--via ${error.context.route}: `;
  return undefined;
}

export function cliHint(error: DstackGovernanceError): string | undefined {
  for (const hint of HINTS) {
    const text = hint(error);
    if (text !== undefined) return text;
  }
  return undefined;
}

type Hint = (error: DstackGovernanceError) => string | undefined;

const HINTS: Hint[] = [
  (error) =>
    error instanceof MultiSendMissingError ? "; deploy the Safe contracts with `npx hardhat deploy-safe-contracts` and pass --safe-contracts FILE" : undefined,
  (error) => (error instanceof GasRefundError ? "; if you really mean to pay this refund, run again with --allow-gas-refund" : undefined),
  (error) =>
    error instanceof OwnerSafeWithoutFallbackError
      ? `; approve on chain instead: \`npx hardhat safe-approve-hash --proposal FILE --via safe --safe ${error.ownerSafe}\``
      : undefined,
  (error) => (error instanceof SignerNotSafeOwnerError ? " (--from)" : undefined),
  (error) =>
    error instanceof ThresholdNotMetError && error.source !== undefined
      ? `: each runs \`npx hardhat safe-sign ${error.source}\` (an owner that is a Safe: its owners add --owner-safe SAFE; a hardware or contract wallet: \`npx hardhat safe-approve-hash ${error.source}\`)`
      : undefined,
  (error) => {
    if (!(error instanceof RouteNotAuthorizedError)) return undefined;
    const { required, missingTimelockRole } = error.context;
    if (missingTimelockRole === "executor") return "; if the Safe is the executor, run with --via safe --safe SAFE";
    if (missingTimelockRole === "canceller") return "; proposers are cancellers: if the Safe is the proposer, run with --via safe --safe SAFE";
    if (required?.kind === "safe") return `: propose the change with --via safe --safe ${required.address}`;
    if (required?.kind === "timelock") {
      return `: schedule the change with --via timelock --timelock ${required.address} (or --via safe,timelock --safe SAFE --timelock ${required.address} when a Safe is its proposer)`;
    }
    if (required?.kind === "eoa") return ": send it directly from that account (--via direct, --from)";
    return undefined;
  },
  (error) => (error instanceof OwnerWithoutCodeError ? "; pass --to-eoa to transfer to an externally owned account" : undefined),
  (error) => (error instanceof OperationExistsError ? "; schedule the same calls again with another --salt" : undefined),
  (error) =>
    error instanceof SafeContractsMissingError
      ? error.remedy === "deploy"
        ? "; deploy them with `npx hardhat deploy-safe-contracts`"
        : "; deploy them with `npx hardhat deploy-safe-contracts --out safe-contracts.json` and pass --safe-contracts safe-contracts.json"
      : undefined,
];
