import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

const ZERO_BYTES32 = "0x0000000000000000000000000000000000000000000000000000000000000000";

/**
 * A DstackApp deployed and registered through an existing KMS's factory
 * (`deployAndRegisterApp`); the app id is read from `AppDeployedViaFactory`.
 * Parameters: `kms` (required), owner, disableUpgrades, requireTcbUpToDate,
 * allowAnyDevice, initialDeviceId, initialComposeHash.
 */
export default buildModule("DstackAppViaKms", (m) => {
  const kms = m.contractAt("DstackKms", m.getParameter<string>("kms"), { id: "DstackKms" });
  const deployment = m.call(
    kms,
    "deployAndRegisterApp(address,bool,bool,bool,bytes32,bytes32)",
    [
      m.getParameter("owner", m.getAccount(0)),
      m.getParameter("disableUpgrades", false),
      m.getParameter("requireTcbUpToDate", false),
      m.getParameter("allowAnyDevice", true),
      m.getParameter("initialDeviceId", ZERO_BYTES32),
      m.getParameter("initialComposeHash", ZERO_BYTES32),
    ],
    { id: "DeployAndRegisterApp" },
  );
  const appId = m.readEventArgument(deployment, "AppDeployedViaFactory", "appId", { id: "ReadAppId" });
  const app = m.contractAt("DstackApp", appId, { id: "DstackApp" });
  return { app };
});
