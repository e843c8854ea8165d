import type { Account, Chain, Client, Transport, WalletClient } from "viem";

/** Any viem client this library can read through (public clients, wallet clients with public actions). */
export type ChainClient = Client<Transport, Chain | undefined>;

/** A wallet client with its account: what signs and sends transactions. */
export type SignerClient = WalletClient<Transport, Chain | undefined, Account>;
