import { checksumAddress, getAddress, type Address } from "viem";

import { InvalidInputError } from "./errors.js";

const HEX_ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/**
 * Why `text` is not an address a user or a file may give, or `undefined` when it is one.
 * EIP-55: an address written in mixed case carries a checksum in its letters' case, and
 * that checksum must be right; a single wrong case letter is how a typo (or a lookalike
 * pasted by someone else) shows. All-lowercase (and all-uppercase) addresses carry no
 * checksum and are taken as they are.
 */
export function addressProblem(text: string): string | undefined {
  if (!HEX_ADDRESS.test(text)) return "expected a 0x-prefixed 20-byte address";
  const body = text.slice(2);
  if (body === body.toLowerCase() || body === body.toUpperCase()) return undefined;
  const checksummed = checksumAddress(text.toLowerCase() as Address);
  if (checksummed === text) return undefined;
  return `the mixed-case address ${text} has a wrong EIP-55 checksum (a mistyped letter, or not the address you meant): check it against its source`;
}

/**
 * The one parser of addresses typed by users or carried by files: trimmed, EIP-55
 * checksum enforced for mixed case, returned checksummed. `what` names the flag or field.
 */
export function parseAddressText(value: string, what: string): Address {
  const text = value.trim();
  const problem = addressProblem(text);
  if (problem !== undefined) {
    const shown = problem.startsWith("expected") ? `${problem}, got ${JSON.stringify(text.slice(0, 60))}` : problem;
    throw new InvalidInputError(`${what}: ${shown}`);
  }
  return getAddress(text.toLowerCase());
}
