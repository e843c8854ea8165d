import type { ChainClient } from "../chain/clients.js";
import { DstackGovernanceError } from "../util/errors.js";
import { checkPreparedLinks, prepareOnchainLink, type OnchainLinkChecker, type OnchainLinkInput, type OnchainLinkResult, type PreparedLink } from "./onchain.js";

/**
 * Calls per `aggregate3` request of a batch: large enough that a round over a few hundred
 * targets (up to three reads each, fewer after de-duplication) is one request, small
 * enough to stay far below node `eth_call` gas caps (a view read through a proxy costs
 * under 10k gas, so 1,024 reads stay around 10M against the usual 50M cap).
 */
export const ONCHAIN_BATCH_SIZE = 1024;

/** A ticket used after its batch flushed, or checked twice: a bug of the caller. */
export class OnchainBatchError extends DstackGovernanceError {
  override name = "OnchainBatchError";
  constructor(message: string) {
    super("ONCHAIN_BATCH", message);
  }
}

/**
 * One verification's place in an `OnchainBatch`. `check` is what `verifyAttestation`
 * calls (via `onchain.batch`); `close` says the verification is over, whether or not it
 * reached the chain, so that the batch stops waiting for it.
 */
export interface OnchainTicket extends OnchainLinkChecker {
  close(): void;
}

interface Waiting {
  link: PreparedLink;
  resolve: (result: OnchainLinkResult) => void;
  reject: (error: unknown) => void;
}

/**
 * Collects the on-chain link inputs of verifications running concurrently against one
 * chain and reads them all with one `checkOnchainLinks` (one block, one Multicall3
 * request). Every verification first takes a ticket; the batch reads once every ticket has
 * either asked (`check`) or been closed, so a verification that stopped early (a fetch
 * error, a bad quote) never blocks the others. All tickets must be taken before the
 * first one can settle the batch: take them up front, then start the work.
 *
 * A batch reads once; the next round takes a new batch.
 */
export class OnchainBatch {
  readonly #client: ChainClient;
  readonly #batchSize: number;
  #open = 0;
  #waiting: Waiting[] = [];
  #flushed = false;
  /** Resolves when the batch has read (or had nothing to read). */
  readonly done: Promise<void>;
  #markDone!: () => void;

  constructor(client: ChainClient, options: { batchSize?: number } = {}) {
    this.#client = client;
    this.#batchSize = options.batchSize ?? ONCHAIN_BATCH_SIZE;
    this.done = new Promise<void>((resolve) => (this.#markDone = resolve));
  }

  /** How many link inputs are waiting for the read. */
  get pending(): number {
    return this.#waiting.length;
  }

  ticket(): OnchainTicket {
    if (this.#flushed) throw new OnchainBatchError("this on-chain batch has already read; take tickets before starting the verifications");
    this.#open += 1;
    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      this.#open -= 1;
      return true;
    };
    return {
      check: (input: OnchainLinkInput) => {
        if (settled) return Promise.reject(new OnchainBatchError("an on-chain batch ticket is used once, and not after close()"));
        // A malformed address is this verification's problem: thrown here, to its caller
        // only (the ticket stays open until closed), never poisoning the others' read.
        const link = prepareOnchainLink(input);
        const result = new Promise<OnchainLinkResult>((resolve, reject) => this.#waiting.push({ link, resolve, reject }));
        settle();
        this.#maybeFlush();
        return result;
      },
      close: () => {
        if (settle()) this.#maybeFlush();
      },
    };
  }

  #maybeFlush(): void {
    if (this.#open > 0 || this.#flushed) return;
    this.#flushed = true;
    const waiting = this.#waiting;
    this.#waiting = [];
    if (waiting.length === 0) {
      this.#markDone();
      return;
    }
    checkPreparedLinks(
      this.#client,
      waiting.map((w) => w.link),
      { batchSize: this.#batchSize },
    )
      .then(
        (results) => {
          for (const [i, w] of waiting.entries()) w.resolve(results[i]!);
        },
        // checkPreparedLinks turns RPC failures into `error` checks; anything else still
        // reaches each verification, which reports it as an error (fails closed).
        (error: unknown) => {
          for (const w of waiting) w.reject(error);
        },
      )
      .finally(() => this.#markDone());
  }
}
