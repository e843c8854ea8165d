import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";

import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import type { Address, Hex, PublicClient } from "viem";

import { parseHexBytes, toHex } from "../../src/util/hex.js";
import { parseAddress } from "./args.js";
import type { CommandResult } from "./output.js";

import { toRpcError } from "../../src/chain/errors.js";
import { assertSafeUpgrade, namespacedInput, storageLayoutOf, type BuiltContract, type CompilerBuild, type LayoutReference } from "../../src/upgrade/upgrade-safety.js";
import { UPSTREAM_DSTACK_APP_LAYOUT, UPSTREAM_DSTACK_KMS_LAYOUT } from "../../src/upgrade/upstream-layouts.js";
import { InvalidInputError } from "../../src/util/errors.js";

type Artifacts = HardhatRuntimeEnvironment["artifacts"];

const require = createRequire(import.meta.url);

export type ProxyKind = "app" | "kms";

const UPSTREAM: Record<ProxyKind, LayoutReference> = {
  app: { name: "upstream dstack DstackApp", layout: UPSTREAM_DSTACK_APP_LAYOUT },
  kms: { name: "upstream dstack DstackKms", layout: UPSTREAM_DSTACK_KMS_LAYOUT },
};

/** What `--reference` accepts besides a contract name. */
export const UPSTREAM_REFERENCE = "upstream";

interface CompiledContract extends BuiltContract {
  name: string;
  deployedBytecode: Hex;
  immutableReferences: Record<string, Array<{ start: number; length: number }>>;
}

/**
 * Compiles a build's namespaced input (OpenZeppelin's way to learn the slots inside ERC-7201
 * namespaces) with the `solc` package this project compiles with (hardhat.config.ts). A
 * build made by another compiler version is refused rather than checked less thoroughly.
 */
function compileNamespaced(build: CompilerBuild): CompilerBuild["output"] {
  const solc = require("solc") as { version(): string; compile(input: string): string };
  if (!solc.version().startsWith(`${build.solcVersion}+`)) {
    throw new InvalidInputError(`--contract: the upgrade check needs solc ${build.solcVersion} (the build's compiler); the solc package is ${solc.version()}`);
  }
  const output = JSON.parse(solc.compile(JSON.stringify(namespacedInput(build)))) as CompilerBuild["output"] & { errors?: Array<{ severity: string; formattedMessage: string }> };
  const errors = (output.errors ?? []).filter((error) => error.severity === "error");
  if (errors.length > 0) {
    throw new InvalidInputError("--contract: the namespaced compilation for the upgrade check failed", { details: errors.map((error) => error.formattedMessage).join("\n") });
  }
  return output;
}

// Build ids are content hashes, so a cached build never goes stale; one object per build
// also lets the validator's per-build cache work across contracts.
const builds = new Map<string, Promise<CompilerBuild>>();

function readBuild(id: string, inputPath: string, outputPath: string): Promise<CompilerBuild> {
  let build = builds.get(id);
  if (build === undefined) {
    build = (async () => {
      const { solcVersion, input } = JSON.parse(await readFile(inputPath, "utf8")) as { solcVersion: string; input: CompilerBuild["input"] };
      const { output } = JSON.parse(await readFile(outputPath, "utf8")) as { output: CompilerBuild["output"] };
      return { solcVersion, input, output, namespacedOutput: compileNamespaced({ solcVersion, input, output }) };
    })();
    builds.set(id, build);
    build.catch(() => builds.delete(id));
  }
  return build;
}

/** Reads a contract of this project's compilation (Hardhat 3 build info: input and output are two files). */
export async function compiledContract(artifacts: Artifacts, name: string, flag: string): Promise<CompiledContract> {
  if (!(await artifacts.artifactExists(name))) {
    throw new InvalidInputError(`${flag}: no compiled contract named ${name} in this project (run the build, or give a fully qualified name)`);
  }
  const artifact = await artifacts.readArtifact(name);
  const buildInfoId = artifact.buildInfoId;
  const inputPath = buildInfoId === undefined ? undefined : await artifacts.getBuildInfoPath(buildInfoId);
  const outputPath = buildInfoId === undefined ? undefined : await artifacts.getBuildInfoOutputPath(buildInfoId);
  if (inputPath === undefined || outputPath === undefined) {
    throw new InvalidInputError(`${flag}: the build info of ${name} is missing; run the build again`);
  }
  return {
    name: artifact.contractName,
    build: await readBuild(buildInfoId!, inputPath, outputPath),
    fullyQualifiedName: `${artifact.inputSourceName ?? artifact.sourceName}:${artifact.contractName}`,
    deployedBytecode: artifact.deployedBytecode as Hex,
    immutableReferences: (artifact.immutableReferences ?? {}) as CompiledContract["immutableReferences"],
  };
}

/** Runtime code with the immutable values (set by the constructor, e.g. UUPS's own address) zeroed. */
function maskImmutables(code: Hex, references: CompiledContract["immutableReferences"]): string {
  const hex = code.slice(2).toLowerCase().split("");
  for (const ranges of Object.values(references)) {
    for (const { start, length } of ranges) hex.fill("0", start * 2, (start + length) * 2);
  }
  return hex.join("");
}

function isCodeOf(code: Hex, contract: CompiledContract): boolean {
  return code.length === contract.deployedBytecode.length && maskImmutables(code, contract.immutableReferences) === maskImmutables(contract.deployedBytecode, contract.immutableReferences);
}

