import { getAddress, zeroAddress, type Address } from "viem";

import { formatDuration } from "../util/duration.js";
import { TIMELOCK_ROLES } from "./describe-call.js";

/**
 * A call that changes who controls a contract: who gains control, who loses it, in one
 * line a signer reads before anything else. Derived from the calldata alone (like the
 * rest of the decoding), so the same bytes always give the same text.
 */
export interface AuthorityChange {
  /** What changes, naming the accounts: "0xB… becomes pending owner of 0xA…, …". */
  change: string;
  /** Accounts that gain control (checked for contract code at sign time). */
  gains: Address[];
  /** Accounts that lose control. */
  loses: Address[];
}

const ROLE_POWER: Record<string, string> = {
  DEFAULT_ADMIN_ROLE: "it can grant and revoke every role at once, without any delay",
  PROPOSER_ROLE: "it can schedule any operation",
  EXECUTOR_ROLE: "it can execute ready operations",
  CANCELLER_ROLE: "it can cancel pending operations",
};

const addr = (value: unknown): Address => getAddress(String(value));

/** The authority change a known function makes, or `undefined` for functions that change none. */
export function authorityChange(to: Address, functionName: string, args: readonly unknown[]): AuthorityChange | undefined {
  const on = getAddress(to);
  const a = args;
  switch (functionName) {
    case "transferOwnership":
      if (addr(a[0]) === zeroAddress) return { change: `any pending ownership transfer of ${on} is cancelled (the owner keeps control)`, gains: [], loses: [] };
      return {
        change: `${addr(a[0])} becomes pending owner of ${on}: once it accepts, it controls ${on} and the current owner loses control`,
        gains: [addr(a[0])],
        loses: [],
      };
    case "acceptOwnership":
      return { change: `the sender becomes owner of ${on}; the previous owner loses control`, gains: [], loses: [] };
    case "renounceOwnership":
      return { change: `no one controls ${on} any more (irreversible)`, gains: [], loses: [] };
    case "upgradeToAndCall":
      return { change: `the code of ${on} is replaced by the code at ${addr(a[0])}: that code decides everything ${on} does from now on`, gains: [addr(a[0])], loses: [] };
    case "disableUpgrades":
      return { change: `the code of ${on} can never be changed again, not even to fix a bug (irreversible)`, gains: [], loses: [] };
    case "setAppImplementation":
      return { change: `apps deployed through KMS ${on} from now on run the code at ${addr(a[0])}`, gains: [addr(a[0])], loses: [] };
    case "addOwnerWithThreshold":
      return { change: `${addr(a[0])} becomes an owner of Safe ${on}; ${a[1]} signatures are needed from then on`, gains: [addr(a[0])], loses: [] };
    case "removeOwner":
      return { change: `${addr(a[1])} stops being an owner of Safe ${on}; ${a[2]} signatures are needed from then on`, gains: [], loses: [addr(a[1])] };
    case "swapOwner":
      return { change: `${addr(a[2])} replaces ${addr(a[1])} as an owner of Safe ${on}`, gains: [addr(a[2])], loses: [addr(a[1])] };
    case "changeThreshold":
      return { change: `${a[0]} signatures are needed for Safe ${on} from then on`, gains: [], loses: [] };
    case "enableModule":
      return { change: `${addr(a[0])} can execute ANY transaction from Safe ${on} without any owner's signature`, gains: [addr(a[0])], loses: [] };
    case "disableModule":
      return { change: `${addr(a[1])} can no longer execute transactions from Safe ${on}`, gains: [], loses: [addr(a[1])] };
    case "setGuard":
      return addr(a[0]) === zeroAddress
        ? { change: `the transaction guard of Safe ${on} is removed`, gains: [], loses: [] }
        : { change: `${addr(a[0])} checks, and can block, every future transaction of Safe ${on} (including one that would remove it)`, gains: [addr(a[0])], loses: [] };
    case "setFallbackHandler":
      return { change: `${addr(a[0])} answers every call Safe ${on} does not implement, including EIP-1271 signature checks made in the Safe's name`, gains: addr(a[0]) === zeroAddress ? [] : [addr(a[0])], loses: [] };
    case "grantRole": {
      const role = TIMELOCK_ROLES[String(a[0]).toLowerCase()] ?? String(a[0]);
      const who = addr(a[1]) === zeroAddress && role === "EXECUTOR_ROLE" ? "ANYONE (the zero address opens the role)" : addr(a[1]);
      return { change: `${who} gains ${role} on ${on}${ROLE_POWER[role] === undefined ? "" : `: ${ROLE_POWER[role]}`}`, gains: addr(a[1]) === zeroAddress ? [] : [addr(a[1])], loses: [] };
    }
    case "revokeRole":
    case "renounceRole": {
      const role = TIMELOCK_ROLES[String(a[0]).toLowerCase()] ?? String(a[0]);
      return { change: `${addr(a[1])} loses ${role} on ${on}`, gains: [], loses: [addr(a[1])] };
    }
    case "updateDelay":
      return { change: `the time everyone has to react to a change scheduled on timelock ${on} becomes ${formatDuration(a[0] as bigint)}`, gains: [], loses: [] };
    default:
      return undefined;
  }
}
