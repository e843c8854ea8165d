import { decodeFunctionData, getAbiItem, getAddress, isHex, size, type Abi, type AbiFunction, type Address, type Hex } from "viem";

import { dstackAppAbi } from "../abi/dstack-app.js";
import { dstackKmsAbi } from "../abi/dstack-kms.js";
import { safeAbi } from "./abi/safe.js";
import { timelockControllerAbi } from "./abi/timelock-controller.js";
import { authorityChange, type AuthorityChange } from "./authority.js";
import { describeKnownCall, quoteText } from "./describe-call.js";
import { ProposalMismatchError } from "./errors.js";
import { decodeMultiSendCall, isMultiSendCall, type BatchCall } from "./multisend.js";

/**
 * One decoded step of what a Safe transaction or timelock operation does, as a signer
 * reads it. Steps nest: a MultiSend batch or a timelock `schedule` has its calls as
 * children (`step` "1.2" is the second call inside step 1). Everything here is derived
 * from the calldata alone, so re-decoding the same bytes gives the same steps: that is
 * how `safe-sign` proves the file's readable actions are what the signature covers.
 */
export interface DecodedAction {
  /** Position: "1", "1.2", "1.2.1". */
  step: string;
  /** "call" or "delegatecall". */
  operation: "call" | "delegatecall";
  to: Address;
  /** Wei, decimal. */
  value: string;
  /** The function and its arguments, e.g. `addComposeHash(composeHash=0x…)`; raw selector when unknown. */
  call: string;
  /** One human-readable line. */
  description: string;
  /** Something a signer must look at twice: an unknown function or delegatecall, ETH sent, an irreversible change. */
  warning?: string;
  /** Who gains or loses control through this call (ownership, code, Safe owners, modules, guard, timelock roles and delay). */
  authority?: AuthorityChange;
}

/**
 * How deeply calls may nest (a MultiSend entry scheduling on a timelock an upgrade that
 * calls the new code is 4 levels: "1.1.1.1"); deeper calldata is refused, not shown cut.
 */
export const MAX_DECODE_DEPTH = 6;

// Every ABI the toolkit can name a function of. Functions shared by several contracts
// (owner(), transferOwnership, supportsInterface) have the same signature, so the first
// match decodes them all the same.
const KNOWN_ABI = [...dstackAppAbi, ...dstackKmsAbi, ...timelockControllerAbi, ...safeAbi].filter(
  (item) => item.type === "function",
) as unknown as Abi;

const WRAPPERS = new Set(["schedule", "scheduleBatch", "execute", "executeBatch"]);

/** Decodes a Safe transaction's (to, value, data, operation) into readable steps. */
export function decodeSafeTransaction(tx: { to: Address; value: bigint; data: Hex; operation: 0 | 1 }): DecodedAction[] {
  if (tx.operation === 1) {
    const to = getAddress(tx.to);
    if (!isMultiSendCall(tx.data)) {
      return [
        {
          step: "1",
          operation: "delegatecall",
          to,
          value: tx.value.toString(),
          call: rawCall(tx.data),
          description: `DELEGATECALL to ${to}: runs foreign code with the Safe's full authority`,
          warning: "a delegatecall to anything but MultiSendCallOnly can take over the Safe; this toolkit never proposes one",
        },
      ];
    }
    const calls = decodeMultiSendCall(tx.data);
    const children = calls.flatMap((call, i) => decodeCall(call, `1.${i + 1}`));
    return [
      {
        step: "1",
        operation: "delegatecall",
        to,
        value: tx.value.toString(),
        call: `multiSend(${calls.length} calls)`,
        description: `batch of ${calls.length} calls through MultiSendCallOnly ${to}, executed in order, all or nothing`,
        ...(tx.value === 0n ? {} : { warning: "ETH sent along with a delegatecall batch" }),
      },
      ...children,
    ];
  }
  return decodeCall({ to: tx.to, value: tx.value, data: tx.data }, "1");
}

/**
 * Decodes one plain call and, recursively, the calls it carries: a timelock
 * schedule/execute's calls, an `upgradeToAndCall`'s call into the new code, a MultiSend
 * batch sent with a plain call. At most `MAX_DECODE_DEPTH` levels.
 */
