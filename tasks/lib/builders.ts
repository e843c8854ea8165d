import { ArgumentType } from "hardhat/types/arguments";

// The builders' generic types change with every option added; these helpers only add
// options, so they are typed loosely and each action declares its argument types.
export type Builder = any;

/** `--json`: every task can print one machine-readable document. */
export const json = (b: Builder): Builder => b.addFlag({ name: "json", description: "Print one JSON document instead of text" });

/** The options of every state-changing task. */
export const sending = (b: Builder): Builder =>
  json(b)
    .addFlag({ name: "dryRun", description: "Validate and simulate, print the calldata, send nothing" })
    .addOption({
      name: "from",
      description: "Sign with this configured account (default: the network's first account)",
      type: ArgumentType.STRING_WITHOUT_DEFAULT,
      defaultValue: undefined,
    });

/** An optional string option. */
export const str = (name: string, description: string) => (b: Builder): Builder =>
  b.addOption({ name, description, type: ArgumentType.STRING_WITHOUT_DEFAULT, defaultValue: undefined });

/** A boolean flag. */
export const flag = (name: string, description: string) => (b: Builder): Builder => b.addFlag({ name, description });

/** Applies option-adding steps to a task builder, in order. */
export const apply = (b: Builder, ...steps: Array<(b: Builder) => Builder>): Builder => steps.reduce((acc, step) => step(acc), b);
