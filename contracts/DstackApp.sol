// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Ownable2StepUpgradeable} from "@openzeppelin/contracts-upgradeable/access/Ownable2StepUpgradeable.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {ERC165Upgradeable} from "@openzeppelin/contracts-upgradeable/utils/introspection/ERC165Upgradeable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts/proxy/utils/UUPSUpgradeable.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {IAppAuth} from "./interfaces/IAppAuth.sol";
import {IAppAuthBasicManagement} from "./interfaces/IAppAuthBasicManagement.sol";
import {IAppAuthBatchManagement} from "./interfaces/IAppAuthBatchManagement.sol";
import {IPolicyEvents} from "./interfaces/IPolicyEvents.sol";
import {
    POLICY_ALLOW_ANY_DEVICE,
    POLICY_COMPOSE_HASH,
    POLICY_DEVICE,
    POLICY_IMPLEMENTATION_UPGRADE,
    POLICY_REQUIRE_TCB_UP_TO_DATE,
    POLICY_UPGRADES_DISABLED
} from "./PolicyNames.sol";

/**
 * @title DstackApp
 * @notice The on-chain governance of one dstack app: which compose hashes (exact
 * app-compose.json bytes) may boot, on which devices, and with what TCB status. The
 * contract's address is the app id a CVM attests in its `app-id` RTMR3 event.
 * @dev Drop-in compatible with upstream dstack's DstackApp (ABI, events, ERC-165 ids,
 * decision order and reason strings, storage slots), so a live upstream proxy can be
 * upgraded to this implementation. Deployed behind an ERC1967Proxy (UUPS); ownership
 * changes are two-step.
 */
