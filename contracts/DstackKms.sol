// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Ownable2StepUpgradeable} from "@openzeppelin/contracts-upgradeable/access/Ownable2StepUpgradeable.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {ERC165Upgradeable} from "@openzeppelin/contracts-upgradeable/utils/introspection/ERC165Upgradeable.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts/proxy/utils/UUPSUpgradeable.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {IAppAuth} from "./interfaces/IAppAuth.sol";
import {IPolicyEvents} from "./interfaces/IPolicyEvents.sol";
import {
    POLICY_APP_IMPLEMENTATION,
    POLICY_APP_REGISTERED,
    POLICY_GATEWAY_APP_ID,
    POLICY_IMPLEMENTATION_UPGRADE,
    POLICY_KMS_AGGREGATED_MR,
    POLICY_KMS_DEVICE,
    POLICY_KMS_INFO,
    POLICY_OS_IMAGE
} from "./PolicyNames.sol";

/**
 * @title DstackKms
 * @notice The on-chain policy of a dstack KMS: which OS images may boot, which apps are
 * registered (and so may get keys), and on which measurements and devices the KMS itself
 * may run. It also deploys and registers new apps as ERC1967 proxies of a shared
 * DstackApp implementation.
 * @dev Drop-in compatible with upstream dstack's DstackKms (ABI, events, decision order,
 * reason strings, storage slots 0..9 and a 50-slot gap).
 */
