import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A loopback JSON-RPC server in front of the in-process Hardhat provider, so that the chain
 * client is exercised through viem's real `http` transport (status codes, JSON-RPC error
 * bodies, batch requests) and so that tests can play a hosted RPC: count requests per
 * method, refuse wide `eth_getLogs` ranges the way Alchemy/Infura/geth do, or go down.
 */

/** The part of an EIP-1193 provider the proxy needs (Hardhat's `connection.provider`). */
export interface RequestProvider {
  request(args: { method: string; params?: unknown[] | object }): Promise<unknown>;
}

/** A JSON-RPC error object as a node would send it. */
export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/** How the proxy fails requests it was told to fail. */
export type FailureMode =
  /** HTTP 503 with a plain-text body, as a load balancer in front of a dead node answers. */
  | "http-503"
  /** The TCP connection is destroyed without an answer (the process or network is gone). */
  | "drop"
  /** HTTP 200 with a JSON-RPC internal error, as a node with a broken backend answers. */
  | "rpc-internal"
  /** HTTP 200 with `result: null`, as a node answers for a receipt it does not have yet (a transaction still pending). */
  | "null-result";

export interface RpcProxyOptions {
  /** Largest `eth_getLogs` span (toBlock - fromBlock + 1) accepted; unlimited when absent. */
  maxLogBlockRange?: number;
  /** The error sent for a too-wide span; defaults to reth's/Alchemy-style `query exceeds max block range N`. */
  rangeError?: (limit: number, fromBlock: bigint, toBlock: bigint) => JsonRpcErrorObject;
  /** Largest number of logs one `eth_getLogs` may return (geth/Infura: 10000). */
  maxLogResults?: number;
  /** Remove `blockTimestamp` from returned logs, as nodes before geth 1.16 do. */
  stripLogTimestamps?: boolean;
}

export interface RpcProxy {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  /** Requests received per JSON-RPC method (each element of a batch counts once). */
  readonly counts: Map<string, number>;
  /** Requests received for `method`, or for all methods when omitted. */
  count(method?: string): number;
  resetCounts(): void;
  setMaxLogBlockRange(limit: number | undefined): void;
  setRangeError(make: RpcProxyOptions["rangeError"]): void;
  setMaxLogResults(limit: number | undefined): void;
  setStripLogTimestamps(strip: boolean): void;
  /** Fail every request from now on; `false` recovers (and clears `failMethodAfter` rules). */
  failAll(mode: FailureMode | false): void;
  /**
   * Let `successes` more requests for `method` through, then fail `failures` of them (all
   * the rest by default) with `mode`; later ones pass again.
   */
  failMethodAfter(method: string, successes: number, mode: FailureMode, failures?: number): void;
  close(): Promise<void>;
}

interface JsonRpcRequest {
  jsonrpc?: string;
  id?: unknown;
  method?: unknown;
  params?: unknown;
}

