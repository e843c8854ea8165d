/**
 * TEST-ONLY: many live dstack CVM stand-ins behind one loopback HTTP server. Each target
 * lives under its own path (`<farm>/<name>/`) and answers like a real CVM in its endpoint
 * style — `phala`: `GET attestation?reportData=` + `GET info` (tcb_info an object);
 * `guest-agent`: `GET quote?data=` + `GET prpc/Info` (tcb_info a JSON string) — with a
 * quote built by `buildAttestation` over the report data it received, so the monitor's
 * fresh nonce is really bound. A target's app-compose can be changed between rounds, and
 * a target can be made to answer HTTP errors for a number of requests.
 *
 * Each quote is chained to its own test root CA; `trustFor(bundle)` gives the verify
 * options that trust exactly the quote served (for library-level tests, never production).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

import type { Address } from "viem";

import type { AttestationBundle } from "../../src/attestation/bundle.js";
import type { VerifyAttestationOptions } from "../../src/attestation/verify.js";
import { buildAttestation, type BuiltAttestation } from "../support/attestation-builder.js";

export interface FarmTargetSpec {
  style: "phala" | "guest-agent";
  appId: Address;
  appCompose: string;
  osImageHash: Uint8Array;
  /** Answer this many next quote requests with this HTTP status (then recover). */
  failNext?: { count: number; status: number };
  /** Ignore the received report data (a CVM replaying an old quote). */
  ignoreNonce?: boolean;
  /** Delay before answering, to make concurrent fetches overlap. */
  delayMs?: number;
}

export interface CvmFarm {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Adds (or replaces) a target; returns its base URL. */
  add(name: string, spec: FarmTargetSpec): string;
  /** Changes a target's behaviour from now on. */
  update(name: string, changes: Partial<FarmTargetSpec>): void;
  /** Quote requests received per target (each carries the report data, hex). */
  readonly received: Map<string, string[]>;
  /** Most targets whose requests were in flight at the same time. */
  readonly maxConcurrentTargets: number;
  /** Milliseconds spent building quotes (the stand-ins' own CPU time, in this process). */
  readonly buildMs: number;
  /** The built attestation of every quote served, by quote hex. */
  readonly issued: Map<string, BuiltAttestation>;
  /** Verify options trusting the test root CA of the quote in `bundle` (undefined: not ours). */
  trustFor(bundle: AttestationBundle): Partial<VerifyAttestationOptions> | undefined;
  close(): Promise<void>;
}

export async function startCvmFarm(): Promise<CvmFarm> {
  const specs = new Map<string, FarmTargetSpec>();
  const received = new Map<string, string[]>();
  const issued = new Map<string, BuiltAttestation>();
  const inFlight = new Map<string, number>();
  let maxConcurrentTargets = 0;
  let buildMs = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://farm");
    const [, name = "", ...rest] = url.pathname.split("/");
    const endpoint = rest.join("/");
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const spec = specs.get(name);
    if (spec === undefined) return send(404, { error: `no target ${name}` });
    inFlight.set(name, (inFlight.get(name) ?? 0) + 1);
    maxConcurrentTargets = Math.max(maxConcurrentTargets, [...inFlight.values()].filter((n) => n > 0).length);
    try {
      if (spec.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, spec.delayMs));
      const [quotePath, quoteParam, infoPath] = spec.style === "phala" ? ["attestation", "reportData", "info"] : ["quote", "data", "prpc/Info"];
      if (endpoint === quotePath) {
        const data = url.searchParams.get(quoteParam) ?? "";
        received.set(name, [...(received.get(name) ?? []), data]);
        if (spec.failNext !== undefined && spec.failNext.count > 0) {
          spec.failNext.count -= 1;
          return send(spec.failNext.status, { error: "unavailable" });
        }
        const buildStarted = performance.now();
        const att = buildAttestation({
          appId: spec.appId,
          appCompose: spec.appCompose,
          osImageHash: spec.osImageHash,
          ...(spec.ignoreNonce === true ? {} : { nonce: Buffer.from(data, "hex") }),
        });
        buildMs += performance.now() - buildStarted;
        issued.set(att.bundle.quote, att);
        return send(200, { quote: att.bundle.quote, event_log: att.bundle.event_log, report_data: att.bundle.report_data, vm_config: "{}" });
      }
      if (endpoint === infoPath) {
        const tcbInfo = { app_compose: spec.appCompose };
        return send(200, { app_id: spec.appId.slice(2).toLowerCase(), tcb_info: spec.style === "phala" ? tcbInfo : JSON.stringify(tcbInfo) });
      }
      return send(404, { error: "not found" });
    } finally {
      inFlight.set(name, (inFlight.get(name) ?? 1) - 1);
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    add(name, spec) {
      specs.set(name, { ...spec, ...(spec.failNext === undefined ? {} : { failNext: { ...spec.failNext } }) });
      return `${url}/${name}/`;
    },
    update(name, changes) {
      const spec = specs.get(name);
      if (spec === undefined) throw new Error(`cvm-farm: no target ${name}`);
      Object.assign(spec, changes);
    },
    received,
    get maxConcurrentTargets() {
      return maxConcurrentTargets;
    },
    get buildMs() {
      return buildMs;
    },
    issued,
    trustFor(bundle) {
      const att = typeof bundle.quote === "string" ? issued.get(bundle.quote) : undefined;
      if (att === undefined) return undefined;
      return { now: att.now, quoteSignature: { mode: "local", collateral: att.collateral, trustedRootCaDer: att.rootCaDer } };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port with nothing listening (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A webhook receiver on loopback: records every POSTed JSON body; can fail the next N posts. */
export async function startWebhookReceiver(): Promise<{
  url: string;
  // biome-ignore lint/suspicious/noExplicitAny: the webhook's POSTed JSON bodies, navigated freely by the assertions (a wrong shape fails them)
  bodies: any[];
  attempts: number;
  failNext(count: number, status?: number): void;
  close(): Promise<void>;
}> {
  // biome-ignore lint/suspicious/noExplicitAny: the webhook's POSTed JSON bodies, navigated freely by the assertions (a wrong shape fails them)
  const bodies: any[] = [];
  let failures = 0;
  let status = 500;
  const state = { attempts: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      state.attempts += 1;
      if (failures > 0) {
        failures -= 1;
        res.writeHead(status).end("busy");
        return;
      }
      bodies.push(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    bodies,
    get attempts() {
      return state.attempts;
    },
    failNext(count: number, withStatus = 500) {
      failures = count;
      status = withStatus;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
