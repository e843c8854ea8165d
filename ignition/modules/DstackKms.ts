import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import { buildKmsProxy } from "./kms-proxy.js";

const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

/**
 * A DstackKms behind an ERC1967 proxy, initialised in the proxy's constructor.
 * Parameters: `owner` (defaults to the deploying account) and `appImplementation`, an
 * existing DstackApp implementation for the factory (default: none, set it later with
 * `setAppImplementation`). Use `DstackKmsWithApp` to deploy a fresh implementation too.
 */
export default buildModule("DstackKms", (m) => {
  const owner = m.getParameter("owner", m.getAccount(0));
  const appImplementation = m.getParameter<string>("appImplementation", ZERO_ADDRESS);
  return buildKmsProxy(m, owner, appImplementation);
});