contract DstackKms is Initializable, Ownable2StepUpgradeable, UUPSUpgradeable, ERC165Upgradeable, IAppAuth, IPolicyEvents {
    /**
     * @notice What the KMS publishes about itself so that clients can verify it.
     * @param k256Pubkey the KMS's secp256k1 root public key
     * @param caPubkey the KMS's CA public key
     * @param quote the KMS CVM's TDX quote
     * @param eventlog the KMS CVM's event log
     */
    struct KmsInfo {
        bytes k256Pubkey;
        bytes caPubkey;
        bytes quote;
        bytes eventlog;
    }

    // Storage: fixed by the deployed upstream proxies (slots 0..9, gap 10..59).
    /// @notice The KMS's published keys, quote and event log.
    KmsInfo public kmsInfo;
    /// @notice The app id of the dstack gateway.
    string public gatewayAppId;
    /// @notice Whether an app contract is registered with this KMS.
    mapping(address appId => bool registered) public registeredApps;
    /// @notice Aggregated measurements the KMS itself may boot with.
    mapping(bytes32 mrAggregated => bool allowed) public kmsAllowedAggregatedMrs;
    /// @notice Devices the KMS itself may boot on.
    mapping(bytes32 deviceId => bool allowed) public kmsAllowedDeviceIds;
    /// @notice OS images any app (and the KMS) may boot.
    mapping(bytes32 osImageHash => bool allowed) public allowedOsImages;
    /// @notice The DstackApp implementation that `deployAndRegisterApp` puts behind new proxies.
    address public appImplementation;
    uint256[50] private __gap;

    /// @notice An app was registered.
    event AppRegistered(address appId);
    /// @notice An app proxy was deployed (and registered) by the factory.
    event AppDeployedViaFactory(address indexed appId, address indexed deployer);
    /// @notice The app implementation used by the factory changed.
    event AppImplementationSet(address implementation);
    /// @notice The gateway app id changed.
    event GatewayAppIdSet(string gatewayAppId);
    /// @notice The KMS info changed; carries the new root public key.
    event KmsInfoSet(bytes k256Pubkey);
    /// @notice The KMS quote changed; carries keccak256 of the new quote.
    event KmsQuoteSet(bytes32 quoteHash);
    /// @notice The KMS event log changed; carries keccak256 of the new event log.
    event KmsEventlogSet(bytes32 eventlogHash);
    /// @notice An aggregated MR was allowed for the KMS.
    event KmsAggregatedMrAdded(bytes32 mrAggregated);
    /// @notice An aggregated MR is no longer allowed for the KMS.
    event KmsAggregatedMrRemoved(bytes32 mrAggregated);
    /// @notice A device was allowed for the KMS.
    event KmsDeviceAdded(bytes32 deviceId);
    /// @notice A device is no longer allowed for the KMS.
    event KmsDeviceRemoved(bytes32 deviceId);
    /// @notice An OS image was allowed.
    event OsImageHashAdded(bytes32 osImageHash);
    /// @notice An OS image is no longer allowed.
    event OsImageHashRemoved(bytes32 osImageHash);

    // Every revert of this contract that upstream also has carries upstream's string
    // (`Error(string)`), so that clients holding upstream's ABI decode it.

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    /**
     * @notice Initialises a freshly deployed proxy.
     * @param initialOwner the owner (an EOA, a Safe, a timelock)
     * @param appImplementation_ the DstackApp implementation for the factory, or zero
     */
    function initialize(address initialOwner, address appImplementation_) external initializer {
        __Ownable_init(initialOwner);
        __Ownable2Step_init();
        __ERC165_init();
        if (appImplementation_ != address(0)) _setAppImplementation(appImplementation_);
    }

    /**
     * @notice Replaces the KMS info (keys, quote, event log).
     * @param info the new KMS info
     */
    function setKmsInfo(KmsInfo calldata info) external onlyOwner {
        kmsInfo = info;
        emit KmsInfoSet(info.k256Pubkey);
        emit PolicyChanged(msg.sender, POLICY_KMS_INFO, keccak256(info.k256Pubkey), true);
    }

    /**
     * @notice Replaces the KMS quote.
     * @param quote the KMS CVM's TDX quote
     */
    function setKmsQuote(bytes calldata quote) external onlyOwner {
        kmsInfo.quote = quote;
        emit KmsQuoteSet(keccak256(quote));
    }

    /**
     * @notice Replaces the KMS event log.
     * @param eventlog the KMS CVM's event log
     */
    function setKmsEventlog(bytes calldata eventlog) external onlyOwner {
        kmsInfo.eventlog = eventlog;
        emit KmsEventlogSet(keccak256(eventlog));
    }

    /**
     * @notice Sets the dstack gateway's app id.
     * @param appId the gateway app id
     */
    function setGatewayAppId(string calldata appId) external onlyOwner {
        gatewayAppId = appId;
        emit GatewayAppIdSet(appId);
        emit PolicyChanged(msg.sender, POLICY_GATEWAY_APP_ID, keccak256(bytes(appId)), true);
    }

    /**
     * @notice Sets the DstackApp implementation that new factory-deployed apps use.
     * @param implementation the implementation address (not zero)
     */
    function setAppImplementation(address implementation) external onlyOwner {
        // solhint-disable-next-line gas-custom-errors
        require(implementation != address(0), "Invalid implementation address");
        _setAppImplementation(implementation);
    }

    /**
     * @notice Registers an app contract with this KMS. Permissionless, as upstream: an
     * app still boots only if its own contract and the OS-image policy allow it.
     * @param appId the app contract address (not zero)
     */
    function registerApp(address appId) external {
        // solhint-disable-next-line gas-custom-errors
        require(appId != address(0), "Invalid app ID");
        _registerApp(appId);
    }

    /**
     * @notice Deploys a DstackApp proxy of `appImplementation`, initialises it and
     * registers it. The proxy address is the new app id.
     * @param initialOwner the app's owner
     * @param disableUpgrades when true, the app can never be upgraded
     * @param requireTcbUpToDate when true, only "UpToDate" platforms may boot
     * @param allowAnyDevice when true, no device restriction applies
     * @param initialDeviceId a device to allow, or zero
     * @param initialComposeHash a compose hash to allow, or zero
     * @return appId the new app's address
     */
    function deployAndRegisterApp(
        address initialOwner,
        bool disableUpgrades,
        bool requireTcbUpToDate,
        bool allowAnyDevice,
        bytes32 initialDeviceId,
        bytes32 initialComposeHash
    ) external returns (address appId) {
        return _deployAndRegisterApp(
            initialOwner, disableUpgrades, requireTcbUpToDate, allowAnyDevice, initialDeviceId, initialComposeHash
        );
    }

    /**
     * @notice Legacy factory overload of upstream version 1 (no TCB requirement).
     * @param initialOwner the app's owner
     * @param disableUpgrades when true, the app can never be upgraded
     * @param allowAnyDevice when true, no device restriction applies
     * @param initialDeviceId a device to allow, or zero
     * @param initialComposeHash a compose hash to allow, or zero
     * @return appId the new app's address
     */
    function deployAndRegisterApp(
        address initialOwner,
        bool disableUpgrades,
        bool allowAnyDevice,
        bytes32 initialDeviceId,
        bytes32 initialComposeHash
    ) external returns (address appId) {
        return _deployAndRegisterApp(
            initialOwner, disableUpgrades, false, allowAnyDevice, initialDeviceId, initialComposeHash
        );
    }

    /**
     * @notice Allows the KMS to boot with this aggregated measurement.
     * @param mrAggregated the aggregated MR
     */
    function addKmsAggregatedMr(bytes32 mrAggregated) external onlyOwner {
        kmsAllowedAggregatedMrs[mrAggregated] = true;
        emit KmsAggregatedMrAdded(mrAggregated);
        emit PolicyChanged(msg.sender, POLICY_KMS_AGGREGATED_MR, mrAggregated, true);
    }

    /**
     * @notice Stops allowing the KMS to boot with this aggregated measurement.
     * @param mrAggregated the aggregated MR
     */
    function removeKmsAggregatedMr(bytes32 mrAggregated) external onlyOwner {
        kmsAllowedAggregatedMrs[mrAggregated] = false;
        emit KmsAggregatedMrRemoved(mrAggregated);
        emit PolicyChanged(msg.sender, POLICY_KMS_AGGREGATED_MR, mrAggregated, false);
    }

    /**
     * @notice Allows the KMS to boot on this device.
     * @param deviceId the device id
     */
    function addKmsDevice(bytes32 deviceId) external onlyOwner {
        kmsAllowedDeviceIds[deviceId] = true;
        emit KmsDeviceAdded(deviceId);
        emit PolicyChanged(msg.sender, POLICY_KMS_DEVICE, deviceId, true);
    }

    /**
     * @notice Stops allowing the KMS to boot on this device.
     * @param deviceId the device id
     */
    function removeKmsDevice(bytes32 deviceId) external onlyOwner {
        kmsAllowedDeviceIds[deviceId] = false;
        emit KmsDeviceRemoved(deviceId);
        emit PolicyChanged(msg.sender, POLICY_KMS_DEVICE, deviceId, false);
    }

    /**
     * @notice Allows an OS image for apps and for the KMS.
     * @param osImageHash the `os-image-hash` measurement
     */
    function addOsImageHash(bytes32 osImageHash) external onlyOwner {
        allowedOsImages[osImageHash] = true;
        emit OsImageHashAdded(osImageHash);
        emit PolicyChanged(msg.sender, POLICY_OS_IMAGE, osImageHash, true);
    }

    /**
     * @notice Stops allowing an OS image.
     * @param osImageHash the `os-image-hash` measurement
     */
    function removeOsImageHash(bytes32 osImageHash) external onlyOwner {
        allowedOsImages[osImageHash] = false;
        emit OsImageHashRemoved(osImageHash);
        emit PolicyChanged(msg.sender, POLICY_OS_IMAGE, osImageHash, false);
    }

    /**
     * @notice Decides whether an app CVM may boot: the app must be registered, its OS
     * image allowed, and its own contract must allow it.
     * @param bootInfo the attested boot measurements
     * @return isAllowed true when the boot is authorised
     * @return reason an operator-facing explanation when it is not
     */
    function isAppAllowed(AppBootInfo calldata bootInfo)
        external
        view
        override
        returns (bool isAllowed, string memory reason)
    {
        if (!registeredApps[bootInfo.appId]) return (false, "App not registered");
        if (!allowedOsImages[bootInfo.osImageHash]) return (false, "OS image is not allowed");
        if (bootInfo.appId.code.length == 0) return (false, "App not deployed or invalid address");
        return IAppAuth(bootInfo.appId).isAppAllowed(bootInfo);
    }

    /**
     * @notice Decides whether a KMS CVM may boot and serve keys.
     * @param bootInfo the KMS CVM's attested boot measurements
     * @return isAllowed true when the KMS may boot
     * @return reason an operator-facing explanation when it may not
     */
    function isKmsAllowed(AppBootInfo calldata bootInfo) external view returns (bool isAllowed, string memory reason) {
        if (keccak256(bytes(bootInfo.tcbStatus)) != keccak256("UpToDate")) {
            return (false, "TCB status is not up to date");
        }
        if (!allowedOsImages[bootInfo.osImageHash]) return (false, "OS image is not allowed");
        if (!kmsAllowedAggregatedMrs[bootInfo.mrAggregated]) return (false, "Aggregated MR not allowed");
        if (!kmsAllowedDeviceIds[bootInfo.deviceId]) return (false, "KMS is not allowed to boot on this device");
        return (true, "");
    }

    /// @inheritdoc ERC165Upgradeable
    function supportsInterface(bytes4 interfaceId)
        public
        view
        virtual
        override(ERC165Upgradeable, IERC165)
        returns (bool)
    {
        return interfaceId == type(IAppAuth).interfaceId || super.supportsInterface(interfaceId);
    }

    function _deployAndRegisterApp(
        address initialOwner,
        bool disableUpgrades,
        bool requireTcbUpToDate,
        bool allowAnyDevice,
        bytes32 initialDeviceId,
        bytes32 initialComposeHash
    ) private returns (address appId) {
        address implementation = appImplementation;
        // solhint-disable-next-line gas-custom-errors
        require(implementation != address(0), "DstackApp implementation not set");
        // solhint-disable-next-line gas-custom-errors
        require(initialOwner != address(0), "Invalid owner address");
        bytes memory initData = abi.encodeWithSignature(
            "initialize(address,bool,bool,bool,bytes32,bytes32)",
            initialOwner,
            disableUpgrades,
            requireTcbUpToDate,
            allowAnyDevice,
            initialDeviceId,
            initialComposeHash
        );
        appId = address(new ERC1967Proxy(implementation, initData));
        _registerApp(appId);
        emit AppDeployedViaFactory(appId, msg.sender);
    }

    function _registerApp(address appId) private {
        registeredApps[appId] = true;
        emit AppRegistered(appId);
        emit PolicyChanged(msg.sender, POLICY_APP_REGISTERED, bytes32(uint256(uint160(appId))), true);
    }

    function _setAppImplementation(address implementation) private {
        appImplementation = implementation;
        emit AppImplementationSet(implementation);
        emit PolicyChanged(msg.sender, POLICY_APP_IMPLEMENTATION, bytes32(uint256(uint160(implementation))), true);
    }

    /// @dev Owner only.
    function _authorizeUpgrade(address newImplementation) internal virtual override onlyOwner {
        emit PolicyChanged(msg.sender, POLICY_IMPLEMENTATION_UPGRADE, bytes32(uint256(uint160(newImplementation))), true);
    }
}
