import { DstackGovernanceError, describeError } from "../util/errors.js";
import type { Hex } from "../util/hex.js";
import { redactRpcUrl, redactUrlsInText } from "../util/redact-url.js";
import type { ChainClient } from "./clients.js";

/**
 * An RPC request failed for a reason other than the contract's answer: the endpoint is
 * down or refused, timed out, or returned an error we cannot work around. Readers never
 * turn this into `false` or an empty result, because "the node did not answer" and "the
 * chain says no" lead to opposite conclusions in a verification report.
 */
export class RpcError extends DstackGovernanceError {
  override name = "RpcError";
  /** The JSON-RPC method that failed. */
  readonly method: string;
  /** The endpoint, with credentials removed (undefined for in-process transports). */
  readonly url: string | undefined;
  /** The JSON-RPC error code, when the node sent one. */
  readonly rpcCode: number | undefined;
  /** The HTTP status, when the failure was an HTTP error. */
  readonly httpStatus: number | undefined;

  constructor(
    args: { method: string; url: string | undefined; rpcCode?: number; httpStatus?: number; reason: string },
    options: { details?: string; cause?: unknown } = {},
  ) {
    const where = args.url === undefined ? "" : ` at ${args.url}`;
    super("RPC_ERROR", `RPC ${args.method} failed${where}: ${args.reason}`, options);
    this.method = args.method;
    this.url = args.url;
    this.rpcCode = args.rpcCode;
    this.httpStatus = args.httpStatus;
  }
}

/** There is no contract code at the address (an EOA, a wrong chain, or not deployed yet). */
export class NoCodeError extends DstackGovernanceError {
  override name = "NoCodeError";
  readonly address: Hex;
  readonly chainId: number;
  constructor(address: Hex, chainId: number, blockNumber?: bigint) {
    const at = blockNumber === undefined ? "" : ` at block ${blockNumber}`;
    super("NO_CODE", `no contract at ${address} on chain ${chainId}${at}`, {
      details: "the address has no code: check the chain (RPC URL) and the address, or whether the deployment was mined",
    });
    this.address = address;
    this.chainId = chainId;
  }
}

/** The address has code but does not behave like a DstackKms. */
export class NotAKmsContractError extends DstackGovernanceError {
  override name = "NotAKmsContractError";
  constructor(address: Hex, reason: string) {
    super("NOT_A_KMS_CONTRACT", `${address} is not a DstackKms-compatible contract: ${reason}`);
  }
}

/** The contract at the address does not answer ERC-165 for IAppAuth and IAppAuthBasicManagement. */
export class NotAnAppContractError extends DstackGovernanceError {
  override name = "NotAnAppContractError";
  readonly address: Hex;
  readonly chainId: number;
  constructor(address: Hex, chainId: number, details: string) {
    super("NOT_AN_APP_CONTRACT", `${address} on chain ${chainId} is not a DstackApp-compatible contract`, { details });
    this.address = address;
    this.chainId = chainId;
  }
}

/** A contract call reverted (or returned nothing decodable); the contract's answer, not an RPC failure. */
export class CallRevertedError extends DstackGovernanceError {
  override name = "CallRevertedError";
  readonly address: Hex;
  readonly functionName: string;
  /** The revert data, when the node returned some. */
  readonly revertData: Hex | undefined;
  constructor(address: Hex, functionName: string, reason: string, revertData?: Hex, cause?: unknown) {
    super("CALL_REVERTED", `${functionName}() on ${address} failed: ${reason}`, {
      details: revertData === undefined ? undefined : `revert data: ${revertData}`,
      cause,
    });
    this.address = address;
    this.functionName = functionName;
    this.revertData = revertData;
  }
}

/** A log scan could not complete (a range refused even for one block, or an inconsistent answer). */
export class LogScanError extends DstackGovernanceError {
  override name = "LogScanError";
  constructor(message: string, options: { details?: string; cause?: unknown } = {}) {
    super("LOG_SCAN_FAILED", message, options);
  }
}

