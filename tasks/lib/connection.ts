import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { getAddress, type PublicClient } from "viem";

import { RpcError } from "../../src/chain/errors.js";
import { DEFAULT_RPC_POLICY, withRpcPolicy, type RequestFn } from "../../src/chain/rpc-policy.js";
import { redactRpcUrl, redactUrlsInText } from "../../src/util/redact-url.js";
import { useSendOptions, type SubmittedTransaction } from "../../src/chain/send-transaction.js";
import { fileJournal } from "../../src/deployments/tx-journal.js";
import { WrongChainError } from "../../src/manage/errors.js";
import { InvalidInputError, describeError } from "../../src/util/errors.js";
import { escapeTerminalText } from "../../src/util/terminal-text.js";
import { parseAddress } from "./args.js";
import type { SignerClient } from "../../src/chain/clients.js";

export interface ChainConnection {
  networkName: string;
  chainId: number;
  publicClient: PublicClient;
}

type Connection = Awaited<ReturnType<HardhatRuntimeEnvironment["network"]["getOrCreate"]>>;

/**
 * Connects to the network chosen with `--network` and checks that the node answers and
 * is on the configured chain, so that an unreachable RPC or a wrong URL is reported
 * before any other work (and never as "not allowed"). Set-up problems (an unknown network,
 * an unset or malformed configuration variable, a keystore that would prompt without a
 * terminal) are input errors naming the fix. On an HTTP network every request has a
 * timeout and bounded retries (DSTACK_RPC_TIMEOUT seconds, DSTACK_RPC_RETRIES).
 */
export async function connectChain(hre: HardhatRuntimeEnvironment, options: { readOnly?: boolean } = {}): Promise<ChainConnection & { connection: Connection }> {
  const name = selectedNetwork(hre);
  const config = hre.config.networks[name]!;
  const policy = rpcPolicyFromEnv();
  let connection: Connection;
  let publicClient: PublicClient;
  let chainId: number;
  if (config.type === "http") await checkConfigurationVariables(hre, name, { accounts: options.readOnly !== true });
  try {
    if (config.type === "http") {
      // Reading a remote chain needs no key: an auditor or a CI job checking an app must not
      // be asked for the deployer's key, so read-only commands drop the configured accounts.
      const override = { timeout: policy.timeoutMs, ...(options.readOnly === true ? { accounts: "remote" as const } : {}) };
      connection = await hre.network.create({ network: name, override });
      const url = await config.url.get().then(redactRpcUrl, () => undefined);
      // hardhat-viem builds every client (and the signing path) on this provider, so its
      // `request` is the one place every call passes through: the timeout goes there.
      const provider = connection.provider as unknown as { request: RequestFn };
      provider.request = withRpcPolicy(provider.request.bind(provider), { ...policy, url, onProgress: progress });
    } else {
      // Simulated networks keep the shared in-process connection (its state is the point).
      connection = await hre.network.getOrCreate();
    }
    publicClient = (await connection.viem.getPublicClient()) as unknown as PublicClient;
    chainId = await publicClient.getChainId();
  } catch (error) {
    throw await unreachable(hre, error);
  }
  const configured = connection.networkConfig.chainId;
  if (configured !== undefined && configured !== chainId) throw new WrongChainError(configured, chainId);
  return { networkName: connection.networkName, chainId, publicClient, connection };
}

/** Progress of the chain layer (retries, sent hashes, waits): on stderr, so `--json` stdout stays one document. */
const progress = (line: string): void => console.error(escapeTerminalText(line));

/** The `--network` name, checked against the configuration (a typo is a set-up error, exit 2). */
export function selectedNetwork(hre: HardhatRuntimeEnvironment): string {
  const name = hre.globalOptions.network ?? "default";
  if (hre.config.networks[name] === undefined) {
    const known = Object.keys(hre.config.networks).filter((network) => network !== "default" && network !== "node");
    throw new InvalidInputError(`--network: no network ${JSON.stringify(name)} in the Hardhat configuration; configured: ${known.join(", ")}`, {
      details: "any node can be reached without editing the configuration: --network custom with RPC_URL=<url> in the environment",
    });
  }
  return name;
}

