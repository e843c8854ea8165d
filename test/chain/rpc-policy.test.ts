/**
 * Every RPC request has a timeout and bounded retries: an endpoint that accepts TCP and
 * never answers (a hung load balancer) ends in a bounded time with an `RpcError` naming
 * the method and the redacted URL, with a progress line per retry. A node's own answer
 * (a JSON-RPC error) is not retried, nor is a send.
 */
import { expect } from "chai";

import { RpcError } from "../../src/chain/errors.js";
import { withRpcPolicy, type RequestFn } from "../../src/chain/rpc-policy.js";
import { startSilentServer } from "../support/silent-server.js";

async function silentServer() {
  const server = await startSilentServer();
  return { ...server, url: `http://127.0.0.1:${server.port}/v3/0123456789abcdef0123456789abcdef` };
}

/** A request function over plain fetch (no timeout of its own, like a transport that trusts the server). */
const fetchRequest =
  (url: string): RequestFn =>
  async ({ method, params }) => {
    const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
    return ((await response.json()) as { result: unknown }).result;
  };

describe("chain: RPC timeout and bounded retries", function () {
  it("a hung endpoint: 3 attempts of 300 ms, 2 progress lines, then RpcError with the redacted URL, in bounded time", async function () {
    const server = await silentServer();
    try {
      const progress: string[] = [];
      const request = withRpcPolicy(fetchRequest(server.url), { timeoutMs: 300, retries: 2, url: "http://127.0.0.1/v3/***", onProgress: (line) => progress.push(line), backoffMs: () => 50 });
      const started = Date.now();
      const error = await request({ method: "eth_chainId" }).then(
        () => undefined,
        (e: unknown) => e,
      );
      const elapsed = Date.now() - started;
      expect(error).to.be.instanceOf(RpcError);
      expect((error as RpcError).message).to.equal("RPC eth_chainId failed at http://127.0.0.1/v3/***: no answer within 0.3 s (3 attempts)");
      expect(progress).to.deep.equal([
        "RPC eth_chainId at http://127.0.0.1/v3/***: no answer within 0.3 s; retrying (1/2)",
        "RPC eth_chainId at http://127.0.0.1/v3/***: no answer within 0.3 s; retrying (2/2)",
      ]);
      expect(elapsed).to.be.within(900, 5_000);
      expect(server.connections()).to.equal(3);
    } finally {
      await server.close();
    }
  });

  it("a send is never retried: one attempt, then the error", async function () {
    const server = await silentServer();
    try {
      const request = withRpcPolicy(fetchRequest(server.url), { timeoutMs: 200, retries: 2, backoffMs: () => 10 });
      const error = await request({ method: "eth_sendRawTransaction", params: ["0x00"] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((error as RpcError).message).to.equal("RPC eth_sendRawTransaction failed: no answer within 0.2 s");
      expect(server.connections()).to.equal(1);
    } finally {
      await server.close();
    }
  });

  it("the node's own answer (a JSON-RPC error) passes through untouched, without retries", async function () {
    let calls = 0;
    const nodeError = Object.assign(new Error("execution reverted"), { code: 3 });
    const request = withRpcPolicy(
      async () => {
        calls += 1;
        throw nodeError;
      },
      { timeoutMs: 1_000, retries: 2 },
    );
    expect(await request({ method: "eth_call" }).catch((e: unknown) => e)).to.equal(nodeError);
    expect(calls).to.equal(1);
  });

  it("a connection reset is retried and the second answer returned", async function () {
    let calls = 0;
    const request = withRpcPolicy(
      async () => {
        calls += 1;
        if (calls === 1) throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
        return "0x7a69";
      },
      { timeoutMs: 1_000, retries: 2, backoffMs: () => 1 },
    );
    expect(await request({ method: "eth_chainId" })).to.equal("0x7a69");
    expect(calls).to.equal(2);
  });
});
