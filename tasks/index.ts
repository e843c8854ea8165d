import { task } from "hardhat/config";
import type { TaskDefinition } from "hardhat/types/tasks";

import { governanceTasks } from "./governance-tasks.js";
import { apply, file, flag, hiddenFile, json, sending, str, type OptionSpec } from "./lib/builders.js";
import { composeBuildOptions, hashSourceOptions } from "./lib/compose-options.js";
import { monitoringTasks } from "./monitoring-tasks.js";

/**
 * Every task of the toolkit, declared in one place. Each action lives in its own file
 * under `tasks/actions/` and is imported lazily, so `npx hardhat --help` stays fast and
 * loads no verifier or chain client code; the import is a literal path, so the action's
 * argument type is checked against the declared options (see `lib/builders.ts`). Every
 * task takes `--json`; state-changing tasks also take `--dry-run` (simulate and print
 * calldata, send nothing) and `--from`.
 *
 * Help texts: a description starts with "(required)" when the task cannot run without the
 * option, and names the value's shape in capitals (FILE, ADDRESS, 0xHASH); each task's
 * description ends with one example command.
 */

const app = str("app", "(required) ADDRESS of the DstackApp (proxy)");
const kms = str("kms", "(required) ADDRESS of the DstackKms (proxy)");
const example = (description: string, command: string) => `${description}. Example: npx hardhat ${command}`;

// The upgrade check (OpenZeppelin upgrades-core, from build info) of upgrade-app and upgrade-kms.
const upgradeCheckOptions = (defaultContract: string) => [
  str("contract", `The new implementation's contract in this project (default: ${defaultContract} when deploying; found by its code otherwise)`),
  str("reference", "The current implementation's layout: upstream (upstream dstack's, recorded) or a contract name (default: found by its code)"),
];

/** A task that adds or removes bytes32 values on an allowlist: the target, one comma-separated value option, the sending options. */
const bytes32Task = <TargetT extends OptionSpec, ValueT extends string>(name: string, description: string, target: TargetT, option: ValueT, optionDescription: string) =>
  apply(task(name, description), target, str(option, optionDescription), ...sending);

