import type { Address, PublicClient } from "viem";

import { assertAppContract, assertKmsContract } from "../chain/contract-checks.js";

export type TargetKind = "app" | "kms";

/** Checks, before anything is sent, that the address is the kind of contract a command manages. */
export async function assertTarget(client: PublicClient, kind: TargetKind, address: Address): Promise<{ batchManagement: boolean }> {
  if (kind === "app") return assertAppContract(client, address);
  await assertKmsContract(client, address);
  return { batchManagement: false };
}
