import upgradesCore, { type SolcInput, type SolcOutput, type StorageLayout, type ValidationRunData } from "@openzeppelin/upgrades-core";

import { DstackGovernanceError } from "../util/errors.js";

const {
  UpgradeableContractErrorReport,
  getContractVersion,
  getErrors,
  getStorageLayout,
  getStorageUpgradeReport,
  makeNamespacedInput,
  solcInputOutputDecoder,
  validate,
  withValidationDefaults,
} = upgradesCore;

/** One solc compilation: what the compiler was given and what it answered (with `storageLayout` and `ast`). */
export interface CompilerBuild {
  solcVersion: string;
  input: SolcInput;
  output: SolcOutput;
  /**
   * The output of `namespacedInput(input, output)` compiled by the same solc version: it
   * gives the slots and offsets inside ERC-7201 namespaces (OpenZeppelin's own state).
   * Without it namespaces are compared member by member only.
   */
  namespacedOutput?: SolcOutput;
}

/**
 * The solc input whose compilation (`storageLayout` and `ast` only: no code generation)
 * is a build's `namespacedOutput`.
 */
export function namespacedInput(build: Pick<CompilerBuild, "input" | "output" | "solcVersion">): SolcInput {
  return makeNamespacedInput(build.input, build.output, build.solcVersion);
}

/** A contract of a compilation, by its fully qualified name (`source:Contract`). */
export interface BuiltContract {
  build: CompilerBuild;
  fullyQualifiedName: string;
}

/** The storage layout the new implementation is compared with, and what it is called in messages. */
export interface LayoutReference {
  name: string;
  layout: StorageLayout;
}

/** The new implementation is not upgrade-safe, or its storage layout breaks the current one's. */
export class UnsafeUpgradeError extends DstackGovernanceError {
  override name = "UnsafeUpgradeError";
  /** What OpenZeppelin's validator reported, one finding per line group. */
  readonly findings: string;
  constructor(message: string, findings: string) {
    super("UNSAFE_UPGRADE", message, { details: findings });
    this.findings = findings;
  }
}

// Validating a compilation walks every AST; one run per build serves every contract in it.
const runs = new WeakMap<CompilerBuild, ValidationRunData>();

function validationRun(build: CompilerBuild): ValidationRunData {
  let run = runs.get(build);
  if (run === undefined) {
    run = validate(build.output, solcInputOutputDecoder(build.input, build.output), build.solcVersion, build.input, build.namespacedOutput);
    runs.set(build, run);
  }
  return run;
}

/** The storage layout of a compiled contract, as OpenZeppelin's validator extracts it. */
export function storageLayoutOf(contract: BuiltContract): StorageLayout {
  const run = validationRun(contract.build);
  return getStorageLayout([run], getContractVersion(run, contract.fullyQualifiedName));
}

/**
 * Checks, from build info alone, that `candidate` may replace an implementation whose
 * storage layout is `reference` behind a UUPS proxy: OpenZeppelin's upgrade-safety rules
 * (no constructor state, no delegatecall or selfdestruct, a public upgrade function, …,
 * with the contract's `@custom:oz-upgrades-unsafe-allow` annotations honoured) and its
 * storage-layout comparison. Throws `UnsafeUpgradeError` with the validator's findings.
 * @returns the validator's layout report (empty when nothing changed)
 */
export function assertSafeUpgrade(reference: LayoutReference, candidate: BuiltContract, candidateName: string): { layoutReport: string } {
  const run = validationRun(candidate.build);
  const version = getContractVersion(run, candidate.fullyQualifiedName);
  const options = withValidationDefaults({ kind: "uups" });
  const errors = getErrors([run], version, options);
  if (errors.length > 0) {
    throw new UnsafeUpgradeError(`${candidateName} is not upgrade-safe (${errors.length} finding${errors.length === 1 ? "" : "s"})`, new UpgradeableContractErrorReport(errors).explain(false));
  }
  const report = getStorageUpgradeReport(reference.layout, getStorageLayout([run], version), options);
  if (!report.ok) {
    throw new UnsafeUpgradeError(`the storage layout of ${candidateName} is incompatible with ${reference.name}'s`, report.explain(false));
  }
  return { layoutReport: report.explain(false) };
}
