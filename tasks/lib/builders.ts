import { ArgumentType, type ArgumentTypeToValueType } from "hardhat/types/arguments";
import type { NewTaskDefinitionBuilder, TaskArguments } from "hardhat/types/tasks";

/**
 * Typed task declarations. An option is declared as data (`OptionSpec`: its name, type and
 * default), and `apply` adds a list of them to a task builder whose type records each
 * option's name and value type. `setAction(() => import("./actions/x.js"))` then checks the
 * action against that record: an action that reads an option the task does not declare,
 * or with another type (a flag read as a string), fails the typecheck.
 *
 * Counts and booleans that take a value (`--value true`, `--from-block 12`) stay string
 * options parsed by the action (see `args.ts`): Hardhat's own INT/BIGINT/BOOLEAN parsing
 * fails before the action runs, with exit code 1 and a message naming the camel-case option
 * (`HHE500: Invalid value "x" for argument "fromBlock"`), where every task answers bad input
 * with exit code 2 and a message naming the flag (and `--json` prints it as JSON).
 */

/** One option of a task, as Hardhat declares it. `NameT` and `TypeT` give the action's argument. */
export interface OptionSpec<NameT extends string = string, TypeT extends ArgumentType = ArgumentType> {
  name: NameT;
  description: string;
  type: TypeT;
  defaultValue: ArgumentTypeToValueType<TypeT>;
  /** Accepted but not listed by `--help` (an alias `--help` cannot print, see verify-attestation). */
  hidden?: boolean;
}

/** The arguments an action receives for these options: each option's name and value type. */
export type ArgsOf<Options extends readonly OptionSpec[]> = {
  [Option in Options[number] as Option["name"]]: ArgumentTypeToValueType<Option["type"]>;
};

/** Adds options to a task builder (Hardhat's `task(…)`), in order; its type gains them. */
export function apply<Args extends TaskArguments, const Options extends readonly OptionSpec[]>(
  builder: NewTaskDefinitionBuilder<Args>,
  ...options: Options
): NewTaskDefinitionBuilder<Args & ArgsOf<Options>> {
  // Hardhat's builder changes type with every option; added one at a time, it is typed
  // loosely here and given the combined type once all are added.
  let loose: NewTaskDefinitionBuilder = builder;
  for (const option of options) {
    loose =
      option.type === ArgumentType.FLAG
        ? loose.addFlag({ name: option.name, description: option.description, ...(option.hidden === undefined ? {} : { hidden: option.hidden }) })
        : loose.addOption(option);
  }
  return loose as NewTaskDefinitionBuilder<Args & ArgsOf<Options>>;
}

/** An optional string option (the action parses and checks it, naming the flag in errors). */
export const str = <NameT extends string>(name: NameT, description: string): OptionSpec<NameT, ArgumentType.STRING_WITHOUT_DEFAULT> => ({
  name,
  description,
  type: ArgumentType.STRING_WITHOUT_DEFAULT,
  defaultValue: undefined,
});

/** An optional file path (shown as a file in `--help`; the action reads it). */
export const file = <NameT extends string>(name: NameT, description: string): OptionSpec<NameT, ArgumentType.FILE_WITHOUT_DEFAULT> => ({
  name,
  description,
  type: ArgumentType.FILE_WITHOUT_DEFAULT,
  defaultValue: undefined,
});

/** A file option kept working under a documented spelling that `--help` cannot print (see reportDataSha256Of). */
export const hiddenFile = <NameT extends string>(name: NameT, description: string): OptionSpec<NameT, ArgumentType.FILE_WITHOUT_DEFAULT> => ({
  ...file(name, description),
  hidden: true,
});

/** A boolean flag: `true` when given, `false` otherwise. */
export const flag = <NameT extends string>(name: NameT, description: string): OptionSpec<NameT, ArgumentType.FLAG> => ({
  name,
  description,
  type: ArgumentType.FLAG,
  defaultValue: false,
});

/** A whole number with a default, parsed by Hardhat (see the note at the top of this file for why counts are rarely this). */
export const int = <NameT extends string>(name: NameT, description: string, defaultValue: number): OptionSpec<NameT, ArgumentType.INT> => ({
  name,
  description,
  type: ArgumentType.INT,
  defaultValue,
});

/** `--json`: every task can print one machine-readable document. */
export const json = flag("json", "Print one JSON document instead of text");

// Route options shared by every routed task: the Safe ones…
const safeRouteOptions = [
  str("via", "How the change is made: direct (default), safe, timelock, or safe,timelock"),
  str("safe", "With --via safe / safe,timelock: the Safe that owns the contract (or proposes on the timelock)"),
  str("safeNonce", "Safe routes: propose at this Safe nonce (default: the Safe's current nonce)"),
  file("proposalOut", "Safe routes: where to write the signed proposal (default safe-tx-<safeTxHash>.json)"),
  file("exportTxBuilder", "Safe routes: also write a Safe{Wallet} Transaction Builder batch file"),
  str("proposeToService", "Safe routes: also post the proposal to this Safe transaction service URL (key: SAFE_API_KEY)"),
  file("safeContracts", "Safe routes: JSON of the Safe contract addresses per chain id (local chains; see deploy-safe-contracts)"),
];
// …and the timelock ones.
const timelockRouteOptions = [
  str("timelock", "With --via timelock / safe,timelock: the TimelockController that owns the contract"),
  str("salt", "Timelock routes: the operation's salt (bytes32; default random, written to the outputs)"),
  str("predecessor", "Timelock routes: an operation that must be executed first (bytes32 id; default none)"),
  str("delay", "Timelock routes: the delay (seconds or 1d, 12h…; default and minimum: the timelock's minimum delay)"),
  file("operationOut", "--via timelock: where to write the scheduled operation (default timelock-op-<id>.json)"),
];

const sendBasics = [
  json,
  flag("dryRun", "Validate and simulate, print the calldata, send nothing"),
  str("from", "Sign with this configured account (default: the network's first account)"),
];

/**
 * The options of every state-changing task: `--json`, `--dry-run`, `--from`, and the
 * governance route — send directly (default), write a Safe proposal, schedule on a
 * timelock, or a Safe proposal that schedules on a timelock. Parsed by
 * `src/governance/route.ts`, dispatched by `tasks/lib/apply-plan.ts`.
 */
export const sending = [...sendBasics, ...safeRouteOptions, ...timelockRouteOptions];
export type SendingArgs = ArgsOf<typeof sending>;

/** `sending` without the timelock route options: for tasks that act on a timelock themselves (their `--timelock` is the target). */
export const sendingDirectOrSafe = [...sendBasics, ...safeRouteOptions];
export type SendingDirectOrSafeArgs = ArgsOf<typeof sendingDirectOrSafe>;
