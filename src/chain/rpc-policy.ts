import { describeError } from "../util/errors.js";
import { exponentialBackoff, retry } from "../util/retry.js";
import { RpcError, errorChain, httpStatus, rpcErrorCode } from "./errors.js";

/** An EIP-1193 `request` function (Hardhat's `connection.provider.request`, viem's custom transport). */
export type RequestFn = (args: { method: string; params?: unknown }) => Promise<unknown>;

export interface RpcPolicy {
  /** How long one request may take before it counts as lost. */
  timeoutMs: number;
  /** How many more times a lost or transport-failed read is tried (sends never are). */
  retries: number;
  /** The endpoint, already redacted: named in progress lines and errors. */
  url?: string;
  /** Progress lines (a retry after a timeout), for stderr. */
  onProgress?: (line: string) => void;
  /** Waits between attempts; tests pass a fast one. */
  backoffMs?: (attempt: number) => number;
}

/** Defaults: 30 s per request, 2 retries: a dead endpoint is reported within about 95 s. */
export const DEFAULT_RPC_POLICY = { timeoutMs: 30_000, retries: 2 } as const;

/**
 * Methods whose repetition could do something twice. A raw transaction repeated is
 * harmless but its outcome belongs to the send primitive (src/chain/send-transaction.ts),
 * which knows the nonce and journals the hash; it is not retried blindly here.
 */
const NOT_RETRIED = new Set(["eth_sendTransaction", "eth_sendRawTransaction", "eth_sign", "eth_signTransaction", "personal_sign", "eth_signTypedData_v4"]);

/**
 * Wraps a request function so that no call waits on silence: each attempt has a timeout,
 * reads that time out or fail in transport (connection reset, HTTP 5xx) are retried a
 * bounded number of times with a progress line, and the final failure is an `RpcError`
 * naming the method and the (redacted) endpoint. A node's own JSON-RPC error (a revert,
 * a refused filter) is its answer and is passed through untouched, as is a refused
 * connection (nothing is listening: retrying cannot help).
 */
export function withRpcPolicy(request: RequestFn, policy: RpcPolicy): RequestFn {
  const backoff = policy.backoffMs ?? exponentialBackoff(1_000, { maxMs: 8_000 });
  const timedOut = (error: unknown) => error instanceof AttemptTimeout || isTransportTimeout(error);
  const retriable = (error: unknown) => timedOut(error) || isTransientTransportFailure(error);
  const what = (error: unknown) => (timedOut(error) ? `no answer within ${seconds(policy.timeoutMs)}` : describeError(error));
  return async (args) => {
    const attempts = NOT_RETRIED.has(args.method) ? 1 : policy.retries + 1;
    try {
      return await retry(() => withTimeout(request(args), policy.timeoutMs), {
        retries: attempts - 1,
        delayMs: backoff,
        shouldRetry: retriable,
        onRetry: (error, attempt) =>
          policy.onProgress?.(`RPC ${args.method}${policy.url === undefined ? "" : ` at ${policy.url}`}: ${what(error)}; retrying (${attempt}/${attempts - 1})`),
      });
    } catch (error) {
      if (!retriable(error)) throw error;
      // A retriable failure that is thrown is the last attempt's.
      const tries = attempts > 1 ? ` (${attempts} attempts)` : "";
      throw new RpcError({ method: args.method, url: policy.url, reason: `${what(error)}${tries}` }, { cause: timedOut(error) ? undefined : error });
    }
  };
}

class AttemptTimeout extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AttemptTimeout()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const seconds = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`);

/** Hardhat's HTTP provider and undici report their own timeouts. */
function isTransportTimeout(error: unknown): boolean {
  return errorChain(error).some((item) => {
    const e = item as { name?: unknown; code?: unknown; message?: unknown };
    return (
      e.name === "TimeoutError" ||
      e.name === "RequestTimeoutError" ||
      e.code === "UND_ERR_HEADERS_TIMEOUT" ||
      e.code === "UND_ERR_BODY_TIMEOUT" ||
      e.code === "UND_ERR_CONNECT_TIMEOUT" ||
      (typeof e.message === "string" && /timed? ?out/i.test(e.message) && !/execution/i.test(e.message))
    );
  });
}

/** A connection that broke, or a gateway that answered 5xx: worth another try. A refused connection is not. */
function isTransientTransportFailure(error: unknown): boolean {
  const status = httpStatus(error) ?? errorChain(error).map((item) => (item as { statusCode?: unknown }).statusCode).find((code): code is number => typeof code === "number");
  if (status !== undefined) return status >= 500 || status === 408;
  if (rpcErrorCode(error) !== undefined && !errorChain(error).some((item) => (item as { name?: unknown }).name === "UnknownError")) return false;
  return errorChain(error).some((item) => {
    const code = (item as { code?: unknown }).code;
    return code === "ECONNRESET" || code === "EPIPE" || code === "UND_ERR_SOCKET" || code === "ETIMEDOUT";
  });
}
