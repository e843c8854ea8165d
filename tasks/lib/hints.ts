import { OperationExistsError, SafeContractsMissingError } from "../../src/governance/errors.js";
import { OwnerWithoutCodeError } from "../../src/manage/errors.js";
import type { DstackGovernanceError } from "../../src/util/errors.js";

/**
 * The CLI's advice for an error: the flag or command that gets past it, appended to the
 * library's message (which names no flag or command). Keyed by error class and the
 * structured data the error carries; `undefined` when there is nothing to add.
 */
export function cliHint(error: DstackGovernanceError): string | undefined {
  for (const hint of HINTS) {
    const text = hint(error);
    if (text !== undefined) return text;
  }
  return undefined;
}

type Hint = (error: DstackGovernanceError) => string | undefined;

const HINTS: Hint[] = [
  (error) => (error instanceof OwnerWithoutCodeError ? "; pass --to-eoa to transfer to an externally owned account" : undefined),
  (error) => (error instanceof OperationExistsError ? "; schedule the same calls again with another --salt" : undefined),
  (error) =>
    error instanceof SafeContractsMissingError
      ? error.remedy === "deploy"
        ? "; deploy them with `npx hardhat deploy-safe-contracts`"
        : "; deploy them with `npx hardhat deploy-safe-contracts --out safe-contracts.json` and pass --safe-contracts safe-contracts.json"
      : undefined,
];
