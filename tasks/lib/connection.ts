import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { getAddress, type PublicClient } from "viem";

import { RpcError } from "../../src/chain/errors.js";
import { redactRpcUrl, redactUrlsInText } from "../../src/chain/rpc-url.js";
import { WrongChainError } from "../../src/manage/errors.js";
import type { SignerClient } from "../../src/manage/send-direct.js";
import { InvalidInputError, describeError } from "../../src/util/errors.js";
import { parseAddress } from "./args.js";

export interface ChainConnection {
  networkName: string;
  chainId: number;
  publicClient: PublicClient;
}

/**
 * Connects to the network chosen with `--network` and checks that the node answers and
 * is on the configured chain, so that an unreachable RPC or a wrong URL is reported
 * before any other work (and never as "not allowed").
 */
export async function connectChain(
  hre: HardhatRuntimeEnvironment,
  options: { readOnly?: boolean } = {},
): Promise<ChainConnection & { connection: Awaited<ReturnType<HardhatRuntimeEnvironment["network"]["getOrCreate"]>> }> {
  let connection: Awaited<ReturnType<HardhatRuntimeEnvironment["network"]["getOrCreate"]>>;
  let publicClient: PublicClient;
  let chainId: number;
  try {
    // Reading a remote chain needs no key: an auditor or a CI job checking an app must not
    // be asked for the deployer's key, so read-only commands drop the configured accounts.
    // Simulated networks keep the shared in-process connection (its state is the point).
    const name = hre.globalOptions.network ?? "default";
    const readRemote = options.readOnly === true && hre.config.networks[name]?.type === "http";
    connection = readRemote ? await hre.network.create({ network: name, override: { accounts: "remote" } }) : await hre.network.getOrCreate();
    publicClient = (await connection.viem.getPublicClient()) as unknown as PublicClient;
    chainId = await publicClient.getChainId();
  } catch (error) {
    throw await unreachable(hre, error);
  }
  const configured = connection.networkConfig.chainId;
  if (configured !== undefined && configured !== chainId) throw new WrongChainError(configured, chainId);
  return { networkName: connection.networkName, chainId, publicClient, connection };
}

/** A failed first contact with the node, as an RPC error that names the (redacted) URL. */
async function unreachable(hre: HardhatRuntimeEnvironment, error: unknown): Promise<unknown> {
  const name = hre.globalOptions.network ?? "default";
  const config = hre.config.networks[name];
  // A missing configuration variable is the user's set-up, not the node: keep Hardhat's message.
  if (/Configuration Variable|keystore/i.test(String((error as Error)?.message))) return error;
  let url: string | undefined;
  if (config?.type === "http") url = await config.url.get().then(redactRpcUrl, () => undefined);
  return new RpcError(
    { method: "eth_chainId", url, reason: `cannot reach network ${JSON.stringify(name)}` },
    { details: redactUrlsInText(describeError(error)), cause: error },
  );
}

/**
 * The account that signs: the network's first configured account, or the one named by
 * `--from`. Keys come from Hardhat configuration variables / the keystore, never flags.
 */
export async function connectSigner(hre: HardhatRuntimeEnvironment, from: string | undefined) {
  // A malformed --from is the user's input, checked before the chain is contacted.
  const wanted = from === undefined || from === "" ? undefined : parseAddress(from, "--from");
  const chain = await connectChain(hre);
  const wallets = (await chain.connection.viem.getWalletClients()) as unknown as SignerClient[];
  if (wallets.length === 0) {
    throw new InvalidInputError(
      `network ${chain.networkName} has no account to sign with; store the key with \`npx hardhat keystore set DEPLOYER_PRIVATE_KEY\``,
    );
  }
  let signer = wallets[0]!;
  if (wanted !== undefined) {
    const match = wallets.find((wallet) => getAddress(wallet.account.address) === wanted);
    if (match !== undefined) signer = match;
    // On a simulated network (e.g. the `sepoliaFork` rehearsal of a change before it is
    // signed for real) --from may name any account, typically the real owner impersonated
    // with hardhat_impersonateAccount: the node signs for it, and refuses otherwise.
    else if (chain.connection.networkConfig.type === "edr-simulated") signer = (await chain.connection.viem.getWalletClient(wanted)) as unknown as SignerClient;
    else throw new InvalidInputError(`--from: ${wanted} is not an account of network ${chain.networkName}`);
  }
  return { ...chain, signer };
}
