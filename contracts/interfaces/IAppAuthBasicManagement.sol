// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

/**
 * @title IAppAuthBasicManagement
 * @notice The allowlist management every dstack tool expects of an app contract.
 * ERC-165 id `0x8fd37527`. The event arguments are not indexed, as upstream.
 */
interface IAppAuthBasicManagement is IERC165 {
    /// @notice A compose hash was allowed to boot.
    event ComposeHashAdded(bytes32 composeHash);
    /// @notice A compose hash may no longer boot.
    event ComposeHashRemoved(bytes32 composeHash);
    /// @notice A device id was allowed.
    event DeviceAdded(bytes32 deviceId);
    /// @notice A device id is no longer allowed.
    event DeviceRemoved(bytes32 deviceId);

    /**
     * @notice Allows CVMs booting this compose hash.
     * @param composeHash SHA-256 of an app-compose.json
     */
    function addComposeHash(bytes32 composeHash) external;

    /**
     * @notice Stops CVMs booting this compose hash from getting keys.
     * @param composeHash SHA-256 of an app-compose.json
     */
    function removeComposeHash(bytes32 composeHash) external;

    /**
     * @notice Allows CVMs on this device.
     * @param deviceId the device id
     */
    function addDevice(bytes32 deviceId) external;

    /**
     * @notice Stops allowing CVMs on this device.
     * @param deviceId the device id
     */
    function removeDevice(bytes32 deviceId) external;
}
