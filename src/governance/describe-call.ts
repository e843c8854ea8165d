import { getAddress, type Address } from "viem";

import { formatDuration } from "../util/duration.js";

/** Well-known role ids of OpenZeppelin's TimelockController (keccak256 of the name; admin is zero). */
export const TIMELOCK_ROLES: Record<string, string> = {
  "0x0000000000000000000000000000000000000000000000000000000000000000": "DEFAULT_ADMIN_ROLE",
  "0xb09aa5aeb3702cfd50b6b62bc4532604938f21248a27a1d5ca736082b6819cc1": "PROPOSER_ROLE",
  "0xd8aa0f3194971a2a116679f7c2090f6939c8d4e01a2a8d7e41d55e5351469e63": "EXECUTOR_ROLE",
  "0xfd643c72710c63c0180259aba6b2d05451e3591a24e58b62239378085726f783": "CANCELLER_ROLE",
};

/** The longest text argument shown in full; longer ones are cut (a padded string could draw lines of its own). */
export const MAX_SHOWN_TEXT = 96;

/** A text argument from calldata, quoted (so it cannot pose as hex or as a line of the report) and cut when long. */
export function quoteText(value: string): string {
  return value.length <= MAX_SHOWN_TEXT ? JSON.stringify(value) : `${JSON.stringify(value.slice(0, MAX_SHOWN_TEXT - 32))}… (${value.length} characters)`;
}

const list = (values: unknown): string => (values as readonly unknown[]).map(String).join(", ");
const count = (values: unknown): number => (values as readonly unknown[]).length;
const role = (id: unknown): string => TIMELOCK_ROLES[String(id).toLowerCase()] ?? String(id);
// "(salt 0x…)" or "(salt 0x…, after operation 0x…)" when a predecessor must be executed first.
const saltAndPredecessor = (salt: unknown, predecessor: unknown): string =>
  `(salt ${salt}${/^0x0{64}$/.test(String(predecessor)) ? "" : `, after operation ${predecessor}`})`;

/**
 * One line a signer can read, for the functions this toolkit's tasks call (DstackApp,
 * DstackKms, TimelockController, a Safe's own settings). `undefined` for other functions:
 * the caller then shows the raw decoded call. Only the calldata is used (never chain
 * state), so the same bytes always give the same text.
 */
export function describeKnownCall(to: Address, functionName: string, args: readonly unknown[]): string | undefined {
  const on = getAddress(to);
  const a = args;
  switch (functionName) {
    // DstackApp
    case "addComposeHash":
      return `allow compose hash ${a[0]} on app ${on}`;
    case "addComposeHashes":
      return `allow ${count(a[0])} compose hashes on app ${on}: ${list(a[0])}`;
    case "removeComposeHash":
      return `remove compose hash ${a[0]} from app ${on}`;
    case "removeComposeHashes":
      return `remove ${count(a[0])} compose hashes from app ${on}: ${list(a[0])}`;
    case "addDevice":
      return `allow device ${a[0]} on app ${on}`;
    case "removeDevice":
      return `remove device ${a[0]} from app ${on}`;
    case "setAllowAnyDevice":
      return `set allowAnyDevice to ${a[0]} on app ${on}${a[0] === true ? " (ANY device may boot the app)" : ""}`;
    case "setRequireTcbUpToDate":
      return `set requireTcbUpToDate to ${a[0]} on app ${on}`;
    case "disableUpgrades":
      return `disable upgrades of app ${on} FOR EVER (irreversible)`;
    // DstackApp and DstackKms
    case "upgradeToAndCall":
      return `upgrade ${on} to implementation ${a[0]}${a[1] === "0x" ? "" : ` and call it with ${a[1]}`}`;
    case "transferOwnership":
      return `start transferring ownership of ${on} to ${a[0]} (it must accept)`;
    case "acceptOwnership":
      return `accept the pending ownership of ${on}`;
    case "renounceOwnership":
      return `RENOUNCE ownership of ${on}: no one can manage it afterwards (irreversible)`;
    // DstackKms
    case "addOsImageHash":
      return `allow OS image ${a[0]} on KMS ${on}`;
    case "removeOsImageHash":
      return `remove OS image ${a[0]} from KMS ${on}`;
    case "addKmsAggregatedMr":
      return `allow KMS aggregated MR ${a[0]} on KMS ${on}`;
    case "removeKmsAggregatedMr":
      return `remove KMS aggregated MR ${a[0]} from KMS ${on}`;
    case "addKmsDevice":
      return `allow KMS device ${a[0]} on KMS ${on}`;
    case "removeKmsDevice":
      return `remove KMS device ${a[0]} from KMS ${on}`;
    case "registerApp":
      return `register app ${a[0]} with KMS ${on}`;
    case "setAppImplementation":
      return `set the app implementation of KMS ${on} to ${a[0]}`;
    case "setGatewayAppId":
      return `set the gateway app id of KMS ${on} to ${quoteText(String(a[0]))}`;
    case "setKmsInfo":
      return `replace the KMS info (keys, quote, event log) of KMS ${on}`;
    case "setKmsQuote":
      return `replace the KMS quote of KMS ${on}`;
    case "setKmsEventlog":
      return `replace the KMS event log of KMS ${on}`;
    // TimelockController
    case "schedule":
      return `schedule 1 call on timelock ${on} with delay ${formatDuration(a[5] as bigint)} ${saltAndPredecessor(a[4], a[3])}`;
    case "scheduleBatch":
      return `schedule ${count(a[0])} calls on timelock ${on} with delay ${formatDuration(a[5] as bigint)} ${saltAndPredecessor(a[4], a[3])}`;
    case "execute":
      return `execute 1 scheduled call on timelock ${on} ${saltAndPredecessor(a[4], a[3])}`;
    case "executeBatch":
      return `execute ${count(a[0])} scheduled calls on timelock ${on} ${saltAndPredecessor(a[4], a[3])}`;
    case "cancel":
      return `cancel timelock operation ${a[0]} on ${on}`;
    case "updateDelay":
      return `change the minimum delay of timelock ${on} to ${formatDuration(a[0] as bigint)}`;
    case "grantRole":
      return `grant ${role(a[0])} on ${on} to ${a[1]}`;
    case "revokeRole":
      return `revoke ${role(a[0])} on ${on} from ${a[1]}`;
    case "renounceRole":
      return `renounce ${role(a[0])} on ${on} for ${a[1]}`;
    // Safe (calls the Safe makes to itself)
    case "addOwnerWithThreshold":
      return `add owner ${a[0]} to Safe ${on} and set the threshold to ${a[1]}`;
    case "removeOwner":
      return `remove owner ${a[1]} from Safe ${on} and set the threshold to ${a[2]}`;
    case "swapOwner":
      return `replace owner ${a[1]} of Safe ${on} by ${a[2]}`;
    case "changeThreshold":
      return `set the threshold of Safe ${on} to ${a[0]}`;
    case "enableModule":
      return `ENABLE MODULE ${a[0]} on Safe ${on}: it could then execute anything without signatures`;
    case "disableModule":
      return `disable module ${a[1]} on Safe ${on}`;
    case "setGuard":
      return `set the transaction guard of Safe ${on} to ${a[0]}`;
    case "setFallbackHandler":
      return `set the fallback handler of Safe ${on} to ${a[0]}`;
    default:
      return undefined;
  }
}
