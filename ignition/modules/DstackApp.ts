import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

const ZERO_BYTES32 = "0x0000000000000000000000000000000000000000000000000000000000000000";

/**
 * A DstackApp behind its own ERC1967 proxy, initialised in the proxy's constructor so
 * that nobody can front-run the initialisation. Parameters (all optional but `owner`
 * defaults to the deploying account): owner, disableUpgrades, requireTcbUpToDate,
 * allowAnyDevice, initialDeviceId, initialComposeHash.
 */
export default buildModule("DstackApp", (m) => {
  const owner = m.getParameter("owner", m.getAccount(0));
  const implementation = m.contract("DstackApp", [], { id: "DstackAppImplementation" });
  const initData = m.encodeFunctionCall(implementation, "initialize(address,bool,bool,bool,bytes32,bytes32)", [
    owner,
    m.getParameter("disableUpgrades", false),
    m.getParameter("requireTcbUpToDate", false),
    m.getParameter("allowAnyDevice", true),
    m.getParameter("initialDeviceId", ZERO_BYTES32),
    m.getParameter("initialComposeHash", ZERO_BYTES32),
  ]);
  const proxy = m.contract("ERC1967Proxy", [implementation, initData], { id: "DstackAppProxy" });
  const app = m.contractAt("DstackApp", proxy, { id: "DstackApp" });
  return { app, implementation, proxy };
});
