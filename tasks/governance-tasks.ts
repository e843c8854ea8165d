import { task } from "hardhat/config";
import type { TaskDefinition } from "hardhat/types/tasks";

import { apply, file, flag, json, sendingDirectOrSafe, str } from "./lib/builders.js";

/**
 * Tasks of the governance routes: Safe proposals (sign, execute, status, and the Safe
 * contracts for a local chain), OpenZeppelin timelocks (deploy, execute, cancel,
 * status) and the chain of control of an app. Collected by `tasks/index.ts`. Every
 * state-changing task of the toolkit takes `--via safe|timelock|safe,timelock` (see the
 * `sending` options); these are the steps around it.
 */

const from = str("from", "Sign with this configured account (default: the network's first account)");
const dryRun = flag("dryRun", "Check and show everything, sign and send nothing");
const proposal = file("proposal", "A Safe proposal file (written by a task run with --via safe)");
const allowGasRefund = flag("allowGasRefund", "Accept a proposal with non-zero safeTxGas/baseGas/gasPrice/gasToken/refundReceiver (shown first, with the worst-case payment)");
const operationSource = [
  file("operation", "A timelock operation file (written by --via timelock) or the --via safe,timelock Safe proposal"),
  str("timelock", "The TimelockController (with --id: the operation is rebuilt from its events)"),
  str("id", "The operation id (bytes32), with --timelock"),
  str("fromBlock", "With --id: first block of the event scan (default: the timelock's deployment block)"),
];

export const governanceTasks: TaskDefinition[] = [
  apply(
    task("safe-sign", "Check a Safe proposal (hash, decoded actions, owners, nonce, signatures), show what it does, and add your signature"),
    proposal,
    file("out", "Write the signed proposal here instead of back to --proposal"),
    str("proposeToService", "Also send the signature to this Safe transaction service URL (key: SAFE_API_KEY)"),
    str("ownerSafe", "Sign for this Safe, an owner of the proposal's Safe that you own (its SafeMessage; counts once its threshold is met)"),
    dryRun,
    allowGasRefund,
    from,
    json,
  ).setAction(() => import("./actions/safe-sign.js")).build(),
  apply(
    task("safe-approve-hash", "Approve a Safe proposal's safeTxHash on chain (approveHash) from an owner that cannot sign the file (hardware, contract wallets); --via safe --safe OWNER_SAFE: an owner Safe approves through its own proposal"),
    proposal,
    ...sendingDirectOrSafe,
  ).setAction(() => import("./actions/safe-approve-hash.js")).build(),
  apply(
    task("safe-import", "Import a Safe transaction made elsewhere (Safe{Wallet}, protocol-kit, a transaction service) as a proposal file, checking its hash and signatures"),
    file("file", "A JSON file: a transaction service answer, or protocol-kit's SafeTransaction (data and signatures)"),
    str("service", "A Safe transaction service URL to fetch --safe-tx-hash from (key: SAFE_API_KEY)"),
    str("safeTxHash", "With --service: the transaction to fetch; with --file: the hash it must have"),
    str("safe", "The Safe (when the JSON does not name it, e.g. protocol-kit's)"),
    file("out", "Where to write the proposal (default safe-tx-<safeTxHash>.json)"),
    json,
  ).setAction(() => import("./actions/safe-import.js")).build(),
  apply(
    task("safe-execute", "Execute a Safe proposal whose signatures meet the threshold (after checking it again)"),
    proposal,
    dryRun,
    allowGasRefund,
    from,
    json,
  ).setAction(() => import("./actions/safe-execute.js")).build(),
  apply(task("safe-status", "Show a Safe's owners, threshold, nonce, version, modules and guard"), str("safe", "Address of the Safe"), json)
    .setAction(() => import("./actions/safe-status.js"))
    .build(),
  apply(
    task("deploy-safe-contracts", "Deploy the Safe v1.4.1 contracts (local chains) and write their addresses for --safe-contracts"),
    file("out", "Where to write the addresses (default safe-contracts.json; an existing file gains this chain's entry)"),
    from,
    json,
  ).setAction(() => import("./actions/deploy-safe-contracts.js")).build(),
  apply(
    task("deploy-safe", "Create a Safe (v1.4.1) with these owners and threshold"),
    str("owners", "Owner addresses, comma-separated"),
    str("threshold", "How many owners must sign"),
    str("saltNonce", "Salt nonce of the proxy's CREATE2 address (default 0)"),
    file("safeContracts", "JSON of the Safe contract addresses per chain id (default: the canonical deployments)"),
    from,
    json,
  ).setAction(() => import("./actions/deploy-safe.js")).build(),
  apply(
    task("deploy-timelock", "Deploy an OpenZeppelin TimelockController"),
    str("minDelay", "Minimum delay (seconds, or 1d, 12h, …)"),
    str("proposers", "Proposer (and canceller) addresses, comma-separated, e.g. the Safe"),
    str("executors", "Executor addresses, comma-separated, or `anyone`"),
    str("admin", "An optional admin that can manage roles without the delay (default: none; renounce it after set-up)"),
    from,
    json,
  ).setAction(() => import("./actions/deploy-timelock.js")).build(),
  apply(
    task("timelock-execute", "Execute a ready timelock operation (directly, or --via safe when the Safe is the executor)"),
    ...operationSource,
    ...sendingDirectOrSafe,
  ).setAction(() => import("./actions/timelock-execute.js")).build(),
  apply(
    task("timelock-cancel", "Cancel a pending timelock operation (needs CANCELLER_ROLE: directly, or --via safe)"),
    ...operationSource,
    ...sendingDirectOrSafe,
  ).setAction(() => import("./actions/timelock-cancel.js")).build(),
  apply(
    task("timelock-status", "Show a timelock's delay, roles and operations (pending / ready at T / done), or one operation"),
    ...operationSource,
    json,
  ).setAction(() => import("./actions/timelock-status.js")).build(),
  apply(
    task("governance-status", "Walk who controls an app or KMS: owner (EOA, Safe, timelock) and who controls those, with warnings"),
    str("app", "Address of the DstackApp (proxy)"),
    str("kms", "Address of the DstackKms (proxy)"),
    str("fromBlock", "First block of the timelock event scans (default: each timelock's deployment block)"),
    flag("failOnWarning", "Exit 1 when a warning is found (for CI)"),
    json,
  ).setAction(() => import("./actions/governance-status.js")).build(),
];
