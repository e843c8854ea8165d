/**
 * The governance library without a chain (and, for protocol-kit interop, with the
 * simulated chain's provider): ABIs and code hashes against their sources, the
 * safeTxHash against protocol-kit's independent implementation, MultiSend encoding and
 * its strict decoding, route options, durations, the Transaction Builder checksum.
 */
import { createRequire } from "node:module";

import protocolKit, { calculateSafeTransactionHash, decodeMultiSendData, encodeMultiSendData } from "@safe-global/protocol-kit";
import { expect } from "chai";
import { concat, encodeFunctionData, getAddress, keccak256, toHex, zeroAddress, type Address, type Hex } from "viem";

import { multiSendCallOnlyAbi, safeAbi, safeProxyFactoryAbi } from "../../src/governance/abi/safe.js";
import { timelockControllerAbi } from "../../src/governance/abi/timelock-controller.js";
import { decodeSafeTransaction } from "../../src/governance/decode.js";
import { formatDuration, parseDuration } from "../../src/util/duration.js";
import { decodeMultiSendCall, encodeMultiSendCall } from "../../src/governance/multisend.js";
import { parseRoute } from "../../tasks/lib/route-args.js";
import { MULTI_SEND_CALL_ONLY_CODE_HASHES, SAFE_SINGLETON_CODE_HASHES } from "../../src/governance/safe-contracts.js";
import { safeTransaction, safeTxHash } from "../../src/governance/safe-tx.js";
import { packSignatures, recoverSafeSignature } from "../../src/governance/signatures.js";
import { transactionBuilderChecksum, type TransactionBuilderBatch } from "../../src/governance/tx-builder.js";
import { bytes32, chain, freshSafe, safeContractsFile, suiteWorkDir } from "./fixture.js";

const require = createRequire(import.meta.url);
// protocol-kit runs as ESM but types as CommonJS under node16 resolution: take the class from wherever it is.
const Safe = ((protocolKit as unknown as { default?: typeof protocolKit.default }).default ?? protocolKit) as typeof protocolKit.default;
const artifact = (path: string) => require(`@safe-global/safe-contracts/build/artifacts/contracts/${path}`) as { abi: unknown; deployedBytecode: Hex };
const SAFE = getAddress("0x1ef71d8ac0dd3f3fc7b8975c33b6f200b864cc9e");
const APP = getAddress("0x610178da211fef7d417bc0e6fed39f05609ad788");

describe("governance library: sources of truth", function () {
  it("the ABIs are the artifacts' (Safe 1.4.1, SafeProxyFactory, MultiSendCallOnly, TimelockController)", function () {
    expect(safeAbi).to.deep.equal(artifact("Safe.sol/Safe.json").abi);
    expect(safeProxyFactoryAbi).to.deep.equal(artifact("proxies/SafeProxyFactory.sol/SafeProxyFactory.json").abi);
    expect(multiSendCallOnlyAbi).to.deep.equal(artifact("libraries/MultiSendCallOnly.sol/MultiSendCallOnly.json").abi);
    expect(timelockControllerAbi).to.deep.equal(require("../../artifacts/@openzeppelin/contracts/governance/TimelockController.sol/TimelockController.json").abi);
  });

  it("the known code hashes are safe-deployments' canonical ones, and the npm artifacts have the same code", function () {
    const deployments = createRequire(require.resolve("@safe-global/protocol-kit"))("@safe-global/safe-deployments");
    const canonical = (fn: string, version: string): Hex => deployments[fn]({ version }).deployments.canonical.codeHash;
    expect(Object.keys(SAFE_SINGLETON_CODE_HASHES).sort()).to.deep.equal(
      [canonical("getSafeSingletonDeployment", "1.4.1"), canonical("getSafeL2SingletonDeployment", "1.4.1"), canonical("getSafeSingletonDeployment", "1.3.0"), canonical("getSafeL2SingletonDeployment", "1.3.0")].sort(),
    );
    expect(Object.keys(MULTI_SEND_CALL_ONLY_CODE_HASHES).sort()).to.deep.equal(
      [canonical("getMultiSendCallOnlyDeployment", "1.4.1"), canonical("getMultiSendCallOnlyDeployment", "1.3.0")].sort(),
    );
    expect(SAFE_SINGLETON_CODE_HASHES[keccak256(artifact("Safe.sol/Safe.json").deployedBytecode)]).to.equal("Safe 1.4.1");
    expect(MULTI_SEND_CALL_ONLY_CODE_HASHES[keccak256(artifact("libraries/MultiSendCallOnly.sol/MultiSendCallOnly.json").deployedBytecode)]).to.equal("MultiSendCallOnly 1.4.1");
  });
});

