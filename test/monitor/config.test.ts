/**
 * The monitor configuration: a complete file parses into exactly the expected targets,
 * and every kind of mistake is reported with the file, line, target index and field.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import hre from "hardhat";

import { loadMonitorConfig, parseMonitorConfig, type MonitorConfig } from "../../src/monitor/config.js";
import { MonitorConfigError } from "../../src/monitor/errors.js";

const APP = "0x1111111111111111111111111111111111111111";
const KMS = "0x2222222222222222222222222222222222222222";
const CHECKSUMMED_KMS = "0x2222222222222222222222222222222222222222";

let dir: string;
before(() => (dir = mkdtempSync(path.join(tmpdir(), "monitor-config-"))));
after(() => rmSync(dir, { recursive: true, force: true }));

function problemsOf(yaml: string, options: Parameters<typeof parseMonitorConfig>[2] = {}): string[] {
  try {
    parseMonitorConfig(yaml, "mon.yaml", options);
  } catch (error) {
    expect(error).to.be.instanceOf(MonitorConfigError);
    return [...(error as MonitorConfigError).problems];
  }
  throw new Error("expected the configuration to be rejected");
}

describe("monitor config: a valid file", function () {
  it("parses every field, applies defaults and inheritance, and keys chains", async function () {
    writeFileSync(path.join(dir, "compose-a.json"), '{"exact": "bytes"}\n');
    const file = path.join(dir, "monitor.yaml");
    writeFileSync(
      file,
      [
        "interval: 5m",
        "concurrency: 4",
        "retries: 2",
        "retryDelay: 250ms",
        "timeout: 20",
        "webhook: { url: https://hooks.example.com/T0/abc, attempts: 5, timeout: 3s }",
        "defaults:",
        `  kms: "${KMS}"`,
        "  network: sepolia",
        "targets:",
        "  - name: a",
        "    url: https://a.example.com:8090",
        `    app: "${APP}"`,
        "    appCompose: compose-a.json",
        "    quoteSignature: { mode: local, provider: intel, acceptTcbStatuses: [UpToDate, SWHardeningNeeded] }",
        "  - url: https://b.example.com/",
        "    endpointStyle: guest-agent",
        "    rpcUrl: https://rpc.example.com/v2/key",
        "    reportData: none",
        "    quoteSignature: phala-api",
        "  - name: c",
        "    url: http://c.example.com",
        "    quoteSignature: skip",
      ].join("\n"),
    );
    const config: MonitorConfig = await loadMonitorConfig(file, { knownNetworks: ["default", "sepolia"] });
    expect(config).to.deep.include({ file, intervalMs: 300_000, concurrency: 4, retries: 2, retryDelayMs: 250, timeoutMs: 20_000 });
    expect(config.webhook).to.deep.equal({ url: "https://hooks.example.com/T0/abc", attempts: 5, timeoutMs: 3_000 });
    expect(config.targets).to.deep.equal([
      {
        index: 0,
        name: "a",
        url: "https://a.example.com:8090",
        endpointStyle: "phala",
        app: APP,
        kms: CHECKSUMMED_KMS,
        chain: { kind: "network", name: "sepolia" },
        chainKey: "network:sepolia",
        reportData: "nonce",
        appComposeFile: path.join(dir, "compose-a.json"),
        appCompose: '{"exact": "bytes"}\n',
        quoteSignature: { mode: "local", provider: "intel", acceptedTcbStatuses: ["UpToDate", "SWHardeningNeeded"] },
      },
      {
        index: 1,
        name: "b.example.com",
        url: "https://b.example.com/",
        endpointStyle: "guest-agent",
        kms: CHECKSUMMED_KMS,
        chain: { kind: "rpc", url: "https://rpc.example.com/v2/key" },
        chainKey: "rpc:https://rpc.example.com/v2/key",
        reportData: "none",
        quoteSignature: { mode: "phala-api" },
      },
      {
        index: 2,
        name: "c",
        url: "http://c.example.com",
        endpointStyle: "phala",
        kms: CHECKSUMMED_KMS,
        chain: { kind: "network", name: "sepolia" },
        chainKey: "network:sepolia",
        reportData: "nonce",
        quoteSignature: { mode: "skip" },
      },
    ]);
  });

  it("minimal: only targets with url; defaults are 60 s, 8 at once, 3 retries, local signature, the task's network", function () {
    const config = parseMonitorConfig("targets:\n  - url: https://x.example.com\n", "m.yaml");
    expect(config).to.deep.include({ intervalMs: 60_000, concurrency: 8, retries: 3, retryDelayMs: 1_000, timeoutMs: 15_000 });
    expect(config.webhook).to.equal(undefined);
    expect(config.targets[0]).to.deep.include({ name: "x.example.com", chain: { kind: "default" }, chainKey: "default", reportData: "nonce", quoteSignature: { mode: "local" } });
  });

  it("examples/monitor.yaml is a valid configuration for this project's networks", async function () {
    const config = await loadMonitorConfig(path.resolve(import.meta.dirname, "../../examples/monitor.yaml"), { knownNetworks: Object.keys(hre.config.networks) });
    expect(config.targets.length).to.be.greaterThan(1);
    expect(config.targets.some((t) => t.appCompose !== undefined)).to.equal(true);
  });
});

describe("monitor config: mistakes name the file, line, target and field", function () {
  const cases: Array<[string, string, RegExp]> = [
    ["a target without url", "targets:\n  - name: a\n", /^mon\.yaml:2: targets\[0\]\.url: missing/],
    ["a url that is not http(s)", "targets:\n  - url: https://ok.example\n  - url: ftp://x\n", /^mon\.yaml:3: targets\[1\]\.url: expected an http\(s\) URL, got "ftp:\/\/x"/],
    ["a bad app address", `targets:\n  - url: https://a.example\n    app: "0x1234"\n`, /^mon\.yaml:3: targets\[0\]\.app: expected a 0x-prefixed 20-byte address, got "0x1234"/],
    ["an unknown endpoint style", "targets:\n  - url: https://a.example\n    endpointStyle: grpc\n", /^mon\.yaml:3: targets\[0\]\.endpointStyle: expected phala or guest-agent, got "grpc"/],
    ["an unknown report-data mode", "targets:\n  - url: https://a.example\n    reportData: fixed\n", /^mon\.yaml:3: targets\[0\]\.reportData: expected nonce .* or none, got "fixed"/],
    ["an unknown quote-signature mode", "targets:\n  - url: https://a.example\n    quoteSignature: trust-me\n", /^mon\.yaml:3: targets\[0\]\.quoteSignature: expected local, phala-api or skip/],
    ["a test trust anchor in the YAML", "targets:\n  - url: https://a.example\n    quoteSignature: { mode: local, trustedRootCaDer: AAAA }\n", /^mon\.yaml:3: targets\[0\]\.quoteSignature\.trustedRootCaDer: not an option of quoteSignature mode local/],
    ["both network and rpcUrl", "targets:\n  - url: https://a.example\n    network: sepolia\n    rpcUrl: https://rpc.example\n", /^mon\.yaml:4: targets\[0\]\.rpcUrl: give either network or rpcUrl, not both/],
    ["a misspelt field", "targets:\n  - url: https://a.example\n    compose: x.json\n", /^mon\.yaml:3: targets\[0\]\.compose: unknown field/],
    ["a misspelt top-level field", "intervall: 5\ntargets:\n  - url: https://a.example\n", /^mon\.yaml:1: intervall: unknown field/],
    ["a duplicate name", "targets:\n  - name: a\n    url: https://a.example\n  - name: a\n    url: https://b.example\n", /^mon\.yaml:4: targets\[1\]\.name: duplicate name "a" \(also targets\[0\]\)/],
    ["an interval below 1 s", "interval: 100ms\ntargets:\n  - url: https://a.example\n", /^mon\.yaml:1: interval: expected a duration of at least 1s/],
    ["a concurrency of 0", "concurrency: 0\ntargets:\n  - url: https://a.example\n", /^mon\.yaml:1: concurrency: expected a whole number from 1 to 256, got 0/],
    ["a webhook that is not a URL (shown without its token)", "webhook: hooks.example.com/services/T0123/aB3dE5gH7jK9mN1pQ3sT5vW7\ntargets:\n  - url: https://a.example\n", /^mon\.yaml:1: webhook: expected an http\(s\) URL, got "hooks\.example\.com\/services\/T0123\/\*\*\*"$/],
    ["no targets", "interval: 5\n", /^mon\.yaml:1: targets: missing/],
    ["an empty target list", "targets: []\n", /^mon\.yaml:1: targets: expected a non-empty list/],
    ["a target that is not a mapping", "targets:\n  - https://a.example\n", /^mon\.yaml:2: targets\[0\]: expected a mapping/],
    ["a bad inherited default, reported at defaults", `defaults:\n  kms: nope\ntargets:\n  - url: https://a.example\n  - url: https://b.example\n`, /^mon\.yaml:2: defaults\.kms: expected a 0x-prefixed 20-byte address/],
    ["not YAML", "targets:\n  - url: [unclosed\n", /^mon\.yaml:\d+: not valid YAML/],
    ["a repeated key", "targets:\n  - url: https://a.example\n    url: https://b.example\n", /^mon\.yaml:3: not valid YAML: Map keys must be unique/],
  ];
  for (const [what, yaml, message] of cases) {
    it(what, function () {
      const problems = problemsOf(yaml);
      expect(problems[0], problems.join("\n")).to.match(message);
    });
  }

  it("every problem is listed, the first in the message with a count of the others; a bad default is reported once", function () {
    const yaml = `defaults:\n  kms: nope\ntargets:\n  - url: https://a.example\n    app: "0x12"\n  - url: x\n  - url: https://c.example\n`;
    let error: MonitorConfigError | undefined;
    try {
      parseMonitorConfig(yaml, "mon.yaml");
    } catch (e) {
      error = e as MonitorConfigError;
    }
    expect(error).to.be.instanceOf(MonitorConfigError);
    expect(error!.problems).to.deep.equal([
      'mon.yaml:5: targets[0].app: expected a 0x-prefixed 20-byte address, got "0x12"',
      'mon.yaml:2: defaults.kms: expected a 0x-prefixed 20-byte address, got "nope"',
      'mon.yaml:6: targets[1].url: expected an http(s) URL, got "x"',
    ]);
    expect(error!.message).to.equal('mon.yaml:5: targets[0].app: expected a 0x-prefixed 20-byte address, got "0x12" (and 2 more problems)');
    expect(error!.code).to.equal("INVALID_INPUT");
  });

  it("an unknown Hardhat network is named with the known ones", function () {
    const problems = problemsOf("targets:\n  - url: https://a.example\n    network: sepolai\n", { knownNetworks: ["default", "sepolia"] });
    expect(problems).to.deep.equal(['mon.yaml:3: targets[0].network: no network "sepolai" in the Hardhat configuration (known: default, sepolia)']);
  });

  it("a file that does not exist, and an app-compose file that does not exist", async function () {
    const missing = path.join(dir, "nope.yaml");
    const error = await loadMonitorConfig(missing).then(() => undefined, (e: unknown) => e as MonitorConfigError);
    expect(error?.message).to.equal(`${missing}: cannot read the monitor configuration (ENOENT)`);

    const file = path.join(dir, "compose-missing.yaml");
    writeFileSync(file, "targets:\n  - url: https://a.example\n  - url: https://b.example\n    appCompose: ./nowhere.json\n");
    const composeError = await loadMonitorConfig(file).then(() => undefined, (e: unknown) => e as MonitorConfigError);
    expect(composeError?.message).to.equal(`${file}: targets[1].appCompose: cannot read ${path.join(dir, "nowhere.json")} (ENOENT)`);
  });
});
