import { ArgumentType } from "hardhat/types/arguments";

// The builders' generic types change with every option added; these helpers only add
// options, so they are typed loosely and each action declares its argument types.
export type Builder = any;

/** `--json`: every task can print one machine-readable document. */
export const json = (b: Builder): Builder => b.addFlag({ name: "json", description: "Print one JSON document instead of text" });

/** An optional string option. */
export const str = (name: string, description: string) => (b: Builder): Builder =>
  b.addOption({ name, description, type: ArgumentType.STRING_WITHOUT_DEFAULT, defaultValue: undefined });

/** A boolean flag. */
export const flag = (name: string, description: string) => (b: Builder): Builder => b.addFlag({ name, description });

/** Applies option-adding steps to a task builder, in order. */
export const apply = (b: Builder, ...steps: Array<(b: Builder) => Builder>): Builder => steps.reduce((acc, step) => step(acc), b);

// Route options shared by every routed task: the Safe ones…
const safeRouteOptions = [
  str("via", "How the change is made: direct (default), safe, timelock, or safe,timelock"),
  str("safe", "With --via safe / safe,timelock: the Safe that owns the contract (or proposes on the timelock)"),
  str("safeNonce", "Safe routes: propose at this Safe nonce (default: the Safe's current nonce)"),
  str("proposalOut", "Safe routes: where to write the signed proposal (default safe-tx-<safeTxHash>.json)"),
  str("exportTxBuilder", "Safe routes: also write a Safe{Wallet} Transaction Builder batch file"),
  str("proposeToService", "Safe routes: also post the proposal to this Safe transaction service URL (key: SAFE_API_KEY)"),
  str("safeContracts", "Safe routes: JSON of the Safe contract addresses per chain id (local chains; see deploy-safe-contracts)"),
];
// …and the timelock ones.
const timelockRouteOptions = [
  str("timelock", "With --via timelock / safe,timelock: the TimelockController that owns the contract"),
  str("salt", "Timelock routes: the operation's salt (bytes32; default random, written to the outputs)"),
  str("predecessor", "Timelock routes: an operation that must be executed first (bytes32 id; default none)"),
  str("delay", "Timelock routes: the delay (seconds or 1d, 12h…; default and minimum: the timelock's minimum delay)"),
  str("operationOut", "--via timelock: where to write the scheduled operation (default timelock-op-<id>.json)"),
];

const sendBasics = (b: Builder): Builder =>
  json(b)
    .addFlag({ name: "dryRun", description: "Validate and simulate, print the calldata, send nothing" })
    .addOption({
      name: "from",
      description: "Sign with this configured account (default: the network's first account)",
      type: ArgumentType.STRING_WITHOUT_DEFAULT,
      defaultValue: undefined,
    });

/**
 * The options of every state-changing task: `--json`, `--dry-run`, `--from`, and the
 * governance route — send directly (default), write a Safe proposal, schedule on a
 * timelock, or a Safe proposal that schedules on a timelock. Parsed by
 * `src/governance/route.ts`, dispatched by `tasks/lib/apply-plan.ts`.
 */
export const sending = (b: Builder): Builder => apply(sendBasics(b), ...safeRouteOptions, ...timelockRouteOptions);

/** `sending` without the timelock route options: for tasks that act on a timelock themselves (their `--timelock` is the target). */
export const sendingDirectOrSafe = (b: Builder): Builder => apply(sendBasics(b), ...safeRouteOptions);
