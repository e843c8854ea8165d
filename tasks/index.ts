import { task } from "hardhat/config";
import type { TaskDefinition } from "hardhat/types/tasks";

import { governanceTasks } from "./governance-tasks.js";
import { apply, flag, json, sending, str, type Builder } from "./lib/builders.js";
import { monitoringTasks } from "./monitoring-tasks.js";

/**
 * Every task of the toolkit, declared in one place. Each action lives in its own file
 * under `tasks/actions/` and is imported lazily, so `npx hardhat --help` stays fast and
 * loads no verifier or chain client code. Every task takes `--json`; state-changing
 * tasks also take `--dry-run` (simulate and print calldata, send nothing) and `--from`.
 */

const app = str("app", "Address of the DstackApp (proxy)");
const kms = str("kms", "Address of the DstackKms (proxy)");

// Options that build an app-compose.json from a docker-compose.yaml.
const composeBuild = [
  str("dockerCompose", "A docker-compose.yaml to build the app-compose.json from"),
  str("name", "App name written into a built app-compose.json (default: the compose file's folder name)"),
  str("out", "Where to write the built app-compose.json (the exact bytes that were hashed)"),
  flag("kmsEnabled", "Built app-compose: keys come from the dstack KMS (on-chain governance)"),
  flag("gatewayEnabled", "Built app-compose: expose the app through the dstack gateway"),
  flag("localKeyProvider", "Built app-compose: use the local key provider"),
  str("allowedEnvs", "Built app-compose: comma-separated names of the encrypted env vars the app may receive"),
  str("preLaunchScript", "Built app-compose: a file whose text is the pre-launch script"),
  flag("noInstanceId", "Built app-compose: no instance id"),
  flag("secureTime", "Built app-compose: wait for secure time before starting"),
  flag("publicLogs", "Built app-compose: make the container logs public"),
  flag("publicSysinfo", "Built app-compose: make the system info public"),
];

const hashSources = [
  str("hash", "One or more compose hashes, comma-separated (0x + 64 hex digits each)"),
  str("appCompose", "An app-compose.json whose exact bytes are hashed"),
];

const bytes32Task = (name: string, description: string, target: (b: Builder) => Builder, option: string, optionDescription: string, action: string) =>
  apply(task(name, description), target, str(option, optionDescription), sending).setAction(() => import(`./actions/${action}.js`)).build();