async function codeAt(client: PublicClient, address: Address): Promise<Hex> {
  const code = await client.getCode({ address }).catch((error: unknown) => {
    throw toRpcError(client, "eth_getCode", error);
  });
  return code ?? "0x";
}

/** The contract of this project whose compiled runtime code is the code at `address`, if any. */
async function identify(artifacts: Artifacts, client: PublicClient, address: Address): Promise<CompiledContract | undefined> {
  const code = await codeAt(client, address);
  if (code === "0x") return undefined;
  for (const name of await artifacts.getAllFullyQualifiedNames()) {
    const artifact = await artifacts.readArtifact(name);
    if (artifact.deployedBytecode.length !== code.length) continue;
    const contract = await compiledContract(artifacts, name, "--contract");
    if (isCodeOf(code, contract)) return contract;
  }
  return undefined;
}

/**
 * The layout the new implementation must keep: `--reference upstream` (upstream dstack's
 * recorded layout), `--reference NAME` (a contract of this project), or by default the
 * contract of this project whose code is the current implementation's. An implementation
 * that cannot be identified is an error, never a pass.
 */
export async function resolveReference(
  artifacts: Artifacts,
  client: PublicClient,
  kind: ProxyKind,
  currentImplementation: Address,
  reference: string | undefined,
): Promise<LayoutReference> {
  if (reference === UPSTREAM_REFERENCE) return UPSTREAM[kind];
  if (reference !== undefined) {
    const contract = await compiledContract(artifacts, reference, "--reference");
    return { name: contract.name, layout: storageLayoutOf(contract) };
  }
  const current = await identify(artifacts, client, currentImplementation);
  if (current === undefined) {
    throw new InvalidInputError(
      `--reference: the current implementation ${currentImplementation} is none of this project's compiled contracts, so its storage layout is unknown; pass --reference ${UPSTREAM_REFERENCE} (upstream dstack's ${kind === "app" ? "DstackApp" : "DstackKms"}) or --reference CONTRACT`,
    );
  }
  return { name: current.name, layout: storageLayoutOf(current) };
}

/**
 * The new implementation's compiled contract: `--contract NAME` (its code at `address`
 * must be that contract's, when an address is given) or the contract of this project
 * whose code is at `address`.
 */
export async function resolveCandidate(artifacts: Artifacts, client: PublicClient, contractName: string | undefined, address?: Address): Promise<CompiledContract> {
  if (contractName !== undefined) {
    const contract = await compiledContract(artifacts, contractName, "--contract");
    if (address !== undefined && !isCodeOf(await codeAt(client, address), contract)) {
      throw new InvalidInputError(`--contract: the code at ${address} is not ${contract.name} as compiled in this project`);
    }
    return contract;
  }
  if (address === undefined) throw new InvalidInputError("--contract: name the contract to deploy");
  const found = await identify(artifacts, client, address);
  if (found === undefined) {
    throw new InvalidInputError(
      `--implementation: the code at ${address} is none of this project's compiled contracts, so its upgrade safety cannot be checked; compile its source here and pass --contract NAME`,
    );
  }
  return found;
}

export interface UpgradeCheck {
  reference: string;
  candidate: string;
  validator: string;
}

/** Refuses (UnsafeUpgradeError, exit 1) an implementation that OpenZeppelin's validator rejects. */
export function checkUpgrade(reference: LayoutReference, candidate: CompiledContract): UpgradeCheck {
  assertSafeUpgrade(reference, candidate, candidate.name);
  return { reference: reference.name, candidate: candidate.name, validator: "@openzeppelin/upgrades-core" };
}

export function upgradeCheckLine(check: UpgradeCheck): string {
  return `✔ upgrade check (${check.validator}): ${check.candidate} is upgrade-safe and keeps the storage layout of ${check.reference}`;
}

/** The options upgrade-app and upgrade-kms share, parsed before the chain is touched. */
export interface UpgradeOptions {
  implementation?: string;
  deployImplementation: boolean;
  callData?: string;
  dryRun: boolean;
}

/** The new implementation's address (undefined: deploy one) and the upgrade call data. */
export function parseUpgradeOptions(args: UpgradeOptions): { given: Address | undefined; callData: Hex } {
  if ((args.implementation === undefined) === !args.deployImplementation) {
    throw new InvalidInputError("give exactly one of --implementation ADDRESS or --deploy-implementation");
  }
  const callData: Hex = args.callData === undefined ? "0x" : toHex(parseHexBytes(args.callData, "--call-data"));
  const given = args.implementation === undefined ? undefined : parseAddress(args.implementation, "--implementation");
  if (given === undefined && args.dryRun) {
    throw new InvalidInputError(
      "--deploy-implementation cannot be combined with --dry-run (the implementation would have to be deployed); deploy it first and pass --implementation",
    );
  }
  return { given, callData };
}

/** Adds the check (and the deployment, when there was one) to an upgrade task's result. */
export function withUpgradeReport(
  result: CommandResult,
  upgradeCheck: UpgradeCheck | undefined,
  deployed: { address: Address; transactionHash: Hex; gasUsed: bigint } | undefined,
): CommandResult {
  const checked = upgradeCheck === undefined ? result : { ...result, data: { ...result.data, upgradeCheck }, lines: [upgradeCheckLine(upgradeCheck), ...result.lines] };
  if (deployed === undefined) return checked;
  return {
    ...checked,
    data: { ...checked.data, deployedImplementation: deployed },
    lines: [`✔ deployed ${upgradeCheck?.candidate} implementation ${deployed.address}`, `  tx ${deployed.transactionHash}, gas used ${deployed.gasUsed}`, ...checked.lines],
  };
}
