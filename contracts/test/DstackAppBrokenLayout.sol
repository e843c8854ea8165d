// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Ownable2StepUpgradeable} from "@openzeppelin/contracts-upgradeable/access/Ownable2StepUpgradeable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts/proxy/utils/UUPSUpgradeable.sol";

/**
 * @title DstackAppBrokenLayout
 * @notice A deliberately layout-breaking DstackApp successor: one variable inserted before
 * `allowedComposeHashes` shifts every slot. The upgrade checks must refuse it. Test only.
 */
contract DstackAppBrokenLayout is Ownable2StepUpgradeable, UUPSUpgradeable {
    /// @notice The inserted variable that takes slot 0.
    uint256 public inserted;
    /// @notice Moved from slot 0 to slot 1.
    mapping(bytes32 composeHash => bool allowed) public allowedComposeHashes;

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    /**
     * @notice Initialises a fresh proxy (never used: this contract exists to be refused).
     * @param initialOwner the owner
     */
    function initialize(address initialOwner) external initializer {
        __Ownable_init(initialOwner);
        __Ownable2Step_init();
    }

    // Owner only; nothing else to check in a contract that exists to be refused.
    // solhint-disable-next-line no-empty-blocks
    function _authorizeUpgrade(address) internal override onlyOwner {}
}