export const tasks: TaskDefinition[] = [
  apply(
    task("compose-hash", "Compute the compose hash of an app-compose.json, or build one from a docker-compose.yaml"),
    str("appCompose", "An existing app-compose.json: its exact bytes are hashed, never re-serialised"),
    ...composeBuild,
    flag("requirePinned", "Fail unless every service image is pinned by @sha256 digest"),
    json,
  ).setAction(() => import("./actions/compose-hash.js")).build(),

  apply(
    task("deploy-kms", "Deploy a DstackKms behind an ERC1967 proxy (and, by default, a DstackApp implementation for its factory)"),
    str("owner", "Owner of the KMS (default: the signer)"),
    str("appImplementation", "Use this existing DstackApp implementation for the factory"),
    flag("noAppImplementation", "Deploy no app implementation (set one later with set-app-implementation)"),
    str("saveAs", "Record the KMS under this name in deployments/chain-<id>/deployments.json (default kms-<n>); later --kms <name>"),
    json,
    str("from", "Sign with this configured account"),
  ).setAction(() => import("./actions/deploy-kms.js")).build(),

  apply(
    task("deploy-app", "Deploy a DstackApp: its own proxy, or through a KMS factory with --kms (which also registers it)"),
    kms,
    str("owner", "Owner of the app (default: the signer)"),
    str("composeHash", "A compose hash to allow from the start"),
    str("device", "A device id to allow from the start"),
    flag("allowAnyDevice", "Allow any device (no device restriction)"),
    flag("requireTcbUpToDate", "Only platforms whose TCB status is UpToDate may boot"),
    flag("disableUpgrades", "Freeze the implementation for ever (needs --yes)"),
    flag("yes", "Confirm an irreversible choice such as --disable-upgrades"),
    str("saveAs", "Record the app under this name in deployments/chain-<id>/deployments.json (default app-<n>); later --app <name>"),
    json,
    str("from", "Sign with this configured account"),
  ).setAction(() => import("./actions/deploy-app.js")).build(),

  apply(task("add-compose-hash", "Allow compose hashes on an app (several go in one batch transaction)"), app, ...hashSources, ...composeBuild, sending)
    .setAction(() => import("./actions/add-compose-hash.js"))
    .build(),
  apply(task("remove-compose-hash", "Remove compose hashes from an app's allowlist"), app, ...hashSources, ...composeBuild, sending)
    .setAction(() => import("./actions/remove-compose-hash.js"))
    .build(),
  apply(task("check-compose-hash", "Is this compose hash allowed? Exit code 0 when allowed, 1 when not"), app, ...hashSources, ...composeBuild, json)
    .setAction(() => import("./actions/check-compose-hash.js"))
    .build(),
  apply(
    task("list-compose-hashes", "Rebuild an app's allowlist and its history from events, cross-checked with the contract"),
    app,
    str("fromBlock", "First block to scan (default: the app's deployment block, found by binary search)"),
    str("toBlock", "Last block to scan (default: latest)"),
    str("chunkSize", "Initial eth_getLogs block range (default 2000; adapts to the RPC's limit)"),
    flag("quiet", "No progress on stderr"),
    json,
  ).setAction(() => import("./actions/list-compose-hashes.js")).build(),
  apply(
    task("tx-status", "Transactions sent and not seen mined (left by an interrupted run), or one --hash: their state; --wait for the outcome"),
    str("hash", "One transaction hash (default: every journaled pending transaction of this chain)"),
    flag("wait", "Wait for pending transactions to be mined (exit 0 success, 1 reverted/replaced, 3 still pending)"),
    json,
  ).setAction(() => import("./actions/tx-status.js")).build(),
  apply(task("app-info", "Show an app's owner, pending owner, implementation, version, flags and interfaces"), app, json)
    .setAction(() => import("./actions/app-info.js"))
    .build(),

  bytes32Task("add-device", "Allow device ids on an app", app, "device", "Device ids, comma-separated (0x + 64 hex digits)", "add-device"),
  bytes32Task("remove-device", "Stop allowing device ids on an app", app, "device", "Device ids, comma-separated", "remove-device"),
  apply(task("set-allow-any-device", "Switch the app's device restriction off (true) or on (false)"), app, str("value", "true or false"), sending)
    .setAction(() => import("./actions/set-allow-any-device.js"))
    .build(),
  apply(task("set-require-tcb-up-to-date", "Require an UpToDate TCB status (true) or not (false)"), app, str("value", "true or false"), sending)
    .setAction(() => import("./actions/set-require-tcb-up-to-date.js"))
    .build(),
  apply(task("disable-upgrades", "Freeze an app's implementation FOR EVER (irreversible; needs --yes)"), app, flag("yes", "Confirm the irreversible change"), sending)
    .setAction(() => import("./actions/disable-upgrades.js"))
    .build(),
  apply(
    task("upgrade-app", "Upgrade an app proxy to a new implementation"),
    app,
    str("implementation", "Address of the new implementation"),
    flag("deployImplementation", "Deploy this project's DstackApp as the new implementation first"),
    str("callData", "Calldata for upgradeToAndCall (default: none)"),
    sending,
  ).setAction(() => import("./actions/upgrade-app.js")).build(),
  apply(
    task("transfer-ownership", "Start a two-step ownership transfer of an app or KMS (the new owner must accept)"),
    app,
    kms,
    str("to", "The new owner (a Safe, a timelock, …)"),
    flag("toEoa", "Allow a new owner without code (an externally owned account)"),
    sending,
  ).setAction(() => import("./actions/transfer-ownership.js")).build(),
  apply(task("accept-ownership", "Accept a pending ownership transfer of an app or KMS (sent by the pending owner)"), app, kms, sending)
    .setAction(() => import("./actions/accept-ownership.js"))
    .build(),

  apply(
    task("verify-attestation", "Verify a dstack CVM attestation end to end and link it to the on-chain allowlist"),
    str("bundle", "A recorded attestation (JSON: quote, event_log, app_compose/tcb_info, …; guest-agent and /attestation+/info shapes accepted)"),
    str("url", "A live CVM's base URL: fetched with a fresh random nonce as report data"),
    str("endpointStyle", "With --url: phala (/attestation + /info, default) or guest-agent (/quote + /prpc/Info)"),
    str("appCompose", "The exact app-compose.json the CVM booted, when the attestation does not carry it"),
    str("nonce", "Expected report data prefix (hex)"),
    str("reportData", "Expected report data, exactly (hex, zero-padded to 64 bytes)"),
    str("reportDataSha256Of", "Expect report data = SHA-256 of this file's bytes (then 32 zero bytes)"),
    str("expectedMeasurements", "A JSON file with reference MRTD / RTMR0-2 values ({mrtd, rtmr0, rtmr1, rtmr2})"),
    app,
    str("kms", "Also check registration and the OS image on this DstackKms"),
    str("rpcUrl", "Read the chain through this JSON-RPC URL instead of --network"),
    str("collateral", "Intel collateral (dcap-qvl JSON) for an offline signature check"),
    str("pccsUrl", "Fetch collateral from this PCCS (default: Phala's)"),
    flag("intelPcs", "Fetch collateral from Intel's PCS instead of Phala's PCCS"),
    str("collateralCache", "Collateral cache folder (default ~/.cache/dstack-governance/collateral)"),
    str("now", "Check the signature and collateral at this time (unix seconds)"),
    str("acceptTcbStatus", "Comma-separated TCB statuses to accept (default UpToDate)"),
    flag("phalaApi", "Check the quote signature with Phala Cloud's verification API instead of locally"),
    str("phalaApiUrl", "With --phala-api: the verification API URL"),
    flag("skipQuoteSignature", "Do not check the quote signature (explicitly offline)"),
    flag("skipOnchain", "Do not read the chain (explicitly offline)"),
    flag("requireMrConfigId", "Fail when MRCONFIGID does not bind the compose-hash (dstack >= 0.5.1)"),
    str("html", "Also write a self-contained HTML report (verdict, checks with evidence, RTMR3 events, images) to this file"),
    json,
  ).setAction(() => import("./actions/verify-attestation.js")).build(),

  apply(task("kms-info", "Show a KMS's owner, implementation, app implementation, gateway app id and KMS info"), kms, json)
    .setAction(() => import("./actions/kms-info.js"))
    .build(),
  bytes32Task("add-os-image", "Allow OS image hashes on a KMS", kms, "image", "OS image hashes, comma-separated", "add-os-image"),
  bytes32Task("remove-os-image", "Stop allowing OS image hashes on a KMS", kms, "image", "OS image hashes, comma-separated", "remove-os-image"),
  bytes32Task("add-kms-mr", "Allow aggregated MRs for the KMS itself", kms, "mr", "Aggregated MRs, comma-separated", "add-kms-mr"),
  bytes32Task("remove-kms-mr", "Stop allowing aggregated MRs for the KMS", kms, "mr", "Aggregated MRs, comma-separated", "remove-kms-mr"),
  bytes32Task("add-kms-device", "Allow devices for the KMS itself", kms, "device", "Device ids, comma-separated", "add-kms-device"),
  bytes32Task("remove-kms-device", "Stop allowing devices for the KMS", kms, "device", "Device ids, comma-separated", "remove-kms-device"),
  apply(task("register-app", "Register an app contract with a KMS (permissionless)"), kms, app, sending)
    .setAction(() => import("./actions/register-app.js"))
    .build(),
  apply(task("set-app-implementation", "Set the DstackApp implementation the KMS factory deploys"), kms, str("implementation", "Address of the implementation"), sending)
    .setAction(() => import("./actions/set-app-implementation.js"))
    .build(),
  apply(task("set-gateway-app-id", "Set the KMS's gateway app id"), kms, str("gatewayAppId", "The gateway app id"), sending)
    .setAction(() => import("./actions/set-gateway-app-id.js"))
    .build(),
  apply(
    task("set-kms-info", "Publish the KMS's keys, quote and event log on the KMS contract"),
    kms,
    str("k256Pubkey", "The KMS root secp256k1 public key (hex)"),
    str("caPubkey", "The KMS CA public key (hex)"),
    str("quote", "The KMS CVM's quote: hex, or a file holding hex or raw bytes"),
    str("eventlog", "The KMS CVM's event log: a file (its bytes are stored)"),
    sending,
  ).setAction(() => import("./actions/set-kms-info.js"))
    .build(),
  ...monitoringTasks,
  ...governanceTasks,
];
