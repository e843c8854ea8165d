import type { StorageLayout } from "@openzeppelin/upgrades-core";

/**
 * The storage layouts of upstream dstack's deployed implementations (Dstack-TEE/dstack,
 * `kms/auth-eth/contracts`, OpenZeppelin upgradeable 5.x), recorded as facts in the format
 * `@openzeppelin/upgrades-core` compares. They are the reference when a live upstream proxy
 * is upgraded to one of this project's implementations: upstream's build info is not
 * available here, and its layout is fixed by the deployed proxies
 * (../shared/spec/dstack-contracts-compat.md).
 */

const UPSTREAM_SOURCE = "Dstack-TEE/dstack kms/auth-eth";

const COMMON_TYPES: StorageLayout["types"] = {
  t_address: { label: "address", numberOfBytes: "20" },
  t_bool: { label: "bool", numberOfBytes: "1" },
  t_bytes32: { label: "bytes32", numberOfBytes: "32" },
  t_bytes_storage: { label: "bytes", numberOfBytes: "32" },
  t_string_storage: { label: "string", numberOfBytes: "32" },
  t_uint256: { label: "uint256", numberOfBytes: "32" },
  t_uint64: { label: "uint64", numberOfBytes: "8" },
  "t_mapping(t_bytes32,t_bool)": { label: "mapping(bytes32 => bool)", numberOfBytes: "32" },
  "t_mapping(t_address,t_bool)": { label: "mapping(address => bool)", numberOfBytes: "32" },
};

// OpenZeppelin's upgradeable bases keep their state in ERC-7201 namespaces, not in slots;
// slots and offsets here are relative to each namespace's base slot.
const OZ_NAMESPACES: NonNullable<StorageLayout["namespaces"]> = {
  "erc7201:openzeppelin.storage.Ownable2Step": [
    { contract: "Ownable2StepUpgradeable", label: "_pendingOwner", type: "t_address", src: "@openzeppelin/contracts-upgradeable/access/Ownable2StepUpgradeable.sol", slot: "0", offset: 0 },
  ],
  "erc7201:openzeppelin.storage.Ownable": [
    { contract: "OwnableUpgradeable", label: "_owner", type: "t_address", src: "@openzeppelin/contracts-upgradeable/access/OwnableUpgradeable.sol", slot: "0", offset: 0 },
  ],
  "erc7201:openzeppelin.storage.Initializable": [
    { contract: "Initializable", label: "_initialized", type: "t_uint64", src: "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol", slot: "0", offset: 0 },
    { contract: "Initializable", label: "_initializing", type: "t_bool", src: "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol", slot: "0", offset: 8 },
  ],
};

function slot(contract: string, label: string, slotNumber: number, type: string, offset = 0) {
  return { contract, label, type, slot: String(slotNumber), offset, src: `${UPSTREAM_SOURCE} contracts/${contract}.sol` };
}

/** Upstream DstackApp (version 2): slots 0..3, then a 49-word gap. */
export const UPSTREAM_DSTACK_APP_LAYOUT: StorageLayout = {
  storage: [
    slot("DstackApp", "allowedComposeHashes", 0, "t_mapping(t_bytes32,t_bool)"),
    slot("DstackApp", "_upgradesDisabled", 1, "t_bool"),
    slot("DstackApp", "allowAnyDevice", 1, "t_bool", 1),
    slot("DstackApp", "allowedDeviceIds", 2, "t_mapping(t_bytes32,t_bool)"),
    slot("DstackApp", "requireTcbUpToDate", 3, "t_bool"),
    slot("DstackApp", "__gap", 4, "t_array(t_uint256)49_storage"),
  ],
  types: {
    ...COMMON_TYPES,
    "t_array(t_uint256)49_storage": { label: "uint256[49]", numberOfBytes: "1568" },
  },
  namespaces: OZ_NAMESPACES,
};

/** Upstream DstackKms: slots 0..9 (the KmsInfo struct takes 0..3), then a 50-word gap. */
export const UPSTREAM_DSTACK_KMS_LAYOUT: StorageLayout = {
  storage: [
    slot("DstackKms", "kmsInfo", 0, "t_struct(KmsInfo)_storage"),
    slot("DstackKms", "gatewayAppId", 4, "t_string_storage"),
    slot("DstackKms", "registeredApps", 5, "t_mapping(t_address,t_bool)"),
    slot("DstackKms", "kmsAllowedAggregatedMrs", 6, "t_mapping(t_bytes32,t_bool)"),
    slot("DstackKms", "kmsAllowedDeviceIds", 7, "t_mapping(t_bytes32,t_bool)"),
    slot("DstackKms", "allowedOsImages", 8, "t_mapping(t_bytes32,t_bool)"),
    slot("DstackKms", "appImplementation", 9, "t_address"),
    slot("DstackKms", "__gap", 10, "t_array(t_uint256)50_storage"),
  ],
  types: {
    ...COMMON_TYPES,
    "t_array(t_uint256)50_storage": { label: "uint256[50]", numberOfBytes: "1600" },
    "t_struct(KmsInfo)_storage": {
      label: "struct DstackKms.KmsInfo",
      numberOfBytes: "128",
      members: [
        { label: "k256Pubkey", type: "t_bytes_storage" },
        { label: "caPubkey", type: "t_bytes_storage", offset: 0, slot: "1" },
        { label: "quote", type: "t_bytes_storage", offset: 0, slot: "2" },
        { label: "eventlog", type: "t_bytes_storage", offset: 0, slot: "3" },
      ],
    },
  },
  namespaces: OZ_NAMESPACES,
};
