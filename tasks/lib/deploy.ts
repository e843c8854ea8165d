import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { getAddress, type Address, type PublicClient } from "viem";

import { toRpcError } from "../../src/chain/errors.js";
import type { SignerClient } from "../../src/manage/send-direct.js";

type Connection = Awaited<ReturnType<HardhatRuntimeEnvironment["network"]["getOrCreate"]>>;

/** Deploys a contract of this project's artifacts with the given signer and waits for it. */
export async function deployWith(
  connection: Connection,
  publicClient: PublicClient,
  signer: SignerClient,
  contractName: "DstackApp" | "DstackKms" | "ERC1967Proxy",
  constructorArgs: readonly unknown[],
): Promise<{ address: Address; transactionHash: `0x${string}`; gasUsed: bigint }> {
  const { contract, deploymentTransaction } = await connection.viem
    .sendDeploymentTransaction(contractName, constructorArgs as never, { client: { wallet: signer as never } })
    .catch((error: unknown) => {
      throw toRpcError(publicClient, "eth_sendTransaction", error);
    });
  const receipt = await publicClient.waitForTransactionReceipt({ hash: deploymentTransaction.hash });
  if (receipt.status !== "success") throw new Error(`deployment of ${contractName} reverted (tx ${receipt.transactionHash})`);
  return { address: getAddress(contract.address), transactionHash: receipt.transactionHash, gasUsed: receipt.gasUsed };
}
