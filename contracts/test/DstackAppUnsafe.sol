// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {DstackApp} from "../DstackApp.sol";

/**
 * @title DstackAppUnsafe
 * @notice A DstackApp successor with an unchanged storage layout that is nevertheless not
 * upgrade-safe: it can `delegatecall` arbitrary code, which could destroy or take over the
 * implementation. The upgrade checks must refuse it. Test only.
 * @custom:oz-upgrades-unsafe-allow missing-initializer
 */
contract DstackAppUnsafe is DstackApp {
    /**
     * @notice Runs arbitrary code in this contract's context.
     * @param target the code to run
     * @param data the call data
     */
    function run(address target, bytes calldata data) external onlyOwner {
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok,) = target.delegatecall(data);
        // solhint-disable-next-line gas-custom-errors
        require(ok, "delegatecall failed");
    }
}