export function decodeCall(call: BatchCall, step: string): DecodedAction[] {
  if (step.split(".").length > MAX_DECODE_DEPTH) {
    throw new ProposalMismatchError(`step ${step}: calls nested more than ${MAX_DECODE_DEPTH} levels deep; the toolkit does not show (or sign) what it cannot show in full`);
  }
  const to = getAddress(call.to);
  const value = call.value.toString();
  const valueWarning = call.value === 0n ? undefined : `sends ${value} wei`;
  if (isMultiSendCall(call.data)) return decodeNestedMultiSend(call, step);
  if (call.data === "0x" || size(call.data) < 4) {
    return [{ step, operation: "call", to, value, call: "(no calldata)", description: `send ${value} wei to ${to}`, ...(valueWarning === undefined ? {} : { warning: valueWarning }) }];
  }
  let decoded: { functionName: string; args: readonly unknown[] };
  try {
    const result = decodeFunctionData({ abi: KNOWN_ABI, data: call.data });
    decoded = { functionName: result.functionName, args: (result.args ?? []) as readonly unknown[] };
  } catch {
    return [
      {
        step,
        operation: "call",
        to,
        value,
        call: rawCall(call.data),
        description: `call an UNKNOWN function ${call.data.slice(0, 10)} on ${to} (${size(call.data)} bytes of calldata)`,
        warning: "the toolkit cannot decode this call: check the calldata by other means before signing",
      },
    ];
  }
  const item = getAbiItem({ abi: KNOWN_ABI, name: decoded.functionName, args: decoded.args as unknown[] } as never) as AbiFunction | undefined;
  const text = formatCall(decoded.functionName, item, decoded.args);
  const description = describeKnownCall(to, decoded.functionName, decoded.args) ?? `call ${text} on ${to}`;
  const irreversible = /FOR EVER|RENOUNCE|ENABLE MODULE/.test(description) ? "irreversible or authority-changing: read twice" : undefined;
  const warning = [valueWarning, irreversible].filter((part): part is string => part !== undefined).join("; ");
  const authority = authorityChange(to, decoded.functionName, decoded.args);
  const action: DecodedAction = { step, operation: "call", to, value, call: text, description, ...(warning === "" ? {} : { warning }), ...(authority === undefined ? {} : { authority }) };
  if (decoded.functionName === "upgradeToAndCall" && decoded.args[1] !== "0x") {
    // The proxy runs this call in the new code, as itself, during the upgrade.
    const [first, ...rest] = decodeCall({ to, value: 0n, data: decoded.args[1] as Hex }, `${step}.1`);
    return [action, { ...first!, description: `during the upgrade, ${to} runs in the new code: ${first!.description}` }, ...rest];
  }
  if (!WRAPPERS.has(decoded.functionName)) return [action];
  const inner = wrappedCalls(decoded.functionName, decoded.args);
  if (inner.length === 0) throw new ProposalMismatchError(`${decoded.functionName} on ${to} wraps no call`);
  return [action, ...inner.flatMap((child, i) => decodeCall(child, `${step}.${i + 1}`))];
}

// A plain call to a MultiSend contract: its calls are made by that contract (it is their
// msg.sender), not by the caller; shown so that nothing in the bytes goes unread.
function decodeNestedMultiSend(call: BatchCall, step: string): DecodedAction[] {
  const to = getAddress(call.to);
  const calls = decodeMultiSendCall(call.data);
  return [
    {
      step,
      operation: "call",
      to,
      value: call.value.toString(),
      call: `multiSend(${calls.length} calls)`,
      description: `batch of ${calls.length} calls sent by the contract ${to} (they run as ${to}, not as the caller)`,
      warning: `a MultiSend called with a plain call: its calls act with that contract's authority, not the caller's${call.value === 0n ? "" : `; sends ${call.value} wei`}`,
    },
    ...calls.flatMap((inner, i) => decodeCall(inner, `${step}.${i + 1}`)),
  ];
}

/**
 * `decoded` as a file written before `authority` existed holds it: without that field
 * when `stored` has none. Files are compared with this (so proposals in flight across an
 * upgrade still verify) and then shown from the decoding, never from the file.
 */
export function asStoredAction(decoded: DecodedAction | undefined, stored: unknown): DecodedAction | undefined {
  if (decoded === undefined || typeof stored !== "object" || stored === null || "authority" in stored) return decoded;
  const { authority: _omitted, ...rest } = decoded;
  return rest;
}

/** Flattens steps to indented lines, for the text report. */
export function formatActions(actions: readonly DecodedAction[]): string[] {
  return actions.flatMap((action) => {
    const indent = "  ".repeat(action.step.split(".").length);
    const lines = [`${indent}${action.step}. ${action.description}`, `${indent}   ${action.operation} ${action.to}: ${action.call}`];
    if (action.authority !== undefined) lines.push(`${indent}   ⚠ CONTROL CHANGES: ${action.authority.change}`);
    if (action.warning !== undefined) lines.push(`${indent}   ⚠ ${action.warning}`);
    return lines;
  });
}

function wrappedCalls(functionName: string, args: readonly unknown[]): BatchCall[] {
  if (functionName === "schedule" || functionName === "execute") {
    return [{ to: args[0] as Address, value: args[1] as bigint, data: args[2] as Hex }];
  }
  const targets = args[0] as readonly Address[];
  const values = args[1] as readonly bigint[];
  const payloads = args[2] as readonly Hex[];
  if (targets.length !== values.length || targets.length !== payloads.length) {
    throw new ProposalMismatchError(`${functionName}: ${targets.length} targets, ${values.length} values and ${payloads.length} payloads do not line up`);
  }
  return targets.map((target, i) => ({ to: target, value: values[i]!, data: payloads[i]! }));
}

function formatCall(functionName: string, item: AbiFunction | undefined, args: readonly unknown[]): string {
  const names = item?.inputs.map((input, i) => input.name || `arg${i}`) ?? [];
  const rendered = args.map((arg, i) => `${names[i] ?? `arg${i}`}=${formatValue(arg)}`);
  return `${functionName}(${rendered.join(", ")})`;
}

function formatValue(value: unknown): string {
  if (typeof value === "bigint") return value.toString();
  // Hex (addresses, bytes) reads as is; any other string is quoted, so it cannot pose as hex.
  if (typeof value === "string") return isHex(value) ? value : quoteText(value);
  if (Array.isArray(value)) return `[${value.map(formatValue).join(", ")}]`;
  if (typeof value === "object" && value !== null) {
    return `{${Object.entries(value)
      .map(([key, inner]) => `${key}: ${formatValue(inner)}`)
      .join(", ")}}`;
  }
  return String(value);
}

function rawCall(data: Hex): string {
  return size(data) < 4 ? "(no calldata)" : `${data.slice(0, 10)}… (${size(data)} bytes)`;
}
