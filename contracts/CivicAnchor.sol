// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title CivicAnchor: public, append-only record of a city's witnessed ledger checkpoints.
/// @notice Each anchor is only an event: the chain's own history is the storage, so anchoring
///         costs little gas and anyone can read every anchor with eth_getLogs. Only the city's
///         anchoring account (the owner) may write; a forged anchor from any other account is
///         rejected here, and observers also filter events by the indexed sender.
contract CivicAnchor {
    /// @notice The city's anchoring account: the only address allowed to anchor.
    address public owner;

    /// @param origin Checkpoint origin line of the log (C2SP tlog-checkpoint).
    /// @param treeSize Tree size of the anchored checkpoint.
    /// @param checkpointHash SHA-256 of the full signed checkpoint note (with cosignatures).
    /// @param sender The account that anchored (always the owner at the time).
    event Anchored(
        string origin, uint64 treeSize, bytes32 indexed checkpointHash, address indexed sender
    );

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    error NotOwner(address caller);
    error ZeroAddress();
    error LengthMismatch();
    error EmptyBatch();

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    constructor() {
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
    }

    /// @notice Anchor one log's checkpoint.
    function anchor(string calldata origin, uint64 treeSize, bytes32 checkpointHash)
        external
        onlyOwner
    {
        emit Anchored(origin, treeSize, checkpointHash, msg.sender);
    }

    /// @notice Anchor several logs' checkpoints in one transaction (same index = same log).
    function anchorBatch(
        string[] calldata origins,
        uint64[] calldata treeSizes,
        bytes32[] calldata checkpointHashes
    ) external onlyOwner {
        uint256 count = origins.length;
        if (count == 0) revert EmptyBatch();
        if (treeSizes.length != count || checkpointHashes.length != count) revert LengthMismatch();
        for (uint256 i = 0; i < count; ++i) {
            emit Anchored(origins[i], treeSizes[i], checkpointHashes[i], msg.sender);
        }
    }

    /// @notice Hand the anchoring right to a new account (key rotation).
    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }
}
