import type { Address } from "viem";

import type { TargetKind } from "../../src/manage/targets.js";
import { InvalidInputError } from "../../src/util/errors.js";
import { parseAddress } from "./args.js";

/** Ownership tasks act on an app (`--app`) or a KMS (`--kms`): exactly one of them. */
export function ownershipTarget(args: { app?: string; kms?: string }): { kind: TargetKind; target: Address } {
  if ((args.app === undefined) === (args.kms === undefined)) {
    throw new InvalidInputError("give exactly one of --app ADDRESS or --kms ADDRESS");
  }
  return args.app !== undefined ? { kind: "app", target: parseAddress(args.app, "--app") } : { kind: "kms", target: parseAddress(args.kms, "--kms") };
}
