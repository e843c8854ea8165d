import { expect } from "chai";
import { readFileSync } from "node:fs";
import { keccak256, toFunctionSelector, type AbiFunction } from "viem";

import {
  ERC165_INTERFACE_ID,
  IAPP_AUTH_BASIC_MANAGEMENT_INTERFACE_ID,
  IAPP_AUTH_BATCH_MANAGEMENT_INTERFACE_ID,
  IAPP_AUTH_INTERFACE_ID,
  dstackAppAbi,
} from "../../src/abi/dstack-app.js";
import { dstackKmsAbi } from "../../src/abi/dstack-kms.js";
import { MULTICALL3_ADDRESS, multicall3Abi } from "../../src/abi/multicall3.js";
import { MULTICALL3_RUNTIME_CODE, MULTICALL3_RUNTIME_CODE_HASH } from "../support/multicall3.js";

function artifactAbi(path: string): unknown {
  return (JSON.parse(readFileSync(new URL(`../../artifacts/${path}`, import.meta.url), "utf8")) as { abi: unknown }).abi;
}

/** XOR of the selectors of `signatures`, as Solidity computes `type(I).interfaceId`. */
function interfaceId(signatures: readonly string[]): string {
  const value = signatures.map((signature) => BigInt(toFunctionSelector(signature))).reduce((a, b) => a ^ b, 0n);
  return `0x${value.toString(16).padStart(8, "0")}`;
}

describe("chain ABIs", () => {
  it("DstackApp ABI equals the compiled artifact", () => {
    expect(dstackAppAbi).to.deep.equal(artifactAbi("contracts/DstackApp.sol/DstackApp.json"));
  });

  it("DstackKms ABI equals the compiled artifact", () => {
    expect(dstackKmsAbi).to.deep.equal(artifactAbi("contracts/DstackKms.sol/DstackKms.json"));
  });

  it("interface ids are the XOR of their selectors", () => {
    expect(IAPP_AUTH_INTERFACE_ID).to.equal(
      interfaceId(["isAppAllowed((address,bytes32,address,bytes32,bytes32,bytes32,bytes32,string,string[]))"]),
    );
    expect(IAPP_AUTH_BASIC_MANAGEMENT_INTERFACE_ID).to.equal(
      interfaceId(["addComposeHash(bytes32)", "removeComposeHash(bytes32)", "addDevice(bytes32)", "removeDevice(bytes32)"]),
    );
    expect(IAPP_AUTH_BATCH_MANAGEMENT_INTERFACE_ID).to.equal(
      interfaceId(["addComposeHashes(bytes32[])", "removeComposeHashes(bytes32[])"]),
    );
    expect(ERC165_INTERFACE_ID).to.equal(interfaceId(["supportsInterface(bytes4)"]));
    // The spec's fixed values, so a wrong signature above cannot hide a wrong constant.
    expect(IAPP_AUTH_INTERFACE_ID).to.equal("0x1e079198");
    expect(IAPP_AUTH_BASIC_MANAGEMENT_INTERFACE_ID).to.equal("0x8fd37527");
  });

  it("the interface ids match the compiled interfaces' functions", () => {
    // The app interfaces extend IERC165 (as upstream's do); an ERC-165 id excludes inherited
    // functions, so supportsInterface is left out of the XOR.
    const selectorsOf = (path: string) =>
      (artifactAbi(path) as AbiFunction[])
        .filter((item) => item.type === "function" && item.name !== "supportsInterface")
        .map((item) => toFunctionSelector(item));
    const xor = (selectors: string[]) =>
      `0x${selectors.map((s) => BigInt(s)).reduce((a, b) => a ^ b, 0n).toString(16).padStart(8, "0")}`;
    expect(xor(selectorsOf("contracts/interfaces/IAppAuth.sol/IAppAuth.json"))).to.equal(IAPP_AUTH_INTERFACE_ID);
    expect(xor(selectorsOf("contracts/interfaces/IAppAuthBasicManagement.sol/IAppAuthBasicManagement.json"))).to.equal(
      IAPP_AUTH_BASIC_MANAGEMENT_INTERFACE_ID,
    );
    expect(xor(selectorsOf("contracts/interfaces/IAppAuthBatchManagement.sol/IAppAuthBatchManagement.json"))).to.equal(
      IAPP_AUTH_BATCH_MANAGEMENT_INTERFACE_ID,
    );
  });

  it("Multicall3: aggregate3 selector is dispatched by the canonical runtime code", () => {
    const aggregate3 = multicall3Abi[0];
    expect(toFunctionSelector(aggregate3)).to.equal("0x82ad56cb");
    // PUSH4 <selector> in the dispatcher.
    expect(MULTICALL3_RUNTIME_CODE.includes("6382ad56cb")).to.equal(true);
    expect(keccak256(MULTICALL3_RUNTIME_CODE)).to.equal(MULTICALL3_RUNTIME_CODE_HASH);
    expect((MULTICALL3_RUNTIME_CODE.length - 2) / 2).to.equal(3808);
    expect(MULTICALL3_ADDRESS).to.equal("0xcA11bde05977b3631167028862bE2a173976CA11");
  });
});
