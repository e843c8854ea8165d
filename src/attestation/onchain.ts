import { getAddress, type Address, type Hex } from "viem";

import { dstackAppAbi } from "../abi/dstack-app.js";
import { dstackKmsAbi } from "../abi/dstack-kms.js";
import { chainIdOf } from "../chain/app-state.js";
import { toRpcError, type ChainClient } from "../chain/errors.js";
import { readContracts } from "../chain/multicall.js";
import { describeError } from "../util/errors.js";
import type { CheckResult } from "./types.js";

export interface OnchainLinkInput {
  /** The DstackApp address: the attested `app-id`. */
  app: Address;
  /** The attested compose hash. */
  composeHash: Hex;
  /** The attested `os-image-hash`, when the log has one. */
  osImageHash: Hex | null;
  /** A DstackKms to check registration and the OS image against. */
  kms?: Address;
}

export interface OnchainEvidence {
  chainId: number;
  blockNumber: bigint;
  via: "multicall3" | "eth_call";
  calls: string[];
}

const strip = (hex: string) => hex.replace(/^0x/, "").toLowerCase();

/**
 * The link between the attestation and governance: `allowedComposeHashes(composeHash)` on
 * the app, and with a KMS `registeredApps(app)` and `allowedOsImages(osImageHash)`, all
 * read at one block (in one Multicall3 request where the chain has it). A failed RPC is
 * an `error` for every on-chain check — never a pass, never a "not allowed".
 */
export async function checkOnchainLink(
  client: ChainClient,
  input: OnchainLinkInput,
): Promise<{ checks: CheckResult[]; evidence: OnchainEvidence | undefined }> {
  const app = getAddress(input.app);
  const kms = input.kms === undefined ? undefined : getAddress(input.kms);
  const calls = [
    { address: app, abi: dstackAppAbi, functionName: "allowedComposeHashes", args: [input.composeHash] },
    ...(kms === undefined
      ? []
      : [
          { address: kms, abi: dstackKmsAbi, functionName: "registeredApps", args: [app] },
          ...(input.osImageHash === null ? [] : [{ address: kms, abi: dstackKmsAbi, functionName: "allowedOsImages", args: [input.osImageHash] }]),
        ]),
  ] as const;
  const descriptions = calls.map((c) => `${c.address}.${c.functionName}(${c.args.map((a) => String(a)).join(",")})`);

  let chainId: number;
  let blockNumber: bigint;
  let outcome: { results: unknown; via: "multicall3" | "eth_call" };
  try {
    chainId = await chainIdOf(client);
    blockNumber = await client.request({ method: "eth_blockNumber" }).then(BigInt);
    outcome = await readContracts(client, calls as never, { blockNumber });
  } catch (error) {
    const detail = `on-chain read failed: ${describeError(toRpcError(client, "eth_call", error))}`;
    const ids = ["onchain-compose-hash", ...(kms === undefined ? [] : ["onchain-app-registered", "onchain-os-image"])];
    return { checks: ids.map((id) => ({ id, status: "error" as const, detail })), evidence: undefined };
  }
  const evidence: OnchainEvidence = { chainId, blockNumber, via: outcome.via, calls: descriptions };
  const at = `on chain ${chainId} at block ${blockNumber}`;
  const results = outcome.results as unknown as Array<{ status: "success"; result: boolean } | { status: "failure"; error: Error }>;

  const answer = async (i: number, id: string, yes: string, no: string, target: Address, what: string): Promise<CheckResult> => {
    const result = results[i]!;
    if (result.status === "success") return { id, status: result.result ? "pass" : "fail", detail: `${result.result ? yes : no} ${at}` };
    // No answer: either nothing is deployed there (a definite answer of this chain) or
    // the contract is something else. Say which, since "wrong network" is the usual cause.
    const code = await client.request({ method: "eth_getCode", params: [target, `0x${blockNumber.toString(16)}`] }).catch(() => undefined);
    const reason = code === "0x" ? `no contract at ${target} ${at} (wrong network?)` : `${what} at ${target} did not answer ${descriptions[i]} ${at}: ${describeError(result.error)}`;
    return { id, status: "fail", detail: reason };
  };

  const checks: CheckResult[] = [
    await answer(0, "onchain-compose-hash", `compose hash ${strip(input.composeHash)} is allowed by app ${app}`, `compose hash ${strip(input.composeHash)} is NOT allowed by app ${app}`, app, "the app contract"),
  ];
  if (kms !== undefined) {
    checks.push(await answer(1, "onchain-app-registered", `app ${app} is registered with KMS ${kms}`, `app ${app} is NOT registered with KMS ${kms}`, kms, "the KMS contract"));
    checks.push(
      input.osImageHash === null
        ? { id: "onchain-os-image", status: "fail", detail: "the event log has no os-image-hash event to check against the KMS" }
        : await answer(2, "onchain-os-image", `OS image ${strip(input.osImageHash)} is allowed by KMS ${kms}`, `OS image ${strip(input.osImageHash)} is NOT allowed by KMS ${kms}`, kms, "the KMS contract"),
    );
  }
  return { checks, evidence };
}
