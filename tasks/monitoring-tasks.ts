import { task } from "hardhat/config";
import type { TaskDefinition } from "hardhat/types/tasks";

import { apply, file, flag, json, str } from "./lib/builders.js";

/** Tasks that follow governance and CVMs over time. Collected by `tasks/index.ts`. */
export const monitoringTasks: TaskDefinition[] = [
  apply(
    task("watch-governance", "Follow the governance events of an app and/or KMS: who changed what, when (resumable)"),
    str("app", "Address of a DstackApp to watch"),
    str("kms", "Address of a DstackKms to watch"),
    str("fromBlock", "First block (default: the contracts' deployment block; needs an archive node)"),
    str("toBlock", "Last block when not following (default: the head)"),
    file("cursor", "A file that keeps the position: read at start, updated after every round"),
    file("out", "Append every event to this file as a JSON line"),
    flag("follow", "Keep watching for new blocks until Ctrl-C"),
    str("interval", "Seconds between polls with --follow (default 12)"),
    str("confirmations", "Only read blocks this far behind the head (default 0)"),
    json,
  ).setAction(() => import("./actions/watch-governance.js")).build(),
  apply(
    task("monitor", "Verify a list of live CVMs every interval: JSON lines, a table, and webhook notifications on changes"),
    // Not `--config`: that is Hardhat's own global option (the hardhat.config file).
    file("monitorConfig", "The monitor configuration (YAML: targets, interval, concurrency, webhook)"),
    flag("once", "Run one round and exit: 0 when every target passed, 1 otherwise (for cron and CI)"),
    file("out", "Append one JSON line per target per round to this file"),
    str("interval", "Override the configured interval (seconds, or 30s / 5m / 1h)"),
    str("concurrency", "Override the configured number of targets verified at once"),
    flag("json", "Print one JSON line per target per round, then a summary line, instead of tables"),
  ).setAction(() => import("./actions/monitor.js")).build(),
];
