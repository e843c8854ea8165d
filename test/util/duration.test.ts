/**
 * The one duration syntax (src/util/duration.ts) that timelock delays, the monitor's
 * configuration and its `--interval` all accept: every form the README documents for any
 * of them, in each place.
 */
import { expect } from "chai";

import { parseMonitorConfig } from "../../src/monitor/config.js";
import { parseDuration, parseDurationMs } from "../../src/util/duration.js";

describe("util: duration syntax", function () {
  it("reads seconds, units and sums of units, exactly, in milliseconds", function () {
    const cases: Array<[string, bigint]> = [
      ["86400", 86_400_000n],
      ["1.5", 1_500n],
      ["500ms", 500n],
      ["30s", 30_000n],
      ["5m", 300_000n],
      ["1h", 3_600_000n],
      ["1d", 86_400_000n],
      ["2w", 1_209_600_000n],
      ["1d12h", 129_600_000n],
      ["1d 12h", 129_600_000n],
      ["1m30s", 90_000n],
      ["1.5h", 5_400_000n],
      [" 30 S ", 30_000n],
      ["0.0004s", 0n],
    ];
    for (const [text, ms] of cases) expect(parseDurationMs(text), text).to.equal(ms);
  });

  it("refuses what is not a duration", function () {
    for (const text of ["", "1 day", "s", "-5s", "1.s", "5x", "1e3", "0x10", "5mm"]) expect(parseDurationMs(text), text).to.equal(undefined);
  });

  it("timelock delays take the monitor's forms when they are whole seconds", function () {
    expect(parseDuration("90m", "--min-delay")).to.equal(5_400n);
    expect(parseDuration("2000ms", "--min-delay")).to.equal(2n);
    expect(parseDuration("0.5h", "--min-delay")).to.equal(1_800n);
    expect(() => parseDuration("500ms", "--min-delay")).to.throw(/^--min-delay: expected seconds or a duration/);
  });

  it("the monitor configuration takes the timelock forms", function () {
    const config = parseMonitorConfig("interval: 1d\nretryDelay: 1m30s\ntimeout: 2M\ntargets:\n  - url: https://a.example\n", "mon.yaml");
    expect(config).to.deep.include({ intervalMs: 86_400_000, retryDelayMs: 90_000, timeoutMs: 120_000 });
  });
});