describe("governance library: Safe transactions", function () {
  it("safeTxHash equals protocol-kit's calculateSafeTransactionHash (call and delegatecall, any nonce and chain)", function () {
    for (const [chainId, operation, nonce] of [[1, 0, 0n], [11155111, 1, 7n], [31337, 0, 123456789n]] as const) {
      const tx = safeTransaction({ to: APP, value: 5n, data: "0xdeadbeef", operation }, nonce);
      const theirs = calculateSafeTransactionHash(
        SAFE,
        { to: tx.to, value: "5", data: tx.data, operation, safeTxGas: "0", baseGas: "0", gasPrice: "0", gasToken: zeroAddress, refundReceiver: zeroAddress, nonce: Number(nonce) },
        "1.4.1",
        BigInt(chainId),
      );
      expect(safeTxHash(chainId, SAFE, tx)).to.equal(theirs);
    }
  });

  it("MultiSend: protocol-kit decodes our batch; our strict decoder rejects truncation, trailing bytes and nested delegatecalls", function () {
    const calls = [
      { to: APP, value: 0n, data: "0x12345678" as Hex },
      { to: SAFE, value: 3n, data: "0x" as Hex },
    ];
    const data = encodeMultiSendCall(calls);
    expect(decodeMultiSendData(data)).to.deep.equal([
      { operation: 0, to: APP, value: "0", data: "0x12345678" },
      { operation: 0, to: SAFE, value: "3", data: "0x" },
    ]);
    expect(decodeMultiSendCall(data)).to.deep.equal(calls);
    const packed = encodeMultiSendData([{ to: APP, value: "0", data: "0x12345678", operation: 0 }]) as Hex;
    const wrap = (bytes: Hex) => encodeFunctionData({ abi: multiSendCallOnlyAbi, functionName: "multiSend", args: [bytes] });
    expect(() => decodeMultiSendCall(wrap(packed.slice(0, -2) as Hex))).to.throw(/truncated in the data of entry 1/);
    expect(() => decodeMultiSendCall(wrap(concat([packed, "0x00"])))).to.throw(/truncated in the header of entry 2/);
    const delegate = encodeMultiSendData([{ to: APP, value: "0", data: "0x", operation: 1 }]) as Hex;
    expect(() => decodeMultiSendCall(wrap(delegate))).to.throw(/entry 1 is a DELEGATECALL/);
    expect(() => decodeMultiSendCall(wrap("0x"))).to.throw(/batch is empty/);
  });

  it("decoding: an unknown function or a delegatecall to anything but MultiSend is flagged; known calls read as sentences", function () {
    const unknown = decodeSafeTransaction({ to: APP, value: 0n, data: "0xabcdef0100", operation: 0 });
    expect(unknown[0]!.warning).to.match(/cannot decode this call/);
    const delegate = decodeSafeTransaction({ to: APP, value: 0n, data: "0x12345678", operation: 1 });
    expect(delegate[0]).to.include({ operation: "delegatecall" });
    expect(delegate[0]!.warning).to.match(/can take over the Safe/);
    const addOwner = decodeSafeTransaction({ to: SAFE, value: 0n, data: encodeFunctionData({ abi: safeAbi, functionName: "addOwnerWithThreshold", args: [APP, 2n] }), operation: 0 });
    expect(addOwner[0]!.description).to.equal(`add owner ${APP} to Safe ${SAFE} and set the threshold to 2`);
  });

  it("signatures: EIP-712 (v 27/28) and eth_sign (v 31/32) recover; others are refused; packing sorts by signer", async function () {
    const { connection, accounts } = await chain();
    const wallet = await connection.viem.getWalletClient(accounts[0]!);
    const hash = keccak256(toHex("safe tx"));
    const ethSign = await wallet.signMessage({ account: wallet.account, message: { raw: hash } });
    const v = parseInt(ethSign.slice(-2), 16);
    const adjusted = `${ethSign.slice(0, -2)}${(v + 4).toString(16)}` as Hex;
    expect(await recoverSafeSignature(hash, adjusted)).to.equal(accounts[0]);
    await recoverSafeSignature(hash, `${ethSign.slice(0, -2)}01` as Hex).then(
      () => expect.fail("a v=1 signature must be refused"),
      (error: Error) => expect(error.message).to.match(/unsupported signature type \(v = 1\)/),
    );
    const high = getAddress(`0x${"f".repeat(40)}`);
    const low = getAddress(`0x${"0".repeat(39)}1`);
    const sig = (byte: string) => `0x${byte.repeat(65)}` as Hex;
    expect(packSignatures([{ signer: high, signature: sig("bb") }, { signer: low, signature: sig("aa") }])).to.equal(concat([sig("aa"), sig("bb")]));
  });
});