/** Each error of a `cause` chain, outermost first (bounded, in case of a cycle). */
export function errorChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  while (current !== undefined && current !== null && chain.length < 16 && !chain.includes(current)) {
    chain.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

/** The first numeric JSON-RPC `code` on the chain (viem keeps the node's code on its wrappers). */
export function rpcErrorCode(error: unknown): number | undefined {
  for (const item of errorChain(error)) {
    const code = (item as { code?: unknown }).code;
    if (typeof code === "number") return code;
  }
  return undefined;
}

/** The first HTTP status on the chain (viem's `HttpRequestError.status`). */
export function httpStatus(error: unknown): number | undefined {
  for (const item of errorChain(error)) {
    const status = (item as { status?: unknown }).status;
    if (typeof status === "number") return status;
  }
  return undefined;
}

/**
 * All the text an error carries: messages, viem's `details` (the node's own message) and
 * HTTP bodies, lower-cased. Providers put the interesting words in different places (a
 * JSON-RPC message, an HTTP 413 body), so classification looks at all of them.
 */
export function errorText(error: unknown): string {
  const parts: string[] = [];
  for (const item of errorChain(error)) {
    if (typeof item === "string") parts.push(item);
    const e = item as { message?: unknown; details?: unknown; shortMessage?: unknown; body?: unknown; data?: unknown };
    for (const value of [e.message, e.details, e.shortMessage]) if (typeof value === "string") parts.push(value);
    if (typeof e.body === "string") parts.push(e.body);
    if (typeof e.data === "string" && !e.data.startsWith("0x")) parts.push(e.data);
  }
  return parts.join("\n").toLowerCase();
}

/** The endpoint of a client's transport, redacted; undefined for EIP-1193/in-process transports. */
export function clientEndpoint(client: ChainClient): string | undefined {
  const url = (client.transport as { url?: unknown }).url;
  return typeof url === "string" && url.length > 0 ? redactRpcUrl(url) : undefined;
}

/**
 * Wraps a failed request into an `RpcError` whose message and details name the redacted
 * endpoint and the node's own words, never the raw URL (viem's messages include it).
 */
export function toRpcError(client: ChainClient, method: string, error: unknown): RpcError {
  if (error instanceof RpcError) return error;
  const code = rpcErrorCode(error);
  const status = httpStatus(error);
  const nodeMessage = firstDetails(error);
  // The node's own words beat viem's generic summaries ("JSON is not a valid request
  // object." for every -32600); HTTP failures say which status or socket error it was.
  const systemCode = errorChain(error)
    .map((item) => (item as { code?: unknown }).code)
    .find((value): value is string => typeof value === "string" && /^[A-Z][A-Z0-9_]+$/.test(value));
  let reason: string;
  if (status !== undefined) reason = `HTTP ${status}${nodeMessage === undefined ? "" : `: ${nodeMessage}`}`;
  else if (isHttpFailure(error)) reason = `HTTP request failed: ${nodeMessage ?? "no response"}${systemCode === undefined ? "" : ` (${systemCode})`}`;
  else reason = nodeMessage ?? describeError(error);
  reason = redactUrlsInText(reason.replace(/\.$/, ""));
  const facts = [
    status === undefined ? undefined : `HTTP status ${status}`,
    code === undefined || typeof code !== "number" ? undefined : `JSON-RPC code ${code}`,
  ].filter((fact): fact is string => fact !== undefined);
  const args: { method: string; url: string | undefined; rpcCode?: number; httpStatus?: number; reason: string } = {
    method,
    url: clientEndpoint(client),
    reason: reason.length > 0 ? reason : "request failed",
  };
  if (code !== undefined) args.rpcCode = code;
  if (status !== undefined) args.httpStatus = status;
  return new RpcError(args, { details: facts.length > 0 ? facts.join(", ") : undefined, cause: error });
}

/** Runs one request through `client`; a failure becomes the `RpcError` of `method` (see `toRpcError`). */
export async function withRpcError<T>(client: ChainClient, method: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw toRpcError(client, method, error);
  }
}

function isHttpFailure(error: unknown): boolean {
  return errorChain(error).some((item) => {
    const name = (item as { name?: unknown }).name;
    return name === "HttpRequestError" || name === "TimeoutError" || name === "WebSocketRequestError";
  });
}

/** viem's `details` is the node's own message (or the HTTP body); the first one is the most specific. */
function firstDetails(error: unknown): string | undefined {
  for (const item of errorChain(error)) {
    const details = (item as { details?: unknown }).details;
    if (typeof details === "string" && details.length > 0) return details.replace(/^"|"$/g, "");
  }
  return undefined;
}

/**
 * Whether a failed `eth_call` is the contract's answer (a revert, with or without data)
 * rather than a transport or node failure. JSON-RPC code 3 is the standard revert code;
 * some nodes use -32000/-32603 with "execution reverted" / "reverted" in the message.
 */
export function isRevertError(error: unknown): boolean {
  for (const item of errorChain(error)) {
    const e = item as { name?: unknown; code?: unknown; data?: unknown };
    if (e.name === "ExecutionRevertedError" || e.name === "ContractFunctionRevertedError" || e.name === "RawContractError") {
      return true;
    }
    if (e.code === 3) return true;
  }
  if (httpStatus(error) !== undefined) return false;
  const text = errorText(error);
  return /execution reverted|transaction reverted|vm exception while processing transaction: revert|revert(ed)? without a reason/.test(text);
}

/** The revert data (`0x…`) carried by a revert error, if any. */
export function revertData(error: unknown): Hex | undefined {
  for (const item of errorChain(error)) {
    const data = (item as { data?: unknown }).data;
    if (typeof data === "string" && /^0x[0-9a-fA-F]*$/.test(data)) return data as Hex;
    if (data && typeof data === "object") {
      const nested = (data as { data?: unknown }).data;
      if (typeof nested === "string" && /^0x[0-9a-fA-F]*$/.test(nested)) return nested as Hex;
    }
  }
  return undefined;
}

/**
 * A transaction this tool sent is not mined yet, or an earlier run's transaction cannot be
 * told apart from another one using its nonce. Nothing was sent twice; the message says
 * how to wait for it, inspect it or replace it.
 */
export class PendingTransactionError extends DstackGovernanceError {
  override name = "PendingTransactionError";
  constructor(message: string, options: { details?: string; cause?: unknown } = {}) {
    super("TX_PENDING", message, options);
  }
}
