// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

// The policy ids of `PolicyChanged`: keccak256 of the names clients filter on. Every
// name is upstream dstack's (kms/auth-eth), so upstream-style indexers see every event.
bytes32 constant POLICY_COMPOSE_HASH = keccak256("compose-hash");
bytes32 constant POLICY_DEVICE = keccak256("device");
bytes32 constant POLICY_ALLOW_ANY_DEVICE = keccak256("allow-any-device");
bytes32 constant POLICY_REQUIRE_TCB_UP_TO_DATE = keccak256("require-tcb-up-to-date");
bytes32 constant POLICY_UPGRADES_DISABLED = keccak256("upgrades-disabled");
bytes32 constant POLICY_IMPLEMENTATION_UPGRADE = keccak256("implementation-upgrade");
bytes32 constant POLICY_OS_IMAGE = keccak256("os-image");
bytes32 constant POLICY_KMS_AGGREGATED_MR = keccak256("kms-aggregated-mr");
bytes32 constant POLICY_KMS_DEVICE = keccak256("kms-device");
bytes32 constant POLICY_APP_REGISTERED = keccak256("registered-app");
bytes32 constant POLICY_APP_IMPLEMENTATION = keccak256("app-implementation");
bytes32 constant POLICY_GATEWAY_APP_ID = keccak256("gateway-app-id");
bytes32 constant POLICY_KMS_INFO = keccak256("kms-info");
