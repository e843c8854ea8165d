/**
 * A simulated chain of the test file's own, for library tests that need no task: it
 * leaves the shared chain the task tests use (and the account nonces they rely on) alone.
 */
import { network } from "hardhat";
import { getAddress, type Address, type PublicClient } from "viem";

import type { SignerClient } from "../../src/chain/clients.js";
import { deployAppProxy, deployKmsProxy, type AppInitOptions } from "./contracts.js";

export async function ownChain() {
  const connection = await network.create();
  const { viem } = connection;
  const publicClient = (await viem.getPublicClient()) as unknown as PublicClient;
  const wallets = await viem.getWalletClients();
  const accounts: Address[] = wallets.map((wallet) => getAddress(wallet.account.address));
  return {
    connection,
    viem,
    publicClient,
    accounts,
    signer: (index = 0) => wallets[index]! as unknown as SignerClient,
    /** A fresh app proxy owned by account #0 unless told otherwise. */
    freshApp: async (options: Partial<AppInitOptions> = {}) => {
      const deployed = await deployAppProxy(viem, { owner: accounts[0]!, ...options });
      return { ...deployed, address: getAddress(deployed.proxy.address) };
    },
    /** A fresh KMS proxy with an app implementation for its factory. */
    freshKms: async () => {
      const appImplementation = await viem.deployContract("DstackApp");
      const deployed = await deployKmsProxy(viem, accounts[0]!, appImplementation.address);
      return { ...deployed, address: getAddress(deployed.proxy.address), appImplementation: getAddress(appImplementation.address) };
    },
    /** Head block and every account's nonce: unchanged means nothing was sent. */
    mark: async () => ({
      block: await publicClient.getBlockNumber({ cacheTime: 0 }),
      nonces: await Promise.all(accounts.map((address) => publicClient.getTransactionCount({ address }))),
    }),
  };
}
