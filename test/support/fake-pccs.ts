/**
 * A loopback (127.0.0.1) HTTP server that answers the Intel PCS / PCCS v4 requests a
 * collateral client makes, from collateral held in dcap-qvl's JSON format:
 *
 *   GET {prefix}/sgx/certification/v4/pckcrl?ca=<platform|processor>&encoding=der
 *       body: DER CRL; header SGX-PCK-CRL-Issuer-Chain: URL-encoded PEM
 *   GET {prefix}/<tdx|sgx>/certification/v4/tcb?fmspc=<hex>
 *       body: {"tcbInfo":…,"signature":"<hex>"}; header TCB-Info-Issuer-Chain
 *   GET {prefix}/<tdx|sgx>/certification/v4/qe/identity?update=standard
 *       body: {"enclaveIdentity":…,"signature":"<hex>"}; header SGX-Enclave-Identity-Issuer-Chain
 *   GET {prefix}/sgx/certification/v4/rootcacrl
 *       body: hex text of the DER root CA CRL (what a PCCS serves)
 *   GET /crl/root.der  (the CRL distribution point fallback)
 *
 * Anything else, or a request for another FMSPC / CA, is a 404. Every request is
 * recorded so tests can count them (cache hits make none).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

import type { FetchFunction, QuoteCollateral } from "../../src/attestation/collateral.js";

export interface RecordedRequest {
  /** Path and query as received. */
  url: string;
  authorization: string | undefined;
}

export interface FakePccsContent {
  collateral: QuoteCollateral;
  tee: "tdx" | "sgx";
  fmspc: string;
  ca: "platform" | "processor";
}

export interface FakePccsOptions {
  /** Answer `rootcacrl` with 404 (as Intel PCS does), forcing the CRL-DP fallback. */
  noRootCaCrlEndpoint?: boolean;
  /** Leave out the issuer-chain header of the TCB info response. */
  omitTcbIssuerChain?: boolean;
  /** Never answer (to test timeouts). */
  hang?: boolean;
}

export interface FakePccs {
  /** `http://127.0.0.1:<port>` */
  url: string;
  requests: RecordedRequest[];
  /** What to serve; may be set after start (e.g. once a CRL-DP URL is known). */
  content: FakePccsContent | undefined;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-length": String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

function respond(pccs: FakePccs, options: FakePccsOptions, req: IncomingMessage, res: ServerResponse): void {
  const content = pccs.content;
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  if (content === undefined) {
    send(res, 503, "no content configured");
    return;
  }
  const { collateral } = content;
  if (url.pathname === "/crl/root.der") {
    send(res, 200, Buffer.from(collateral.root_ca_crl, "hex"));
    return;
  }
  const match = /\/(sgx|tdx)\/certification\/v4\/(.+)$/.exec(url.pathname);
  const [, tee, resource] = match ?? [];
  const query = url.searchParams;

  if (tee === "sgx" && resource === "pckcrl" && query.get("ca") === content.ca && query.get("encoding") === "der") {
    send(res, 200, Buffer.from(collateral.pck_crl, "hex"), {
      "content-type": "application/pkix-crl",
      "SGX-PCK-CRL-Issuer-Chain": encodeURIComponent(collateral.pck_crl_issuer_chain),
    });
    return;
  }
  if (tee === "sgx" && resource === "rootcacrl" && !options.noRootCaCrlEndpoint) {
    send(res, 200, collateral.root_ca_crl, { "content-type": "text/plain" });
    return;
  }
  if (tee === content.tee && resource === "tcb" && query.get("fmspc")?.toUpperCase() === content.fmspc) {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (!options.omitTcbIssuerChain) headers["TCB-Info-Issuer-Chain"] = encodeURIComponent(collateral.tcb_info_issuer_chain);
    send(res, 200, `{"tcbInfo":${collateral.tcb_info},"signature":"${collateral.tcb_info_signature}"}`, headers);
    return;
  }
  if (tee === content.tee && resource === "qe/identity") {
    send(res, 200, `{"enclaveIdentity":${collateral.qe_identity},"signature":"${collateral.qe_identity_signature}"}`, {
      "content-type": "application/json",
      "SGX-Enclave-Identity-Issuer-Chain": encodeURIComponent(collateral.qe_identity_issuer_chain),
    });
    return;
  }
  send(res, 404, "not found");
}

/** Starts the server on an ephemeral loopback port. */
export async function startFakePccs(content?: FakePccsContent, options: FakePccsOptions = {}): Promise<FakePccs> {
  const pccs: FakePccs = { url: "", requests: [], content, close: async () => {} };
  const server = createServer((req, res) => {
    pccs.requests.push({ url: req.url ?? "", authorization: req.headers.authorization });
    if (options.hang) return; // the socket stays open until close()
    respond(pccs, options, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  pccs.url = `http://127.0.0.1:${port}`;
  pccs.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return pccs;
}

/** A loopback URL on which nothing listens: bind an ephemeral port, then release it. */
export async function closedLoopbackUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/**
 * The same PCS v4 answers as a `fetch` function, for code that takes an injected fetch:
 * no server, no network. Records each request's URL and authorization header.
 */
export function fakePccsFetch(collateral: QuoteCollateral): { fetch: FetchFunction & typeof fetch; requests: Array<{ url: string; authorization: string | null }> } {
  const requests: Array<{ url: string; authorization: string | null }> = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input);
    requests.push({ url: url.toString(), authorization: new Headers(init?.headers).get("authorization") });
    const resource = url.pathname.replace(/^.*\/certification\/v4\//, "");
    if (resource === "pckcrl") {
      return new Response(Buffer.from(collateral.pck_crl, "hex"), {
        headers: { "SGX-PCK-CRL-Issuer-Chain": encodeURIComponent(collateral.pck_crl_issuer_chain) },
      });
    }
    if (resource === "tcb") {
      return new Response(`{"tcbInfo":${collateral.tcb_info},"signature":"${collateral.tcb_info_signature}"}`, {
        headers: { "TCB-Info-Issuer-Chain": encodeURIComponent(collateral.tcb_info_issuer_chain) },
      });
    }
    if (resource === "qe/identity") {
      return new Response(`{"enclaveIdentity":${collateral.qe_identity},"signature":"${collateral.qe_identity_signature}"}`, {
        headers: { "SGX-Enclave-Identity-Issuer-Chain": encodeURIComponent(collateral.qe_identity_issuer_chain) },
      });
    }
    if (resource === "rootcacrl") return new Response(collateral.root_ca_crl);
    return new Response("not found", { status: 404 });
  };
  return { fetch, requests };
}
