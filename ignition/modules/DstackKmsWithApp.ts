import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import { buildKmsProxy } from "./kms-proxy.js";

/**
 * A DstackKms behind an ERC1967 proxy plus a fresh DstackApp implementation that its
 * factory (`deployAndRegisterApp`) puts behind new app proxies. Parameter: `owner`.
 */
export default buildModule("DstackKmsWithApp", (m) => {
  const owner = m.getParameter("owner", m.getAccount(0));
  const appImplementation = m.contract("DstackApp", [], { id: "DstackAppImplementation" });
  return { ...buildKmsProxy(m, owner, appImplementation), appImplementation };
});
