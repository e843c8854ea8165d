import { task } from "hardhat/config";
import type { TaskDefinition } from "hardhat/types/tasks";

import { apply, flag, json, str } from "./lib/builders.js";

/** Tasks that follow governance and CVMs over time. Collected by `tasks/index.ts`. */
export const monitoringTasks: TaskDefinition[] = [
  apply(
    task("watch-governance", "Follow the governance events of an app and/or KMS: who changed what, when (resumable)"),
    str("app", "Address of a DstackApp to watch"),
    str("kms", "Address of a DstackKms to watch"),
    str("fromBlock", "First block (default: the contracts' deployment block; needs an archive node)"),
    str("toBlock", "Last block when not following (default: the head)"),
    str("cursor", "A file that keeps the position: read at start, updated after every round"),
    str("out", "Append every event to this file as a JSON line"),
    flag("follow", "Keep watching for new blocks until Ctrl-C"),
    str("interval", "Seconds between polls with --follow (default 12)"),
    str("confirmations", "Only read blocks this far behind the head (default 0)"),
    json,
  ).setAction(() => import("./actions/watch-governance.js")).build(),
];
