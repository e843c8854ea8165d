// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

/**
 * @title IAppAuth
 * @notice The question the dstack KMS asks before it releases keys to a CVM: may this
 * boot, described by its attested measurements, run? ERC-165 id `0x1e079198` (an
 * implementation answers `supportsInterface`, as upstream's interface requires).
 */
interface IAppAuth is IERC165 {
    /**
     * @notice What a booting CVM proved about itself, as the KMS passes it on.
     * @param appId the DstackApp address from the `app-id` RTMR3 event
     * @param composeHash SHA-256 of the exact app-compose.json bytes (`compose-hash` event)
     * @param instanceId the `instance-id` event
     * @param deviceId the hardware device the CVM runs on
     * @param mrAggregated aggregate of MRTD and RTMR0-3
     * @param mrSystem measurement of the system part (firmware, kernel, initrd)
     * @param osImageHash the `os-image-hash` event
     * @param tcbStatus Intel's TCB status of the platform, e.g. "UpToDate"
     * @param advisoryIds Intel security advisories that apply to the platform
     */
    struct AppBootInfo {
        address appId;
        bytes32 composeHash;
        address instanceId;
        bytes32 deviceId;
        bytes32 mrAggregated;
        bytes32 mrSystem;
        bytes32 osImageHash;
        string tcbStatus;
        string[] advisoryIds;
    }

    /**
     * @notice Decides whether a CVM with these measurements may boot.
     * @param bootInfo the attested boot measurements
     * @return isAllowed true when the boot is authorised
     * @return reason an operator-facing explanation when it is not, empty otherwise
     */
    function isAppAllowed(AppBootInfo calldata bootInfo) external view returns (bool isAllowed, string memory reason);
}
