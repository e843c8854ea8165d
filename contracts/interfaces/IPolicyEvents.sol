// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title IPolicyEvents
 * @notice One indexed event for every governance decision, so that a watcher can follow
 * all policy changes of an app or KMS, and who made them, with a single topic filter.
 */
interface IPolicyEvents {
    /**
     * @notice A policy decision changed.
     * @param actor the account that made the change (the owner: an EOA, a Safe, a timelock)
     * @param policy keccak256 of the policy name, e.g. keccak256("compose-hash")
     * @param value what the decision is about (a hash, a device id, an address as bytes32)
     * @param enabled whether it was allowed/switched on (true) or removed/switched off (false)
     */
    event PolicyChanged(address indexed actor, bytes32 indexed policy, bytes32 indexed value, bool enabled);
}
