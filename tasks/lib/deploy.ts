import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { encodeDeployData, type Abi, type Address, type Hex, type PublicClient } from "viem";

import { sendTransaction } from "../../src/chain/send-transaction.js";
import { TransactionRevertedError } from "../../src/manage/errors.js";
import type { SignerClient } from "../../src/chain/clients.js";

type Connection = Awaited<ReturnType<HardhatRuntimeEnvironment["network"]["getOrCreate"]>>;

/**
 * Deploys a contract of this project's artifacts with the given signer through the send
 * primitive: simulated, balance checked, sent (hash printed and journaled at once) and
 * waited for, exactly like every other send.
 */
export async function deployWith(
  hre: Pick<HardhatRuntimeEnvironment, "artifacts">,
  _connection: Connection,
  publicClient: PublicClient,
  signer: SignerClient,
  contractName: "DstackApp" | "DstackKms" | "ERC1967Proxy",
  constructorArgs: readonly unknown[],
): Promise<{ address: Address; transactionHash: `0x${string}`; gasUsed: bigint; blockNumber: bigint }> {
  const artifact = await hre.artifacts.readArtifact(contractName);
  const data = encodeDeployData({ abi: artifact.abi as Abi, bytecode: artifact.bytecode as Hex, args: constructorArgs as unknown[] });
  const sent = await sendTransaction(publicClient, signer, { data, summary: `deploy ${contractName}` });
  if (sent.contractAddress === undefined) throw new TransactionRevertedError(`deploy ${contractName}`, `transaction ${sent.hash} created no contract`);
  return { address: sent.contractAddress, transactionHash: sent.hash, gasUsed: sent.gasUsed, blockNumber: sent.blockNumber };
}
