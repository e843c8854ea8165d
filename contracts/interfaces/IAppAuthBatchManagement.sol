// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title IAppAuthBatchManagement
 * @notice Batch allowlist changes (an extension of this project, not upstream). A client
 * checks it with ERC-165 before sending one transaction for several hashes; each hash
 * still emits the same events as the single-hash functions.
 */
interface IAppAuthBatchManagement {
    /**
     * @notice Allows several compose hashes in one transaction.
     * @param composeHashes the hashes to allow; must not be empty
     */
    function addComposeHashes(bytes32[] calldata composeHashes) external;

    /**
     * @notice Removes several compose hashes in one transaction.
     * @param composeHashes the hashes to remove; must not be empty
     */
    function removeComposeHashes(bytes32[] calldata composeHashes) external;
}
