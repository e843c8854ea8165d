import { getAddress, type Address, type Hex } from "viem";

import { dstackAppAbi } from "../abi/dstack-app.js";
import { dstackKmsAbi } from "../abi/dstack-kms.js";
import { chainIdOf } from "../chain/app-state.js";
import { toRpcError } from "../chain/errors.js";
import { readContracts, type ReadContractsOptions } from "../chain/multicall.js";
import { describeError } from "../util/errors.js";
import { ONCHAIN_CHECK_IDS, type CheckId, type CheckResult } from "./types.js";
import type { ChainClient } from "../chain/clients.js";

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

/** The on-chain checks of one attestation and what they read. */
export interface OnchainLinkResult {
  checks: CheckResult[];
  evidence: OnchainEvidence | undefined;
}

/**
 * Something that answers the on-chain link of one attestation: `checkOnchainLink` bound
 * to a client, or a ticket of an `OnchainBatch` that reads many attestations' links in
 * one request. `verifyAttestation` takes either.
 */
export interface OnchainLinkChecker {
  check(input: OnchainLinkInput): Promise<OnchainLinkResult>;
}

const strip = (hex: string) => hex.replace(/^0x/, "").toLowerCase();

/** One input's reads, addresses checksummed (a malformed address throws here, before any request). */
export interface PreparedLink {
  input: OnchainLinkInput;
  app: Address;
  kms: Address | undefined;
  calls: ReadonlyArray<{ address: Address; abi: unknown; functionName: string; args: readonly unknown[] }>;
  descriptions: string[];
}

/** The reads one link needs: `allowedComposeHashes`, and with a KMS `registeredApps` and `allowedOsImages`. */
export function prepareOnchainLink(input: OnchainLinkInput): PreparedLink {
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
  return { input, app, kms, calls, descriptions };
}

/**
 * The link between the attestation and governance: `allowedComposeHashes(composeHash)` on
 * the app, and with a KMS `registeredApps(app)` and `allowedOsImages(osImageHash)`, all
 * read at one block (in one Multicall3 request where the chain has it). A failed RPC is
 * an `error` for every on-chain check — never a pass, never a "not allowed".
 */
export async function checkOnchainLink(client: ChainClient, input: OnchainLinkInput): Promise<OnchainLinkResult> {
  return (await checkPreparedLinks(client, [prepareOnchainLink(input)]))[0]!;
}

/**
 * The links of many attestations on one chain with ONE `readContracts`: one block number,
 * one Multicall3 detection and (where Multicall3 exists and the calls fit one batch) one
 * `aggregate3` request for all of them. Each input gets exactly the checks
 * `checkOnchainLink` would give it alone; a failed RPC makes every input's on-chain checks
 * `error`. Every address must be well-formed (`prepareOnchainLink` throws otherwise).
 */
export async function checkOnchainLinks(client: ChainClient, inputs: readonly OnchainLinkInput[], options: Pick<ReadContractsOptions, "batchSize"> = {}): Promise<OnchainLinkResult[]> {
  return checkPreparedLinks(client, inputs.map(prepareOnchainLink), options);
}

export async function checkPreparedLinks(client: ChainClient, links: readonly PreparedLink[], options: Pick<ReadContractsOptions, "batchSize"> = {}): Promise<OnchainLinkResult[]> {
  if (links.length === 0) return [];
  // The same read asked by several links (targets of one app and KMS share
  // `registeredApps(app)`, replicas share the compose hash) is sent once.
  const calls: PreparedLink["calls"][number][] = [];
  const indexOf = new Map<string, number>();
  const slots = links.map((link) =>
    link.calls.map((call, i) => {
      const key = link.descriptions[i]!;
      let index = indexOf.get(key);
      if (index === undefined) {
        index = calls.push(call) - 1;
        indexOf.set(key, index);
      }
      return index;
    }),
  );
  let chainId: number;
  let blockNumber: bigint;
  let outcome: { results: unknown; via: "multicall3" | "eth_call" };
  try {
    chainId = await chainIdOf(client);
    blockNumber = await client.request({ method: "eth_blockNumber" }).then(BigInt);
    outcome = await readContracts(client, calls as never, { blockNumber, ...options });
  } catch (error) {
    const detail = `on-chain read failed: ${describeError(toRpcError(client, "eth_call", error))}`;
    return links.map((link) => {
      const ids = link.kms === undefined ? (["onchain-compose-hash"] as const) : ONCHAIN_CHECK_IDS;
      return { checks: ids.map((id) => ({ id, status: "error" as const, detail })), evidence: undefined };
    });
  }
  const results = outcome.results as unknown as ReadResult[];
  // "Is there code at this address?" is asked only for a call that did not answer, and
  // once per address and batch: many targets of one app share the answer.
  const codes = new Map<Address, Promise<unknown>>();
  const codeAt = (target: Address) => {
    let code = codes.get(target);
    if (code === undefined) {
      code = client.request({ method: "eth_getCode", params: [target, `0x${blockNumber.toString(16)}`] }).catch(() => undefined);
      codes.set(target, code);
    }
    return code;
  };
  return Promise.all(
    links.map((link, l) =>
      interpretLink(
        link,
        slots[l]!.map((index) => results[index]!),
        { chainId, blockNumber, via: outcome.via },
        codeAt,
      ),
    ),
  );
}

type ReadResult = { status: "success"; result: boolean } | { status: "failure"; error: Error };

/** One link's answers as its checks: the interpretation shared by the single and the batched read. */
async function interpretLink(
  link: PreparedLink,
  results: readonly ReadResult[],
  at: { chainId: number; blockNumber: bigint; via: "multicall3" | "eth_call" },
  codeAt: (target: Address) => Promise<unknown>,
): Promise<OnchainLinkResult> {
  const { input, app, kms, descriptions } = link;
  const evidence: OnchainEvidence = { chainId: at.chainId, blockNumber: at.blockNumber, via: at.via, calls: descriptions };
  const where = `on chain ${at.chainId} at block ${at.blockNumber}`;

  const answer = async (i: number, id: CheckId, yes: string, no: string, target: Address, what: string): Promise<CheckResult> => {
    const result = results[i]!;
    if (result.status === "success") return { id, status: result.result ? "pass" : "fail", detail: `${result.result ? yes : no} ${where}` };
    // No answer: either nothing is deployed there (a definite answer of this chain) or
    // the contract is something else. Say which, since "wrong network" is the usual cause.
    const code = await codeAt(target);
    const reason = code === "0x" ? `no contract at ${target} ${where} (wrong network?)` : `${what} at ${target} did not answer ${descriptions[i]} ${where}: ${describeError(result.error)}`;
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