describe("governance library: options and formats", function () {
  it("parseRoute: defaults, each route's required flags, flags of another route refused", function () {
    expect(parseRoute({})).to.deep.equal({ kind: "direct" });
    expect(parseRoute({ via: "safe", safe: SAFE.toLowerCase(), safeNonce: "4" })).to.deep.equal({ kind: "safe", safe: { safe: SAFE, nonce: 4n } });
    const both = parseRoute({ via: "safe+timelock", safe: SAFE, timelock: APP, delay: "2d", salt: bytes32("s") });
    expect(both).to.deep.include({ kind: "safe,timelock" });
    expect((both as { timelock: { delay: bigint } }).timelock.delay).to.equal(172_800n);
    expect(() => parseRoute({ via: "timelock", timelock: APP, exportTxBuilder: "x.json" })).to.throw(/^--export-tx-builder only applies with --via safe/);
    expect(() => parseRoute({ via: "safe,timelock", safe: SAFE, timelock: APP, operationOut: "x" })).to.throw(/--operation-out only applies with --via timelock/);
    expect(() => parseRoute({ via: "timelock", timelock: APP, predecessor: "0x12" })).to.throw(/--predecessor: expected 32 bytes/);
  });

  it("durations: parse and format", function () {
    expect(parseDuration("86400", "--d")).to.equal(86_400n);
    expect(parseDuration("1d 12h", "--d")).to.equal(129_600n);
    expect(parseDuration("2w", "--d")).to.equal(1_209_600n);
    expect(() => parseDuration("1 day", "--min-delay")).to.throw(/^--min-delay: expected seconds or a duration/);
    expect(formatDuration(129_600n)).to.equal("1d 12h");
    expect(formatDuration(0n)).to.equal("0s");
  });

  it("the Transaction Builder checksum reproduces one of Safe{Wallet}'s own exports", function () {
    // A batch exported by the Transaction Builder (an ERC-20 approve), with the checksum it wrote.
    const batch = {
      version: "1.0",
      chainId: "1",
      createdAt: 1761326849944,
      meta: {
        name: "Transactions Batch",
        description: "",
        txBuilderVersion: "1.18.2",
        createdFromSafeAddress: "0xA77DE01e157f9f57C7c4A326eeE9C4874D0598b6",
        createdFromOwnerAddress: "",
        checksum: "0x8b5032f716845c8b08bab3d63dbd9ba92e056f3557793cd041e59b84e16aa989",
      },
      transactions: [
        {
          to: "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
          value: "0",
          data: null,
          contractMethod: {
            inputs: [
              { internalType: "address", name: "spender", type: "address" },
              { internalType: "uint256", name: "value", type: "uint256" },
            ],
            name: "approve",
            payable: false,
          },
          contractInputsValues: { spender: "0x474e5Ded6b5D078163BFB8F6dBa355C3aA5478C8", value: "100000000000" },
        },
      ],
    } as unknown as TransactionBuilderBatch;
    expect(transactionBuilderChecksum(batch)).to.equal(batch.meta.checksum);
  });
});

describe("governance library: protocol-kit on Hardhat's provider", function () {
  const dir = suiteWorkDir("dstack-gov-kit-");

  it("protocol-kit, initialised with the network's EIP-1193 provider and a signer address, computes and signs the same safeTxHash", async function () {
    const { connection, accounts } = await chain();
    const file = await safeContractsFile(dir);
    const safe = await freshSafe(file, [accounts[0]!, accounts[1]!], 2);
    const contractNetworks = JSON.parse((await import("node:fs")).readFileSync(file, "utf8"));
    const kit = await Safe.init({ provider: connection.provider as never, signer: accounts[1] as Address, safeAddress: safe, contractNetworks });
    const data = encodeFunctionData({ abi: safeAbi, functionName: "changeThreshold", args: [1n] });
    const tx = await kit.createTransaction({ transactions: [{ to: safe, value: "0", data }] });
    const ours = safeTxHash(31337, safe, safeTransaction({ to: safe, value: 0n, data, operation: 0 }, 0n));
    expect(await kit.getTransactionHash(tx)).to.equal(ours);
    const signed = await kit.signTransaction(tx);
    const signature = signed.getSignature(accounts[1]!.toLowerCase())?.data as Hex;
    expect(await recoverSafeSignature(ours, signature)).to.equal(accounts[1]);
  });
});