/** The folder of the deployments file and the pending-transaction journal (DSTACK_DEPLOYMENTS_DIR, default `deployments/`). */
export function deploymentsDir(hre: HardhatRuntimeEnvironment): string {
  const fromEnv = process.env.DSTACK_DEPLOYMENTS_DIR;
  return fromEnv !== undefined && fromEnv !== "" ? path.resolve(fromEnv) : path.join(hre.config.paths.root, "deployments");
}

function rpcPolicyFromEnv(): { timeoutMs: number; retries: number } {
  const read = (variable: string, fallback: number, min: number, unit: string): number => {
    const text = process.env[variable];
    if (text === undefined || text.trim() === "") return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value < min) throw new InvalidInputError(`${variable}: expected a number of ${unit} >= ${min}, got ${JSON.stringify(text.slice(0, 20))}`);
    return value;
  };
  return {
    timeoutMs: Math.round(read("DSTACK_RPC_TIMEOUT", DEFAULT_RPC_POLICY.timeoutMs / 1000, 0.1, "seconds") * 1000),
    retries: Math.floor(read("DSTACK_RPC_RETRIES", DEFAULT_RPC_POLICY.retries, 0, "retries")),
  };
}

interface ConfigVariable {
  name?: string;
  get(): Promise<string>;
}

/**
 * Resolves the network's configuration variables (URL, and the keys when the command
 * signs) before Hardhat does, so that each set-up mistake gets a message with its fix
 * instead of a Hardhat error code, a noble stack trace or a password prompt that hangs:
 * - not set at all: how to set it (environment or keystore);
 * - in the keystore while there is no terminal to type its password: export it instead;
 * - a private key that is not 32 bytes: the variable is named, its value never printed.
 */
async function checkConfigurationVariables(hre: HardhatRuntimeEnvironment, network: string, options: { accounts: boolean }): Promise<void> {
  const config = hre.config.networks[network];
  if (config?.type !== "http") return;
  const variables: Array<{ variable: ConfigVariable; isKey: boolean }> = [{ variable: config.url as unknown as ConfigVariable, isKey: false }];
  if (options.accounts && Array.isArray(config.accounts)) {
    for (const account of config.accounts) variables.push({ variable: account as unknown as ConfigVariable, isKey: true });
  }
  for (const { variable, isKey } of variables) {
    const name = variable.name;
    if (name !== undefined && process.env[name] === undefined) {
      const keystore = (hre.config as { keystore?: { filePath?: string } }).keystore?.filePath;
      assertKeystoreReadable(keystore, name, { isTTY: process.stdin.isTTY === true, ci: isCi() });
    }
    let value: string;
    try {
      value = await variable.get();
    } catch (error) {
      if (name !== undefined && /HHE7\b|not found/i.test(String((error as Error).message))) {
        throw new InvalidInputError(`${name} is not set (needed by --network ${network})`, {
          details: `set it in the environment (export ${name}=${isKey ? "0x<64 hex digits>" : "https://…"}) or store it with \`npx hardhat keystore set ${name}\``,
        });
      }
      throw error;
    }
    if (isKey && !/^(0x)?[0-9a-fA-F]{64}$/.test(value.trim())) {
      const digits = value.trim().replace(/^0x/, "");
      const shape = /^[0-9a-fA-F]*$/.test(digits) ? `${digits.length / 2} bytes` : "not hex";
      throw new InvalidInputError(`${name ?? `a private key of network ${network}`} is not a private key: expected 32 bytes (64 hex digits, 0x optional), got ${shape}`, {
        details: "the value is not printed; check the variable in your environment or keystore",
      });
    }
  }
}

/**
 * The keystore asks for its password on the terminal. Without one (a pipe, a cron job)
 * the prompt waits for ever, so a variable that only the keystore holds fails at once.
 * Hardhat skips the keystore in CI, where no prompt can happen.
 */
