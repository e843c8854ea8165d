import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { encodeDeployData, getAddress, type Abi, type Address, type Hex, type PublicClient } from "viem";

import { isRevertError, toRpcError } from "../../src/chain/errors.js";
import { TransactionRevertedError } from "../../src/manage/errors.js";
import { assertBalanceCovers, type SignerClient } from "../../src/manage/send-direct.js";
import { describeError } from "../../src/util/errors.js";

type Connection = Awaited<ReturnType<HardhatRuntimeEnvironment["network"]["getOrCreate"]>>;

/**
 * Deploys a contract of this project's artifacts with the given signer and waits for it.
 * Like every other send, it is simulated first and the balance checked against the
 * estimate, so a signer without funds gets `InsufficientFundsError` (and nothing is sent)
 * instead of the node's raw refusal.
 */
export async function deployWith(
  hre: Pick<HardhatRuntimeEnvironment, "artifacts">,
  connection: Connection,
  publicClient: PublicClient,
  signer: SignerClient,
  contractName: "DstackApp" | "DstackKms" | "ERC1967Proxy",
  constructorArgs: readonly unknown[],
): Promise<{ address: Address; transactionHash: `0x${string}`; gasUsed: bigint }> {
  const artifact = await hre.artifacts.readArtifact(contractName);
  const data = encodeDeployData({ abi: artifact.abi as Abi, bytecode: artifact.bytecode as Hex, args: constructorArgs as unknown[] });
  let gas: bigint;
  try {
    gas = await publicClient.estimateGas({ account: signer.account, data });
  } catch (error) {
    if (isRevertError(error)) throw new TransactionRevertedError(`deploy ${contractName}`, describeError(error));
    throw toRpcError(publicClient, "eth_estimateGas", error);
  }
  await assertBalanceCovers(publicClient, getAddress(signer.account.address), gas);

  const { contract, deploymentTransaction } = await connection.viem
    .sendDeploymentTransaction(contractName, constructorArgs as never, { client: { wallet: signer as never } })
    .catch((error: unknown) => {
      throw toRpcError(publicClient, "eth_sendTransaction", error);
    });
  const receipt = await publicClient.waitForTransactionReceipt({ hash: deploymentTransaction.hash });
  if (receipt.status !== "success") throw new Error(`deployment of ${contractName} reverted (tx ${receipt.transactionHash})`);
  return { address: getAddress(contract.address), transactionHash: receipt.transactionHash, gasUsed: receipt.gasUsed };
}
