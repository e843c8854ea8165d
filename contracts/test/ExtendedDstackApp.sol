// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {OwnableUpgradeable} from "@openzeppelin/contracts-upgradeable/access/OwnableUpgradeable.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {DstackApp} from "../DstackApp.sol";

/**
 * @title ExtendedDstackApp
 * @notice How a Solidity user extends DstackApp: named imports of this project's contract
 * and of the OpenZeppelin symbols it uses, new state after the inherited gap, a
 * reinitializer, and overrides of the virtual functions. It compiles and passes the upgrade
 * check as an upgrade of DstackApp (see the tests). Test only.
 * @custom:oz-upgrades-unsafe-allow missing-initializer-call
 */
contract ExtendedDstackApp is DstackApp {
    /// @notice A label the owner sets once after the upgrade (new state: after the gap).
    string public label;

    /// @notice The label was set.
    event LabelSet(string label);
    /// @notice Renouncing would leave the app without an owner; this extension forbids it.
    error RenounceForbidden();

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    /**
     * @notice Sets the label once, right after the upgrade (`upgradeToAndCall` data).
     * @param label_ the label
     * @custom:oz-upgrades-validate-as-initializer
     */
    function initializeV2(string calldata label_) external reinitializer(2) onlyOwner {
        label = label_;
        emit LabelSet(label_);
    }

    /// @inheritdoc DstackApp
    function version() external pure override returns (uint256) {
        return 3;
    }

    /// @notice Never: an app without an owner cannot change its allowlist again.
    function renounceOwnership() public view override(OwnableUpgradeable) onlyOwner {
        revert RenounceForbidden();
    }

    /// @inheritdoc DstackApp
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IERC165).interfaceId || super.supportsInterface(interfaceId);
    }

    /// @dev Keeps DstackApp's checks (owner only, never once disabled) and adds one.
    function _authorizeUpgrade(address newImplementation) internal override {
        super._authorizeUpgrade(newImplementation);
        // solhint-disable-next-line gas-custom-errors
        require(newImplementation.code.length > 0, "no code");
    }
}
