import { appendFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { createPublicClient, http } from "viem";

import type { ChainClient } from "../../src/chain/clients.js";
import { loadMonitorConfig, type MonitorConfig } from "../../src/monitor/config.js";
import { formatRoundTable, toJsonLine } from "../../src/monitor/format.js";
import { runMonitor, type RoundReport } from "../../src/monitor/monitor.js";
import type { ResolvedTarget } from "../../src/monitor/round.js";
import { parseDurationMs } from "../../src/util/duration.js";
import { InvalidInputError, describeError } from "../../src/util/errors.js";
import { escapeTerminalText } from "../../src/util/terminal-text.js";
import { runCommand } from "../lib/output.js";

interface Args {
  monitorConfig: string | undefined;
  once: boolean;
  out: string | undefined;
  interval: string | undefined;
  concurrency: string | undefined;
  json: boolean;
}

/**
 * `monitor`: verifies a list of CVMs every interval (or `--once`), one JSON line per
 * target per round to `--out` and/or stdout (`--json`), a table otherwise, and posts
 * changes to the configured webhook. The configuration is checked as a whole first (exit
 * 2 naming file, line and field). Exit code: 0 when every target passed in the last round,
 * 1 otherwise.
 */
export default async function (args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(
    args.json,
    async () => {
      if (args.monitorConfig === undefined || args.monitorConfig.trim() === "") {
        throw new InvalidInputError("--monitor-config: give the monitor configuration file (YAML), e.g. --monitor-config monitor.yaml");
      }
      const config = await loadMonitorConfig(args.monitorConfig, { knownNetworks: Object.keys(hre.config.networks) });
      applyOverrides(config, args);
      if (args.out !== undefined) {
        // Created (or found appendable) now, so a bad path is an input error before any work.
        await appendFile(args.out, "").catch((error: NodeJS.ErrnoException) => {
          throw new InvalidInputError(`--out: cannot write ${args.out} (${error.code ?? error.message})`);
        });
      }
      const targets = await resolveChains(hre, config);

      const controller = new AbortController();
      let interrupts = 0;
      const onSigint = () => {
        interrupts += 1;
        // A second Ctrl-C does not wait for slow CVMs.
        if (interrupts > 1) process.exit(130);
        controller.abort();
        console.error("stopping after this round… (Ctrl-C again to quit now)");
      };
      process.on("SIGINT", onSigint);
      let summary: Awaited<ReturnType<typeof runMonitor>>;
      try {
        summary = await runMonitor(targets, {
          intervalMs: config.intervalMs,
          concurrency: config.concurrency,
          retries: config.retries,
          retryDelayMs: config.retryDelayMs,
          timeoutMs: config.timeoutMs,
          collateralCacheDir: join(homedir(), ".cache", "dstack-governance", "collateral"),
          once: args.once,
          signal: controller.signal,
          ...(config.webhook === undefined ? {} : { webhook: { url: config.webhook.url, attempts: config.webhook.attempts, timeoutMs: config.webhook.timeoutMs } }),
          onRound: (report) => emit(report, args),
        });
      } finally {
        process.off("SIGINT", onSigint);
      }
      const last = summary.last?.results ?? [];
      const count = (state: string) => last.filter((r) => r.state === state).length;
      const tally = `${count("pass")} ok, ${count("fail")} failed, ${count("error")} error`;
      return {
        ok: summary.ok,
        data: { summary: { rounds: summary.rounds, targets: last.length, pass: count("pass"), fail: count("fail"), error: count("error") } },
        lines: [args.once ? `${last.length} target(s): ${tally}` : `stopped after ${summary.rounds} round(s); last round: ${tally}`],
      };
    },
    { jsonLines: true },
  );
}

function applyOverrides(config: MonitorConfig, args: Args): void {
  if (args.concurrency !== undefined) {
    const value = Number(args.concurrency);
    if (!/^\d+$/.test(args.concurrency.trim()) || value < 1 || value > 256) {
      throw new InvalidInputError(`--concurrency: expected a whole number from 1 to 256, got ${JSON.stringify(args.concurrency)}`);
    }
    config.concurrency = value;
  }
  if (args.interval !== undefined) {
    const ms = Number(parseDurationMs(args.interval) ?? Number.NaN);
    if (!(ms >= 1_000)) throw new InvalidInputError(`--interval: expected at least 1 second (seconds, or 30s / 5m / 1h), got ${JSON.stringify(args.interval)}`);
    config.intervalMs = ms;
  }
}

/** One viem client per distinct chain of the configuration: a Hardhat network, or an RPC URL. */
async function resolveChains(hre: HardhatRuntimeEnvironment, config: MonitorConfig): Promise<ResolvedTarget[]> {
  const clients = new Map<string, ChainClient>();
  for (const target of config.targets) {
    if (clients.has(target.chainKey)) continue;
    const chain = target.chain;
    let client: ChainClient;
    if (chain.kind === "rpc") {
      client = createPublicClient({ transport: http(chain.url) });
    } else {
      try {
        const connection = chain.kind === "network" ? await hre.network.getOrCreate(chain.name) : await hre.network.getOrCreate();
        client = (await connection.viem.getPublicClient()) as unknown as ChainClient;
      } catch (error) {
        const name = chain.kind === "network" ? chain.name : hre.globalOptions.network ?? "default";
        throw new InvalidInputError(`${config.file}: cannot connect to network ${JSON.stringify(name)} (first used by targets[${target.index}]): ${describeError(error)}`);
      }
    }
    clients.set(target.chainKey, client);
  }
  return config.targets.map((target) => ({ config: target, client: clients.get(target.chainKey)! }));
}

async function emit(report: RoundReport, args: Args): Promise<void> {
  const lines = report.results.map((result) => toJsonLine(report.round, result));
  if (args.out !== undefined) {
    // Losing the log file must not stop the monitoring itself: said on stderr, and retried next round.
    await appendFile(args.out, `${lines.join("\n")}\n`).catch((error: NodeJS.ErrnoException) => {
      console.error(`warning: --out: cannot append to ${args.out} (${error.code ?? error.message})`);
    });
  }
  if (args.json) {
    for (const line of lines) console.log(line);
    for (const { change, outcome } of report.notifications) {
      if (!outcome.ok) console.error(escapeTerminalText(`warning: webhook notification for ${change.target} failed: ${outcome.error}`));
    }
  } else {
    for (const line of formatRoundTable(report)) console.log(line);
  }
}
