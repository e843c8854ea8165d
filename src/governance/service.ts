import apiKitModule from "@safe-global/api-kit";

import { describeError } from "../util/errors.js";
import { TransactionServiceError } from "./errors.js";
import type { SafeProposal } from "./proposal.js";
import type { OwnerSignature } from "./signatures.js";

/**
 * Talks to a Safe transaction service (Safe{Wallet}'s backend, or a self-hosted one) with
 * `@safe-global/api-kit`: proposes a transaction with its first signature, or adds a
 * confirmation. `url` is the service's API base (e.g. `https://safe-transaction-sepolia.safe.global/api`);
 * Safe's hosted `api.safe.global` needs an API key.
 */
export interface ServiceOptions {
  url: string;
  chainId: number;
  apiKey?: string;
}

// api-kit ships ESM at run time but CommonJS-flavoured types: under node16 resolution its
// default export types as the module object. Take the class from wherever it is.
type SafeApiKit = InstanceType<typeof apiKitModule.default>;
const SafeApiKitClass = ((apiKitModule as unknown as { default?: typeof apiKitModule.default }).default ?? apiKitModule) as typeof apiKitModule.default;

function client(options: ServiceOptions): SafeApiKit {
  try {
    return new SafeApiKitClass({ chainId: BigInt(options.chainId), txServiceUrl: options.url, ...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }) });
  } catch (error) {
    throw new TransactionServiceError(`proposeToService: ${describeError(error)}`, undefined, "proposeToService");
  }
}

/** Posts a new proposal (the proposer's signature included) to the service. */
export async function proposeToService(options: ServiceOptions, proposal: SafeProposal, signature: OwnerSignature): Promise<void> {
  await call(options, "propose the transaction", () =>
    client(options).proposeTransaction({
      safeAddress: proposal.safe,
      safeTransactionData: {
        to: proposal.to,
        value: proposal.value,
        data: proposal.data,
        operation: proposal.operation,
        safeTxGas: proposal.safeTxGas,
        baseGas: proposal.baseGas,
        gasPrice: proposal.gasPrice,
        gasToken: proposal.gasToken,
        refundReceiver: proposal.refundReceiver,
        nonce: Number(proposal.nonce),
      },
      safeTxHash: proposal.safeTxHash,
      senderAddress: signature.signer,
      senderSignature: signature.signature,
      origin: "dstack-governance",
    }),
  );
}

/** Adds an owner's confirmation (signature) of a proposal the service already has. */
export async function confirmOnService(options: ServiceOptions, safeTxHash: string, signature: OwnerSignature): Promise<void> {
  await call(options, "add the confirmation", () => client(options).confirmTransaction(safeTxHash, signature.signature));
}

/**
 * Fetches a transaction the service holds (`GET /v2/multisig-transactions/<safeTxHash>/`),
 * as the service answers it: nothing in it is trusted (see `import.ts`).
 */
export async function fetchFromService(options: ServiceOptions, safeTxHash: string): Promise<unknown> {
  return call(options, `return transaction ${safeTxHash}`, () => client(options).getTransaction(safeTxHash));
}

async function call<T>(options: ServiceOptions, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const status = (error as { statusCode?: unknown }).statusCode;
    const reason = describeError(error);
    throw new TransactionServiceError(
      `the Safe transaction service at ${options.url} did not ${what}: ${typeof status === "number" ? `HTTP ${status}: ` : ""}${reason}`,
    );
  }
}

/**
 * A service failure after the signed proposal file was written: the signature is not lost,
 * and the message says so, keeping the service's reason.
 */
export function serviceFailureAfterWrite(error: unknown, file: string): unknown {
  if (!(error instanceof TransactionServiceError)) return error;
  return new TransactionServiceError(
    `${error.message}; the signed proposal was already written to ${file}: the signature is not lost, the other owners can sign that file`,
  );
}
