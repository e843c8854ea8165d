// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {DstackApp} from "../DstackApp.sol";

/**
 * @title DstackAppNextVersion
 * @notice A later DstackApp implementation, used by the tests to prove that an upgrade
 * keeps every allowlist entry and flag. Not deployed in production.
 * @dev It adds no state and no initializer: a proxy upgraded to it is already initialised,
 * so OpenZeppelin's "missing initializer" finding does not apply.
 * @custom:oz-upgrades-unsafe-allow missing-initializer
 */
contract DstackAppNextVersion is DstackApp {
    /// @notice Reports the version of this implementation.
    /// @return the version number
    function version() external pure override returns (uint256) {
        return 3;
    }
}
