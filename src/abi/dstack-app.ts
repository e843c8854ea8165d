// Generated from artifacts/contracts/DstackApp.sol/DstackApp.json (our own compiled contract).
// test/chain/abi.test.ts deep-compares it with the artifact, so a contract change that is not
// copied here fails the tests instead of silently diverging.

/** ABI of DstackApp (the app-auth contract behind an ERC1967 proxy). */
export const dstackAppAbi = [
  { inputs: [], stateMutability: "nonpayable", type: "constructor" },
  {
    inputs: [
      { internalType: "address", name: "target", type: "address" },
    ],
    name: "AddressEmptyCode",
    type: "error",
  },
  {
    inputs: [
      { internalType: "address", name: "implementation", type: "address" },
    ],
    name: "ERC1967InvalidImplementation",
    type: "error",
  },
  { inputs: [], name: "ERC1967NonPayable", type: "error" },
  { inputs: [], name: "EmptyBatch", type: "error" },
  { inputs: [], name: "FailedCall", type: "error" },
  { inputs: [], name: "InvalidInitialization", type: "error" },
  { inputs: [], name: "NotInitializing", type: "error" },
  {
    inputs: [
      { internalType: "address", name: "owner", type: "address" },
    ],
    name: "OwnableInvalidOwner",
    type: "error",
  },
  {
    inputs: [
      { internalType: "address", name: "account", type: "address" },
    ],
    name: "OwnableUnauthorizedAccount",
    type: "error",
  },
  { inputs: [], name: "UUPSUnauthorizedCallContext", type: "error" },
  {
    inputs: [
      { internalType: "bytes32", name: "slot", type: "bytes32" },
    ],
    name: "UUPSUnsupportedProxiableUUID",
    type: "error",
  },
  {
    anonymous: false,
    inputs: [
      { indexed: false, internalType: "bool", name: "allowAny", type: "bool" },
    ],
    name: "AllowAnyDeviceSet",
    type: "event",
  },
  {
    anonymous: false,
    inputs: [
      { indexed: false, internalType: "bytes32", name: "composeHash", type: "bytes32" },
    ],
    name: "ComposeHashAdded",
    type: "event",
  },
  {
    anonymous: false,
    inputs: [
      { indexed: false, internalType: "bytes32", name: "composeHash", type: "bytes32" },
    ],
    name: "ComposeHashRemoved",
    type: "event",
  },
  {
    anonymous: false,
    inputs: [
      { indexed: false, internalType: "bytes32", name: "deviceId", type: "bytes32" },
    ],
    name: "DeviceAdded",
    type: "event",
  },
  {
    anonymous: false,
    inputs: [
      { indexed: false, internalType: "bytes32", name: "deviceId", type: "bytes32" },
    ],
    name: "DeviceRemoved",
    type: "event",
  },
  {
    anonymous: false,
    inputs: [
      { indexed: false, internalType: "uint64", name: "version", type: "uint64" },
    ],
    name: "Initialized",
    type: "event",
  },
  {
    anonymous: false,
    inputs: [
      { indexed: true, internalType: "address", name: "previousOwner", type: "address" },
      { indexed: true, internalType: "address", name: "newOwner", type: "address" },
    ],
    name: "OwnershipTransferStarted",
    type: "event",
  },
  {
    anonymous: false,
    inputs: [
      { indexed: true, internalType: "address", name: "previousOwner", type: "address" },
      { indexed: true, internalType: "address", name: "newOwner", type: "address" },
    ],
    name: "OwnershipTransferred",
    type: "event",
  },
  {
    anonymous: false,
    inputs: [
      { indexed: true, internalType: "address", name: "actor", type: "address" },
      { indexed: true, internalType: "bytes32", name: "policy", type: "bytes32" },
      { indexed: true, internalType: "bytes32", name: "value", type: "bytes32" },
      { indexed: false, internalType: "bool", name: "enabled", type: "bool" },
    ],
    name: "PolicyChanged",
    type: "event",
  },
  {
    anonymous: false,
    inputs: [
      { indexed: false, internalType: "bool", name: "requireUpToDate", type: "bool" },
    ],
    name: "RequireTcbUpToDateSet",
    type: "event",
  },
  {
    anonymous: false,
    inputs: [
      { indexed: true, internalType: "address", name: "implementation", type: "address" },
    ],
    name: "Upgraded",
    type: "event",
  },
  { anonymous: false, inputs: [], name: "UpgradesDisabled", type: "event" },
  {
    inputs: [],
    name: "UPGRADE_INTERFACE_VERSION",
    outputs: [
      { internalType: "string", name: "", type: "string" },
    ],
    stateMutability: "view",
    type: "function",
  },
  { inputs: [], name: "acceptOwnership", outputs: [], stateMutability: "nonpayable", type: "function" },
  {
    inputs: [
      { internalType: "bytes32", name: "composeHash", type: "bytes32" },
    ],
    name: "addComposeHash",
    outputs: [],
    stateMutability: "nonpayable",
    type: "function",
  },
  {
    inputs: [
      { internalType: "bytes32[]", name: "composeHashes", type: "bytes32[]" },
    ],
    name: "addComposeHashes",
    outputs: [],
    stateMutability: "nonpayable",
    type: "function",
  },
  {
    inputs: [
      { internalType: "bytes32", name: "deviceId", type: "bytes32" },
    ],
    name: "addDevice",
    outputs: [],
    stateMutability: "nonpayable",
    type: "function",
  },
  {
    inputs: [],
    name: "allowAnyDevice",
    outputs: [
      { internalType: "bool", name: "", type: "bool" },
    ],
    stateMutability: "view",
    type: "function",
  },
  {
    inputs: [
      { internalType: "bytes32", name: "composeHash", type: "bytes32" },
    ],
    name: "allowedComposeHashes",
    outputs: [
      { internalType: "bool", name: "allowed", type: "bool" },
    ],
    stateMutability: "view",
    type: "function",
  },
  {
    inputs: [
      { internalType: "bytes32", name: "deviceId", type: "bytes32" },
    ],
    name: "allowedDeviceIds",
    outputs: [
      { internalType: "bool", name: "allowed", type: "bool" },
    ],
    stateMutability: "view",
    type: "function",
  },
  { inputs: [], name: "disableUpgrades", outputs: [], stateMutability: "nonpayable", type: "function" },
  {
    inputs: [
      { internalType: "address", name: "initialOwner", type: "address" },
      { internalType: "bool", name: "disableUpgrades_", type: "bool" },
      { internalType: "bool", name: "allowAnyDevice_", type: "bool" },
      { internalType: "bytes32", name: "initialDeviceId", type: "bytes32" },
      { internalType: "bytes32", name: "initialComposeHash", type: "bytes32" },
    ],
    name: "initialize",
    outputs: [],
    stateMutability: "nonpayable",
    type: "function",
  },
  {
    inputs: [
      { internalType: "address", name: "initialOwner", type: "address" },
      { internalType: "bool", name: "disableUpgrades_", type: "bool" },
      { internalType: "bool", name: "requireTcbUpToDate_", type: "bool" },
      { internalType: "bool", name: "allowAnyDevice_", type: "bool" },
      { internalType: "bytes32", name: "initialDeviceId", type: "bytes32" },
      { internalType: "bytes32", name: "initialComposeHash", type: "bytes32" },
    ],
    name: "initialize",
    outputs: [],
    stateMutability: "nonpayable",
    type: "function",
  },
  {
    inputs: [
      {
        components: [
          { internalType: "address", name: "appId", type: "address" },
          { internalType: "bytes32", name: "composeHash", type: "bytes32" },
          { internalType: "address", name: "instanceId", type: "address" },
          { internalType: "bytes32", name: "deviceId", type: "bytes32" },
          { internalType: "bytes32", name: "mrAggregated", type: "bytes32" },
          { internalType: "bytes32", name: "mrSystem", type: "bytes32" },
          { internalType: "bytes32", name: "osImageHash", type: "bytes32" },
          { internalType: "string", name: "tcbStatus", type: "string" },
          { internalType: "string[]", name: "advisoryIds", type: "string[]" },
        ],
        internalType: "struct IAppAuth.AppBootInfo",
        name: "bootInfo",
        type: "tuple",
      },
    ],
    name: "isAppAllowed",
    outputs: [
      { internalType: "bool", name: "isAllowed", type: "bool" },
      { internalType: "string", name: "reason", type: "string" },
    ],
    stateMutability: "view",
    type: "function",
  },
  {
    inputs: [],
    name: "owner",
    outputs: [
      { internalType: "address", name: "", type: "address" },
    ],
    stateMutability: "view",
    type: "function",
  },
  {
    inputs: [],
    name: "pendingOwner",
    outputs: [
      { internalType: "address", name: "", type: "address" },
    ],
    stateMutability: "view",
    type: "function",
  },
  {
    inputs: [],
    name: "proxiableUUID",
    outputs: [
      { internalType: "bytes32", name: "", type: "bytes32" },
    ],
    stateMutability: "view",
    type: "function",
  },
  {
    inputs: [
      { internalType: "bytes32", name: "composeHash", type: "bytes32" },
    ],
    name: "removeComposeHash",
    outputs: [],
    stateMutability: "nonpayable",
    type: "function",
  },
  {
    inputs: [
      { internalType: "bytes32[]", name: "composeHashes", type: "bytes32[]" },
    ],
    name: "removeComposeHashes",
    outputs: [],
    stateMutability: "nonpayable",
    type: "function",
  },
  {
    inputs: [
      { internalType: "bytes32", name: "deviceId", type: "bytes32" },
    ],
    name: "removeDevice",
    outputs: [],
    stateMutability: "nonpayable",
    type: "function",
  },
  { inputs: [], name: "renounceOwnership", outputs: [], stateMutability: "nonpayable", type: "function" },
  {
    inputs: [],
    name: "requireTcbUpToDate",
    outputs: [
      { internalType: "bool", name: "", type: "bool" },
    ],
    stateMutability: "view",
    type: "function",
  },
  {
    inputs: [
      { internalType: "bool", name: "allowAny", type: "bool" },
    ],
    name: "setAllowAnyDevice",
    outputs: [],
    stateMutability: "nonpayable",
    type: "function",
  },
  {
    inputs: [
      { internalType: "bool", name: "requireUpToDate", type: "bool" },
    ],
    name: "setRequireTcbUpToDate",
    outputs: [],
    stateMutability: "nonpayable",
    type: "function",
  },
  {
    inputs: [
      { internalType: "bytes4", name: "interfaceId", type: "bytes4" },
    ],
    name: "supportsInterface",
    outputs: [
      { internalType: "bool", name: "", type: "bool" },
    ],
    stateMutability: "view",
    type: "function",
  },
  {
    inputs: [
      { internalType: "address", name: "newOwner", type: "address" },
    ],
    name: "transferOwnership",
    outputs: [],
    stateMutability: "nonpayable",
    type: "function",
  },
  {
    inputs: [
      { internalType: "address", name: "newImplementation", type: "address" },
      { internalType: "bytes", name: "data", type: "bytes" },
    ],
    name: "upgradeToAndCall",
    outputs: [],
    stateMutability: "payable",
    type: "function",
  },
  {
    inputs: [],
    name: "upgradesDisabled",
    outputs: [
      { internalType: "bool", name: "", type: "bool" },
    ],
    stateMutability: "view",
    type: "function",
  },
  {
    inputs: [],
    name: "version",
    outputs: [
      { internalType: "uint256", name: "", type: "uint256" },
    ],
    stateMutability: "pure",
    type: "function",
  },
] as const;

// ERC-165 interface ids. Clients (the dstack KMS, @phala/cloud, verifiers) probe these to
// decide what a contract at an app id can do, so they are fixed by upstream; the test
// recomputes each as the XOR of its functions' selectors.

/** ERC-165 itself: `supportsInterface(bytes4)`. */
export const ERC165_INTERFACE_ID = "0x01ffc9a7" as const;
/** IAppAuth: `isAppAllowed(AppBootInfo)`. */
export const IAPP_AUTH_INTERFACE_ID = "0x1e079198" as const;
/** IAppAuthBasicManagement: add/remove compose hash and device. */
export const IAPP_AUTH_BASIC_MANAGEMENT_INTERFACE_ID = "0x8fd37527" as const;
/**
 * IAppAuthBatchManagement (this project's extension, not upstream):
 * `addComposeHashes(bytes32[])` xor `removeComposeHashes(bytes32[])`.
 */
export const IAPP_AUTH_BATCH_MANAGEMENT_INTERFACE_ID = "0xb24f781b" as const;