export const tasks: TaskDefinition[] = [
  apply(
    task(
      "compose-hash",
      example(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: `${VARS}` is literal help text naming docker-compose variable syntax
        "Compute the compose hash of an app-compose.json, or build one from a docker-compose.yaml; warns about unpinned images, kms_enabled false and ${VARS} not in allowed_envs",
        "compose-hash --docker-compose docker-compose.yaml --kms-enabled --out app-compose.json --require-pinned",
      ),
    ),
    file("appCompose", "FILE: an existing app-compose.json: its exact bytes are hashed (unless --serialization); give this or --docker-compose"),
    ...composeBuildOptions,
    flag("requirePinned", "Fail (exit 1, --out not written) unless every service image is pinned by @sha256 digest"),
    json,
  ).setAction(() => import("./actions/compose-hash.js")).build(),

  apply(
    task("deploy-kms", example("Deploy a DstackKms behind an ERC1967 proxy (and, by default, a DstackApp implementation for its factory)", "deploy-kms --network sepolia")),
    str("owner", "ADDRESS of the KMS owner (default: the signer)"),
    str("appImplementation", "ADDRESS of an existing DstackApp implementation for the factory"),
    flag("noAppImplementation", "Deploy no app implementation (set one later with set-app-implementation)"),
    str("saveAs", "Record the KMS under this name in deployments/chain-<id>/deployments.json (default kms-<n>); later --kms <name>"),
    json,
    str("from", "Sign with this configured account"),
  ).setAction(() => import("./actions/deploy-kms.js")).build(),

  apply(
    task("deploy-app", example("Deploy a DstackApp: its own proxy, or through a KMS factory with --kms (which also registers it)", "deploy-app --kms 0xKms --allow-any-device --network sepolia")),
    str("kms", "ADDRESS of a DstackKms whose factory deploys (and registers) the app"),
    str("owner", "ADDRESS of the app owner (default: the signer)"),
    str("composeHash", "0xHASH: a compose hash to allow from the start"),
    str("device", "0xID: a device id to allow from the start"),
    flag("allowAnyDevice", "Allow any device (no device restriction)"),
    flag("requireTcbUpToDate", "Only platforms whose TCB status is UpToDate may boot"),
    flag("disableUpgrades", "Freeze the implementation for ever (needs --yes)"),
    flag("yes", "Confirm an irreversible choice such as --disable-upgrades"),
    str("saveAs", "Record the app under this name in deployments/chain-<id>/deployments.json (default app-<n>); later --app <name>"),
    json,
    str("from", "Sign with this configured account"),
  ).setAction(() => import("./actions/deploy-app.js")).build(),

  apply(
    task(
      "add-compose-hash",
      example(
        "Allow compose hashes on an app (several go in one batch transaction); an app-compose given as a file is checked like compose-hash first",
        "add-compose-hash --app 0xApp --app-compose app-compose.json --require-pinned --network sepolia",
      ),
    ),
    app,
    ...hashSourceOptions,
    ...composeBuildOptions,
    flag("requirePinned", "Refuse (exit 1, nothing sent, --out not written) unless every image of the app-compose is pinned by @sha256 digest"),
    ...sending,
  )
    .setAction(() => import("./actions/add-compose-hash.js"))
    .build(),
  apply(task("remove-compose-hash", example("Remove compose hashes from an app's allowlist", "remove-compose-hash --app 0xApp --hash 0xOldHash --network sepolia")), app, ...hashSourceOptions, ...composeBuildOptions, ...sending)
    .setAction(() => import("./actions/remove-compose-hash.js"))
    .build(),
  apply(task("check-compose-hash", example("Is this compose hash allowed? Exit code 0 when allowed, 1 when not", "check-compose-hash --app 0xApp --app-compose app-compose.json --network sepolia")), app, ...hashSourceOptions, ...composeBuildOptions, json)
    .setAction(() => import("./actions/check-compose-hash.js"))
    .build(),
  apply(
    task("list-compose-hashes", example("Rebuild an app's allowlist and its history from events, cross-checked with the contract", "list-compose-hashes --app 0xApp --network sepolia")),
    app,
    str("fromBlock", "First block to scan (default: the app's deployment block, found by binary search)"),
    str("toBlock", "Last block to scan (default: latest)"),
    str("chunkSize", "Initial eth_getLogs block range (default 2000; adapts to the RPC's limit)"),
    flag("quiet", "No progress on stderr"),
    json,
  ).setAction(() => import("./actions/list-compose-hashes.js")).build(),
  apply(
    task("tx-status", example("Transactions sent and not seen mined (left by an interrupted run), or one --hash: their state; --wait for the outcome", "tx-status --network sepolia --wait")),
    str("hash", "One transaction hash (default: every journaled pending transaction of this chain)"),
    flag("wait", "Wait for pending transactions to be mined (exit 0 success, 1 reverted/replaced, 3 still pending)"),
    json,
  ).setAction(() => import("./actions/tx-status.js")).build(),
  apply(task("app-info", example("Show an app's owner, pending owner, implementation, version, flags and interfaces", "app-info --app 0xApp --network sepolia")), app, json)
    .setAction(() => import("./actions/app-info.js"))
    .build(),

  bytes32Task("add-device", example("Allow device ids on an app", "add-device --app 0xApp --device 0xDeviceId --network sepolia"), app, "device", "(required) 0xID[,0xID…]: device ids (0x + 64 hex digits each)")
    .setAction(() => import("./actions/add-device.js"))
    .build(),
  bytes32Task("remove-device", example("Stop allowing device ids on an app", "remove-device --app 0xApp --device 0xDeviceId --network sepolia"), app, "device", "(required) 0xID[,0xID…]: device ids")
    .setAction(() => import("./actions/remove-device.js"))
    .build(),
  apply(task("set-allow-any-device", example("Switch the app's device restriction off (true) or on (false)", "set-allow-any-device --app 0xApp --value false --network sepolia")), app, str("value", "(required) true or false"), ...sending)
    .setAction(() => import("./actions/set-allow-any-device.js"))
    .build(),
  apply(task("set-require-tcb-up-to-date", example("Require an UpToDate TCB status (true) or not (false)", "set-require-tcb-up-to-date --app 0xApp --value true --network sepolia")), app, str("value", "(required) true or false"), ...sending)
    .setAction(() => import("./actions/set-require-tcb-up-to-date.js"))
    .build(),
  apply(task("disable-upgrades", example("Freeze an app's implementation FOR EVER (irreversible; needs --yes)", "disable-upgrades --app 0xApp --yes --network sepolia")), app, flag("yes", "Confirm the irreversible change"), ...sending)
    .setAction(() => import("./actions/disable-upgrades.js"))
    .build(),
  apply(
    task("upgrade-app", example("Upgrade an app proxy to a new implementation", "upgrade-app --app 0xApp --deploy-implementation --network sepolia")),
    app,
    str("implementation", "ADDRESS of the new implementation (or --deploy-implementation)"),
    flag("deployImplementation", "Deploy this project's DstackApp (or --contract) as the new implementation first"),
    ...upgradeCheckOptions("DstackApp"),
    str("callData", "0xDATA: calldata for upgradeToAndCall (default: none)"),
    ...sending,
  ).setAction(() => import("./actions/upgrade-app.js")).build(),
  apply(
    task("upgrade-kms", example("Upgrade a KMS proxy to a new implementation (storage layout and upgrade safety checked first)", "upgrade-kms --kms 0xKms --deploy-implementation --network sepolia")),
    str("kms", "(required) ADDRESS of the DstackKms"),
    str("implementation", "ADDRESS of the new implementation (or --deploy-implementation)"),
    flag("deployImplementation", "Deploy this project's DstackKms (or --contract) as the new implementation first"),
    ...upgradeCheckOptions("DstackKms"),
    str("callData", "0xDATA: calldata for upgradeToAndCall (default: none)"),
    ...sending,
  ).setAction(() => import("./actions/upgrade-kms.js")).build(),
  apply(
    task("transfer-ownership", example("Start a two-step ownership transfer of an app or KMS (the new owner must accept)", "transfer-ownership --app 0xApp --to 0xSafe --network sepolia")),
    str("app", "ADDRESS of the DstackApp (give this or --kms)"),
    str("kms", "ADDRESS of the DstackKms (give this or --app)"),
    str("to", "(required) ADDRESS of the new owner (a Safe, a timelock, …)"),
    flag("toEoa", "Allow a new owner without code (an externally owned account)"),
    ...sending,
  ).setAction(() => import("./actions/transfer-ownership.js")).build(),
  apply(
    task("accept-ownership", example("Accept a pending ownership transfer of an app or KMS (sent by the pending owner)", "accept-ownership --app 0xApp --from 0xNewOwner --network sepolia")),
    str("app", "ADDRESS of the DstackApp (give this or --kms)"),
    str("kms", "ADDRESS of the DstackKms (give this or --app)"),
    ...sending,
  )
    .setAction(() => import("./actions/accept-ownership.js"))
    .build(),

  apply(
    task(
      "verify-attestation",
      example(
        "Verify a dstack CVM attestation end to end and link it to the on-chain allowlist",
        "verify-attestation --url https://my-app.example.com --app 0xApp --network sepolia",
      ),
    ),
    file("bundle", "FILE: a recorded attestation (JSON: quote, event_log, app_compose/tcb_info, …; guest-agent and /attestation+/info shapes accepted); give this or --url"),
    str("url", "URL: a live CVM's base URL, fetched with a fresh random nonce as report data; give this or --bundle"),
    str("endpointStyle", "With --url: phala (/attestation + /info, default) or guest-agent (/quote + /prpc/Info)"),
    file("appCompose", "FILE: the exact app-compose.json the CVM booted, when the attestation does not carry it"),
    str("nonce", "HEX: expected report data prefix"),
    str("reportData", "HEX: expected report data, exactly (zero-padded to 64 bytes)"),
    file("reportDataHashOf", "FILE: expect report data = SHA-256 of this file's bytes (then 32 zero bytes); also spelt --report-data-sha256-of"),
    hiddenFile("reportDataSha256Of", "The README's spelling of --report-data-hash-of (Hardhat's help cannot print a flag with digits)"),
    file("expectedMeasurements", "FILE: JSON with reference MRTD / RTMR0-2 values ({mrtd, rtmr0, rtmr1, rtmr2})"),
    str("app", "ADDRESS of the DstackApp to check against (default: the attestation's app-id)"),
    str("kms", "ADDRESS of a DstackKms: also check registration and the OS image"),
    str("rpcUrl", "URL: read the chain through this JSON-RPC endpoint instead of --network"),
    file("collateral", "FILE: Intel collateral (dcap-qvl JSON) for an offline signature check"),
    file("testRootCa", "FILE: TESTING ONLY: trust this root CA (DER or PEM) instead of Intel's, e.g. the test CA of examples/attestation/; never for a real CVM"),
    str("pccsUrl", "Fetch collateral from this PCCS (default: Phala's)"),
    flag("intelPcs", "Fetch collateral from Intel's PCS instead of Phala's PCCS"),
    str("collateralCache", "Collateral cache folder (default ~/.cache/dstack-governance/collateral)"),
    str("now", "SECONDS: check the signature and collateral at this unix time"),
    str("acceptTcbStatus", "Comma-separated TCB statuses to accept (default UpToDate)"),
    flag("phalaApi", "Check the quote signature with Phala Cloud's verification API instead of locally"),
    str("phalaApiUrl", "With --phala-api: the verification API URL"),
    flag("skipQuoteSignature", "Do not check the quote signature (explicitly offline)"),
    flag("skipOnchain", "Do not read the chain (explicitly offline)"),
    flag("requireMrConfigId", "Fail when MRCONFIGID does not bind the compose-hash (dstack >= 0.5.1)"),
    file("mrConfigDocument", "FILE: the exact MrConfigV3 document (JSON) a format-03 MRCONFIGID binds, when vm_config does not carry it"),
    file("html", "FILE: also write a self-contained HTML report (verdict, checks with evidence, RTMR3 events, images) to it"),
    json,
  ).setAction(() => import("./actions/verify-attestation.js")).build(),

  apply(task("kms-info", example("Show a KMS's owner, implementation, app implementation, gateway app id and KMS info", "kms-info --kms 0xKms --network sepolia")), kms, json)
    .setAction(() => import("./actions/kms-info.js"))
    .build(),
  bytes32Task("add-os-image", example("Allow OS image hashes on a KMS", "add-os-image --kms 0xKms --image 0xOsImageHash --network sepolia"), kms, "image", "(required) 0xHASH[,0xHASH…]: OS image hashes")
    .setAction(() => import("./actions/add-os-image.js"))
    .build(),
  bytes32Task("remove-os-image", example("Stop allowing OS image hashes on a KMS", "remove-os-image --kms 0xKms --image 0xOsImageHash --network sepolia"), kms, "image", "(required) 0xHASH[,0xHASH…]: OS image hashes")
    .setAction(() => import("./actions/remove-os-image.js"))
    .build(),
  bytes32Task("add-kms-mr", example("Allow aggregated MRs for the KMS itself", "add-kms-mr --kms 0xKms --mr 0xMr --network sepolia"), kms, "mr", "(required) 0xMR[,0xMR…]: aggregated MRs")
    .setAction(() => import("./actions/add-kms-mr.js"))
    .build(),
  bytes32Task("remove-kms-mr", example("Stop allowing aggregated MRs for the KMS", "remove-kms-mr --kms 0xKms --mr 0xMr --network sepolia"), kms, "mr", "(required) 0xMR[,0xMR…]: aggregated MRs")
    .setAction(() => import("./actions/remove-kms-mr.js"))
    .build(),
  bytes32Task("add-kms-device", example("Allow devices for the KMS itself", "add-kms-device --kms 0xKms --device 0xDeviceId --network sepolia"), kms, "device", "(required) 0xID[,0xID…]: device ids")
    .setAction(() => import("./actions/add-kms-device.js"))
    .build(),
  bytes32Task("remove-kms-device", example("Stop allowing devices for the KMS", "remove-kms-device --kms 0xKms --device 0xDeviceId --network sepolia"), kms, "device", "(required) 0xID[,0xID…]: device ids")
    .setAction(() => import("./actions/remove-kms-device.js"))
    .build(),
  apply(task("register-app", example("Register an app contract with a KMS (permissionless)", "register-app --kms 0xKms --app 0xApp --network sepolia")), kms, app, ...sending)
    .setAction(() => import("./actions/register-app.js"))
    .build(),
  apply(
    task("set-app-implementation", example("Set the DstackApp implementation the KMS factory deploys", "set-app-implementation --kms 0xKms --implementation 0xImpl --network sepolia")),
    kms,
    str("implementation", "(required) ADDRESS of the implementation"),
    ...sending,
  )
    .setAction(() => import("./actions/set-app-implementation.js"))
    .build(),
  apply(task("set-gateway-app-id", example("Set the KMS's gateway app id", "set-gateway-app-id --kms 0xKms --gateway-app-id 0xGatewayApp --network sepolia")), kms, str("gatewayAppId", "(required) ID: the gateway app id"), ...sending)
    .setAction(() => import("./actions/set-gateway-app-id.js"))
    .build(),
  apply(
    task("set-kms-info", example("Publish the KMS's keys, quote and event log on the KMS contract", "set-kms-info --kms 0xKms --k256-pubkey 0x02… --ca-pubkey 0x30… --quote quote.hex --eventlog eventlog.json --network sepolia")),
    kms,
    str("k256Pubkey", "(required) HEX: the KMS root secp256k1 public key"),
    str("caPubkey", "(required) HEX: the KMS CA public key"),
    str("quote", "(required) HEX, or a FILE holding hex or raw bytes: the KMS CVM's quote"),
    file("eventlog", "(required) FILE: the KMS CVM's event log (its bytes are stored)"),
    ...sending,
  ).setAction(() => import("./actions/set-kms-info.js"))
    .build(),
  ...monitoringTasks,
  ...governanceTasks,
];
