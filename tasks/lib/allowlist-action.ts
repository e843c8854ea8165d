import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import type { Address } from "viem";

import { parseRoute } from "./route-args.js";
import { ALLOWLISTS, planAllowlistChange, readAllowlist, type AllowlistName } from "../../src/manage/allowlist-plan.js";
import { InvalidInputError } from "../../src/util/errors.js";
import type { Hex } from "../../src/util/hex.js";
import { applyPlan } from "./apply-plan.js";
import { parseBytes32List } from "./args.js";
import type { SendingArgs } from "./builders.js";
import { connectSigner } from "./connection.js";
import { parseContractRef, resolveContractRef } from "./deployments.js";
import { runCommand } from "./output.js";

/** The options of every state-changing task (the `sending` options), route options included. */
export type SendArgs = SendingArgs;

/**
 * The action of every "add/remove a bytes32 to/from an allowlist" task. `collect` reads
 * and validates the values (from flags or files) before anything touches the chain.
 */
export function allowlistAction<A extends SendArgs & { app?: string; kms?: string }>(
  list: AllowlistName,
  action: "add" | "remove",
  collect: (args: A) => Promise<Hex[]>,
) {
  const kind = ALLOWLISTS[list].kind;
  return async (args: A, hre: HardhatRuntimeEnvironment): Promise<void> =>
    runCommand(args.json, async () => {
      const flag = kind === "app" ? "--app" : "--kms";
      const targetRef = parseContractRef(kind === "app" ? args.app : args.kms, flag);
      const route = parseRoute(args);
      const values = await collect(args);
      const { publicClient, signer, networkName, chainId } = await connectSigner(hre, args.from);
      const target: Address = resolveContractRef(hre, targetRef, flag, chainId);
      const plan = await planAllowlistChange(publicClient, list, target, values, action);
      const result = await applyPlan(publicClient, signer, plan, {
        dryRun: args.dryRun,
        route,
        networkName,
        confirm: async () => {
          const states = await readAllowlist(publicClient, list, target, values);
          const wrong = values.filter((_, i) => states[i] !== (action === "add"));
          return wrong.length === 0
            ? { ok: true, detail: `${values.length} value(s) ${action === "add" ? "allowed" : "not allowed"} on ${target}` }
            : { ok: false, detail: `still ${action === "add" ? "not allowed" : "allowed"}: ${wrong.join(", ")}` };
        },
      });
      return { ...result, data: { target, values, ...result.data } };
    });
}

/** `collect` for tasks whose values come from one comma-separated bytes32 option. */
export const fromOption =
  <A>(option: keyof A & string, flag: string) =>
  async (args: A): Promise<Hex[]> => {
    const values = parseBytes32List(args[option] as string | undefined, flag);
    if (values.length === 0) throw new InvalidInputError(`${flag} is required: one or more 0x-prefixed 32-byte values, comma-separated`);
    return values;
  };