/** Starts the proxy on 127.0.0.1 and a random free port. */
export async function startRpcProxy(provider: RequestProvider, options: RpcProxyOptions = {}): Promise<RpcProxy> {
  const counts = new Map<string, number>();
  let maxLogBlockRange = options.maxLogBlockRange;
  let maxLogResults = options.maxLogResults;
  let stripLogTimestamps = options.stripLogTimestamps ?? false;
  let rangeError =
    options.rangeError ??
    ((limit: number): JsonRpcErrorObject => ({ code: -32600, message: `query exceeds max block range ${limit}` }));
  let failAllMode: FailureMode | false = false;
  const methodFailures = new Map<string, { remaining: number; failures: number; mode: FailureMode }>();

  /** Decides whether this request fails, counting it down against a per-method budget. */
  function failureFor(method: string): FailureMode | undefined {
    if (failAllMode) return failAllMode;
    const rule = methodFailures.get(method);
    if (rule === undefined) return undefined;
    if (rule.remaining > 0) {
      rule.remaining -= 1;
      return undefined;
    }
    if (rule.failures <= 0) return undefined;
    rule.failures -= 1;
    return rule.mode;
  }

  async function handleOne(request: JsonRpcRequest): Promise<{ body: object } | { fail: Exclude<FailureMode, "null-result"> }> {
    const id = request.id ?? null;
    const method = typeof request.method === "string" ? request.method : "";
    counts.set(method, (counts.get(method) ?? 0) + 1);
    const failure = failureFor(method);
    if (failure === "null-result") return { body: { jsonrpc: "2.0", id, result: null } };
    if (failure !== undefined) return { fail: failure };
    const params = Array.isArray(request.params) ? request.params : [];
    if (method === "eth_getLogs" && maxLogBlockRange !== undefined) {
      const filter = (params[0] ?? {}) as { fromBlock?: unknown; toBlock?: unknown };
      const from = typeof filter.fromBlock === "string" && filter.fromBlock.startsWith("0x") ? BigInt(filter.fromBlock) : undefined;
      const to = typeof filter.toBlock === "string" && filter.toBlock.startsWith("0x") ? BigInt(filter.toBlock) : undefined;
      if (from !== undefined && to !== undefined && to - from + 1n > BigInt(maxLogBlockRange)) {
        return { body: { jsonrpc: "2.0", id, error: rangeError(maxLogBlockRange, from, to) } };
      }
    }
    try {
      const result = await provider.request({ method, params });
      if (method === "eth_getLogs" && maxLogResults !== undefined && Array.isArray(result) && result.length > maxLogResults) {
        return {
          body: { jsonrpc: "2.0", id, error: { code: -32005, message: `query returned more than ${maxLogResults} results` } },
        };
      }
      if (method === "eth_getLogs" && stripLogTimestamps && Array.isArray(result)) {
        const stripped = result.map((log: Record<string, unknown>) => {
          const { blockTimestamp: _dropped, ...rest } = log;
          return rest;
        });
        return { body: { jsonrpc: "2.0", id, result: stripped } };
      }
      return { body: { jsonrpc: "2.0", id, result: result ?? null } };
    } catch (error) {
      const e = error as { code?: unknown; message?: unknown; data?: unknown };
      const code = typeof e.code === "number" ? e.code : -32603;
      const message = typeof e.message === "string" ? e.message : String(error);
      const rpcError: JsonRpcErrorObject = e.data === undefined ? { code, message } : { code, message, data: e.data };
      return { body: { jsonrpc: "2.0", id, error: rpcError } };
    }
  }

  function sendFailure(res: ServerResponse, mode: Exclude<FailureMode, "null-result">, id: unknown): void {
    if (mode === "drop") {
      res.socket?.destroy();
      return;
    }
    if (mode === "http-503") {
      res.writeHead(503, { "content-type": "text/plain" });
      res.end("Service Unavailable");
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ jsonrpc: "2.0", id: id ?? null, error: { code: -32603, message: "internal error: backend unavailable" } }));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let payload: unknown;
    try {
      payload = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } }));
      return;
    }
    const batch = Array.isArray(payload);
    const requests = (batch ? payload : [payload]) as JsonRpcRequest[];
    const answers = await Promise.all(requests.map((request) => handleOne(request)));
    // One failing element fails the whole HTTP exchange, as it would when the node is down.
    const failed = answers.find((answer): answer is { fail: Exclude<FailureMode, "null-result"> } => "fail" in answer);
    if (failed !== undefined) {
      sendFailure(res, failed.fail, requests[0]?.id);
      return;
    }
    const bodies = answers.map((answer) => (answer as { body: object }).body);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(batch ? bodies : bodies[0], (_key, value: unknown) => (typeof value === "bigint" ? `0x${value.toString(16)}` : value)));
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/`,
    counts,
    count(method?: string): number {
      if (method !== undefined) return counts.get(method) ?? 0;
      let total = 0;
      for (const n of counts.values()) total += n;
      return total;
    },
    resetCounts(): void {
      counts.clear();
    },
    setMaxLogBlockRange(limit: number | undefined): void {
      maxLogBlockRange = limit;
    },
    setRangeError(make: RpcProxyOptions["rangeError"]): void {
      if (make !== undefined) rangeError = make;
    },
    setMaxLogResults(limit: number | undefined): void {
      maxLogResults = limit;
    },
    setStripLogTimestamps(strip: boolean): void {
      stripLogTimestamps = strip;
    },
    failAll(mode: FailureMode | false): void {
      failAllMode = mode;
      if (mode === false) methodFailures.clear();
    },
    failMethodAfter(method: string, successes: number, mode: FailureMode, failures = Number.POSITIVE_INFINITY): void {
      methodFailures.set(method, { remaining: successes, failures, mode });
    },
    close(): Promise<void> {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
