/**
 * The typed task declarations of tasks/lib/builders.ts. At run time `apply` declares each
 * option exactly as Hardhat's own `addOption`/`addFlag` would. At compile time (`npm run
 * typecheck`) an action whose argument type does not match the declared options is
 * refused: the `@ts-expect-error` lines below fail the typecheck if that ever stops.
 */
import { expect } from "chai";
import { task } from "hardhat/config";
import { ArgumentType } from "hardhat/types/arguments";
import type { NewTaskDefinition } from "hardhat/types/tasks";

import { apply, file, flag, hiddenFile, int, str } from "../../tasks/lib/builders.js";

const noop = async (): Promise<void> => {};
const optionsOf = (definition: unknown) => (definition as NewTaskDefinition).options;

describe("task builders (tasks/lib/builders.ts)", () => {
  const declared = () =>
    apply(
      task("typed", "A task with one option of each kind"),
      str("app", "an address"),
      file("bundle", "a file"),
      hiddenFile("alias", "a hidden alias"),
      flag("yes", "a flag"),
      int("swapSize", "a count", 0),
    );

  it("declares each option as Hardhat's addOption / addFlag do", () => {
    const ours = optionsOf(declared().setAction(() => Promise.resolve({ default: noop })).build());
    const hardhats = optionsOf(
      task("typed", "A task with one option of each kind")
        .addOption({ name: "app", description: "an address", type: ArgumentType.STRING_WITHOUT_DEFAULT, defaultValue: undefined })
        .addOption({ name: "bundle", description: "a file", type: ArgumentType.FILE_WITHOUT_DEFAULT, defaultValue: undefined })
        .addOption({ name: "alias", description: "a hidden alias", type: ArgumentType.FILE_WITHOUT_DEFAULT, defaultValue: undefined, hidden: true })
        .addFlag({ name: "yes", description: "a flag" })
        .addOption({ name: "swapSize", description: "a count", type: ArgumentType.INT, defaultValue: 0 })
        .setAction(() => Promise.resolve({ default: noop }))
        .build(),
    );
    expect(ours).to.deep.equal(hardhats);
    expect(Object.keys(ours)).to.deep.equal(["app", "bundle", "alias", "yes", "swapSize"]);
    expect(ours.alias?.hidden).to.equal(true);
    expect(ours.yes).to.include({ type: ArgumentType.FLAG, defaultValue: false });
  });

  it("checks the action's argument type against the declared options (compile time)", () => {
    interface Exact {
      app: string | undefined;
      bundle: string | undefined;
      alias: string | undefined;
      yes: boolean;
      swapSize: number;
    }
    const action = <Args>() => () => Promise.resolve({ default: async (_args: Args): Promise<void> => {} });
    // Reading the declared options with their types: accepted.
    declared().setAction(action<Exact>());
    declared().setAction(action<Pick<Exact, "app" | "yes">>());
    // @ts-expect-error an option that is not declared
    declared().setAction(action<Exact & { other: string | undefined }>());
    // @ts-expect-error a flag read as a string
    declared().setAction(action<Omit<Exact, "yes"> & { yes: string | undefined }>());
    // @ts-expect-error an optional string read as always present
    declared().setAction(action<Omit<Exact, "app"> & { app: string }>());
  });
});