export function assertKeystoreReadable(file: string | undefined, name: string, terminal: { isTTY: boolean; ci: boolean }): void {
  if (terminal.isTTY || terminal.ci) return;
  if (file === undefined || !existsSync(file)) return;
  let secrets: Record<string, unknown> | undefined;
  try {
    secrets = (JSON.parse(readFileSync(file, "utf8")) as { secrets?: Record<string, unknown> }).secrets;
  } catch {
    return;
  }
  if (secrets === undefined || !(name in secrets)) return;
  throw new InvalidInputError(`${name} is in the Hardhat keystore, whose password cannot be asked: there is no terminal (stdin is not a TTY)`, {
    details: `export ${name} in the environment for this run (e.g. a CI secret), or run the command in a terminal`,
  });
}

function isCi(): boolean {
  const ci = process.env.CI;
  return (ci !== undefined && ci !== "" && ci !== "false" && ci !== "0") || process.env.GITHUB_ACTIONS === "true";
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
  const persistent = chain.connection.networkConfig.type === "http";
  if (!persistent) warnSimulated(hre, chain.networkName);
  useSendOptions(signer, {
    // Only a chain that outlives this process has transactions worth remembering.
    ...(persistent ? { journal: fileJournal(deploymentsDir(hre), chain.chainId) } : {}),
    log: progress,
    receiptTimeoutMs: receiptTimeoutFromEnv(),
    statusCommand: `npx hardhat tx-status --network ${chain.networkName} --wait`,
    onWaiting: (tx) => explainInterrupt(tx, chain.networkName),
  });
  return { ...chain, signer };
}

let waiting: { tx: SubmittedTransaction; networkName: string } | undefined;
let signalsHandled = false;

/**
 * While a transaction waits for its receipt, Ctrl-C (or a kill) says what it leaves
 * behind: the transaction is still pending, and how to pick it up. The handler is
 * installed once and never removed: removing a signal listener drops a signal that has
 * arrived but not been dispatched yet, which would make that Ctrl-C do nothing. Outside
 * a wait it exits as the default would (130 / 143).
 */
function explainInterrupt(tx: SubmittedTransaction | undefined, networkName: string): void {
  waiting = tx === undefined ? undefined : { tx, networkName };
  if (tx === undefined || signalsHandled) return;
  signalsHandled = true;
  const onSignal = (signal: NodeJS.Signals) => {
    if (waiting !== undefined) {
      const { tx: pending, networkName: network } = waiting;
      console.error(
        escapeTerminalText(
          `interrupted: transaction ${pending.hash} (${pending.summary}, nonce ${pending.nonce}) may still be pending; run the same command again ` +
            `(it waits for this transaction, nothing is sent twice) or \`npx hardhat tx-status --network ${network} --wait\``,
        ),
      );
    }
    process.exit(signal === "SIGTERM" ? 143 : 130);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

let warned = false;

/**
 * A state-changing command on Hardhat's in-process chain changes nothing anywhere: the
 * chain is thrown away when the command exits. Demos and tests do this on purpose; an
 * operator who forgot `--network` must not read "app deployed at 0x…" as a deployment.
 * Printed once per process (a demo runs many tasks); `hardhat test` runs, which use the
 * in-process chain on purpose, are not warned.
 */
function warnSimulated(hre: HardhatRuntimeEnvironment, networkName: string): void {
  // Under `hardhat test` the in-process chain is the point (Hardhat sets HH_TEST).
  if (process.env.HH_TEST === "true" || warned) return;
  warned = true;
  const given = hre.globalOptions.network !== undefined;
  const networks = Object.entries(hre.config.networks)
    .filter(([, config]) => config.type === "http")
    .map(([network]) => network);
  console.error(
    given
      ? `WARNING: network ${networkName} is simulated in this process: nothing this command sends persists after it exits.`
      : `WARNING: no --network given: this runs on Hardhat's throwaway in-process chain and NOTHING PERSISTS after the command exits. ` +
          `Use --network <name> (${networks.join(", ")}; custom reads RPC_URL).`,
  );
}

/** How long a send waits for its receipt (DSTACK_RECEIPT_TIMEOUT seconds, default 600) before reporting it still pending. */
export function receiptTimeoutFromEnv(): number {
  const text = process.env.DSTACK_RECEIPT_TIMEOUT;
  if (text === undefined || text.trim() === "") return 600_000;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new InvalidInputError(`DSTACK_RECEIPT_TIMEOUT: expected a number of seconds > 0, got ${JSON.stringify(text.slice(0, 20))}`);
  return Math.round(value * 1000);
}
