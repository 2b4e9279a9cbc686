// Hardhat is used only as a local EVM JSON-RPC node for the embedded demo and the
// integration tests (`npx hardhat node`). Contracts are compiled by scripts/build_contract.mjs
// with solc-js, so Hardhat never compiles (and never downloads a compiler): its sources path
// points at an empty folder.
/** @type import('hardhat/config').HardhatUserConfig */
module.exports = {
  solidity: "0.8.37", // never used to compile here; kept equal to the pinned solc-js
  paths: {
    sources: "./contracts/.hardhat-no-sources",
    cache: "./var/hardhat/cache",
    artifacts: "./var/hardhat/artifacts",
  },
  networks: {
    hardhat: {
      chainId: 31337,
      // Each transaction is mined at once (quick demo anchors), and an empty block every
      // 2 s gives anchors the confirmations the anchoring task waits for.
      mining: { auto: true, interval: 2000 },
    },
  },
};
