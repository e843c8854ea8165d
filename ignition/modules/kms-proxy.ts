import type { ArgumentType, IgnitionModuleBuilder } from "@nomicfoundation/ignition-core";

/** The KMS implementation and its proxy, initialised atomically with (owner, app implementation). */
export function buildKmsProxy(m: IgnitionModuleBuilder, owner: ArgumentType, appImplementation: ArgumentType) {
  const implementation = m.contract("DstackKms", [], { id: "DstackKmsImplementation" });
  const initData = m.encodeFunctionCall(implementation, "initialize", [owner, appImplementation]);
  const proxy = m.contract("ERC1967Proxy", [implementation, initData], { id: "DstackKmsProxy" });
  const kms = m.contractAt("DstackKms", proxy, { id: "DstackKms" });
  return { kms, implementation, proxy };
}