contract DstackApp is
    Initializable,
    Ownable2StepUpgradeable,
    UUPSUpgradeable,
    ERC165Upgradeable,
    IAppAuth,
    IAppAuthBasicManagement,
    IAppAuthBatchManagement,
    IPolicyEvents
{
    // Storage: these slots are fixed by the deployed upstream proxies (slot 0..3, gap
    // 4..52). New variables go into the gap, shrinking it; never above or between.
    /// @notice Whether a compose hash may boot.
    mapping(bytes32 composeHash => bool allowed) public allowedComposeHashes;
    bool private _upgradesDisabled;
    /// @notice When true, any device may boot and `allowedDeviceIds` is not consulted.
    bool public allowAnyDevice;
    /// @notice Whether a device may boot (only consulted when `allowAnyDevice` is false).
    mapping(bytes32 deviceId => bool allowed) public allowedDeviceIds;
    /// @notice When true, only platforms whose TCB status is "UpToDate" may boot.
    bool public requireTcbUpToDate;
    uint256[49] private __gap;

    /// @notice Upgrades were disabled for ever.
    event UpgradesDisabled();
    /// @notice The device restriction was switched off (true) or on (false).
    event AllowAnyDeviceSet(bool allowAny);
    /// @notice The TCB requirement was switched on (true) or off (false).
    event RequireTcbUpToDateSet(bool requireUpToDate);

    /// @notice A batch call was given no hashes. (The batch functions are ours, so this
    /// error is too; where upstream reverts, this contract reverts with upstream's string.)
    error EmptyBatch();

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    /**
     * @notice Initialises a freshly deployed proxy.
     * @param initialOwner the owner (an EOA, a Safe, a timelock)
     * @param disableUpgrades_ when true, the implementation is frozen from the start
     * @param requireTcbUpToDate_ when true, only "UpToDate" platforms may boot
     * @param allowAnyDevice_ when true, no device restriction applies
     * @param initialDeviceId a device to allow, or zero for none
     * @param initialComposeHash a compose hash to allow, or zero for none
     */
    function initialize(
        address initialOwner,
        bool disableUpgrades_,
        bool requireTcbUpToDate_,
        bool allowAnyDevice_,
        bytes32 initialDeviceId,
        bytes32 initialComposeHash
    ) external initializer {
        _initialize(
            initialOwner, disableUpgrades_, requireTcbUpToDate_, allowAnyDevice_, initialDeviceId, initialComposeHash
        );
    }

    /**
     * @notice Legacy initializer of upstream version 1 (no TCB requirement).
     * @param initialOwner the owner
     * @param disableUpgrades_ when true, the implementation is frozen from the start
     * @param allowAnyDevice_ when true, no device restriction applies
     * @param initialDeviceId a device to allow, or zero for none
     * @param initialComposeHash a compose hash to allow, or zero for none
     */
    function initialize(
        address initialOwner,
        bool disableUpgrades_,
        bool allowAnyDevice_,
        bytes32 initialDeviceId,
        bytes32 initialComposeHash
    ) external initializer {
        _initialize(initialOwner, disableUpgrades_, false, allowAnyDevice_, initialDeviceId, initialComposeHash);
    }

    /**
     * @notice The contract version, as upstream reports it (2: TCB requirement supported).
     * @dev Batch functions are discovered through ERC-165, not through this number, so
     * that clients that compare it with upstream's keep working.
     * @return the version number
     */
    function version() external pure virtual returns (uint256) {
        return 2;
    }

    /**
     * @notice Whether `disableUpgrades` has been called.
     * @return true when the implementation can never change again
     */
    function upgradesDisabled() external view returns (bool) {
        return _upgradesDisabled;
    }

    /// @inheritdoc IAppAuth
    function isAppAllowed(AppBootInfo calldata bootInfo)
        external
        view
        override
        returns (bool isAllowed, string memory reason)
    {
        if (requireTcbUpToDate && keccak256(bytes(bootInfo.tcbStatus)) != keccak256("UpToDate")) {
            return (false, "TCB status is not up to date");
        }
        if (!allowedComposeHashes[bootInfo.composeHash]) {
            return (false, "Compose hash not allowed");
        }
        if (!allowAnyDevice && !allowedDeviceIds[bootInfo.deviceId]) {
            return (false, "Device not allowed");
        }
        return (true, "");
    }

    /// @inheritdoc IAppAuthBasicManagement
    function addComposeHash(bytes32 composeHash) external override onlyOwner {
        _addComposeHash(composeHash);
    }

    /// @inheritdoc IAppAuthBasicManagement
    function removeComposeHash(bytes32 composeHash) external override onlyOwner {
        _removeComposeHash(composeHash);
    }

    /// @inheritdoc IAppAuthBatchManagement
    function addComposeHashes(bytes32[] calldata composeHashes) external override onlyOwner {
        uint256 count = composeHashes.length;
        if (count == 0) revert EmptyBatch();
        for (uint256 i = 0; i < count; ++i) {
            _addComposeHash(composeHashes[i]);
        }
    }

    /// @inheritdoc IAppAuthBatchManagement
    function removeComposeHashes(bytes32[] calldata composeHashes) external override onlyOwner {
        uint256 count = composeHashes.length;
        if (count == 0) revert EmptyBatch();
        for (uint256 i = 0; i < count; ++i) {
            _removeComposeHash(composeHashes[i]);
        }
    }

    /// @inheritdoc IAppAuthBasicManagement
    function addDevice(bytes32 deviceId) external override onlyOwner {
        _addDevice(deviceId);
    }

    /// @inheritdoc IAppAuthBasicManagement
    function removeDevice(bytes32 deviceId) external override onlyOwner {
        allowedDeviceIds[deviceId] = false;
        emit DeviceRemoved(deviceId);
        emit PolicyChanged(msg.sender, POLICY_DEVICE, deviceId, false);
    }

    /**
     * @notice Switches the device restriction off (true) or on (false).
     * @param allowAny whether any device may boot
     */
    function setAllowAnyDevice(bool allowAny) external onlyOwner {
        _setAllowAnyDevice(allowAny);
    }

    /**
     * @notice Switches the requirement of an "UpToDate" TCB status on or off.
     * @param requireUpToDate whether only up-to-date platforms may boot
     */
    function setRequireTcbUpToDate(bool requireUpToDate) external onlyOwner {
        _setRequireTcbUpToDate(requireUpToDate);
    }

    /**
     * @notice Freezes the implementation for ever: no upgrade is possible afterwards,
     * not even by the owner. Irreversible.
     * @dev Calling it again succeeds and emits the events again, as upstream does, so a
     * batch that includes it does not revert as a whole.
     */
    function disableUpgrades() external onlyOwner {
        _disableUpgrades();
    }

    /// @inheritdoc ERC165Upgradeable
    function supportsInterface(bytes4 interfaceId)
        public
        view
        virtual
        override(ERC165Upgradeable, IERC165)
        returns (bool)
    {
        return interfaceId == type(IAppAuth).interfaceId
            || interfaceId == type(IAppAuthBasicManagement).interfaceId
            || interfaceId == type(IAppAuthBatchManagement).interfaceId || super.supportsInterface(interfaceId);
    }

    function _initialize(
        address initialOwner,
        bool disableUpgrades_,
        bool requireTcbUpToDate_,
        bool allowAnyDevice_,
        bytes32 initialDeviceId,
        bytes32 initialComposeHash
    ) private {
        // Upstream's string (lower-case "invalid"), checked before anything is emitted.
        // solhint-disable-next-line gas-custom-errors
        require(initialOwner != address(0), "invalid owner address");
        // Upstream's events first, in upstream's order: device, compose hash, ownership.
        if (initialDeviceId != bytes32(0)) _addDevice(initialDeviceId);
        if (initialComposeHash != bytes32(0)) _addComposeHash(initialComposeHash);
        __Ownable_init(initialOwner);
        __Ownable2Step_init();
        __ERC165_init();
        // Upstream sets these three flags silently; the events below are ours (listed in
        // the README), so that an indexer rebuilds the initial flags from `PolicyChanged`
        // alone. Only a flag switched on is announced: off is every flag's initial state.
        if (allowAnyDevice_) _setAllowAnyDevice(true);
        if (requireTcbUpToDate_) _setRequireTcbUpToDate(true);
        if (disableUpgrades_) _disableUpgrades();
    }

    function _addComposeHash(bytes32 composeHash) private {
        allowedComposeHashes[composeHash] = true;
        emit ComposeHashAdded(composeHash);
        emit PolicyChanged(msg.sender, POLICY_COMPOSE_HASH, composeHash, true);
    }

    function _removeComposeHash(bytes32 composeHash) private {
        allowedComposeHashes[composeHash] = false;
        emit ComposeHashRemoved(composeHash);
        emit PolicyChanged(msg.sender, POLICY_COMPOSE_HASH, composeHash, false);
    }

    function _addDevice(bytes32 deviceId) private {
        allowedDeviceIds[deviceId] = true;
        emit DeviceAdded(deviceId);
        emit PolicyChanged(msg.sender, POLICY_DEVICE, deviceId, true);
    }

    function _setAllowAnyDevice(bool allowAny) private {
        allowAnyDevice = allowAny;
        emit AllowAnyDeviceSet(allowAny);
        emit PolicyChanged(msg.sender, POLICY_ALLOW_ANY_DEVICE, bytes32(0), allowAny);
    }

    function _setRequireTcbUpToDate(bool requireUpToDate) private {
        requireTcbUpToDate = requireUpToDate;
        emit RequireTcbUpToDateSet(requireUpToDate);
        emit PolicyChanged(msg.sender, POLICY_REQUIRE_TCB_UP_TO_DATE, bytes32(0), requireUpToDate);
    }

    function _disableUpgrades() private {
        _upgradesDisabled = true;
        emit UpgradesDisabled();
        emit PolicyChanged(msg.sender, POLICY_UPGRADES_DISABLED, bytes32(0), true);
    }

    /// @dev Owner only, and never once upgrades are disabled.
    function _authorizeUpgrade(address newImplementation) internal virtual override onlyOwner {
        // Upstream's revert string, so that clients holding upstream's ABI can decode it
        // (33 characters: fixed by upstream, hence reason-string is off for this line).
        // solhint-disable-next-line gas-custom-errors, reason-string
        require(!_upgradesDisabled, "Upgrades are permanently disabled");
        emit PolicyChanged(msg.sender, POLICY_IMPLEMENTATION_UPGRADE, bytes32(uint256(uint160(newImplementation))), true);
    }
}
