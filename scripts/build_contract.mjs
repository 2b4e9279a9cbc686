#!/usr/bin/env node
// Compile contracts/CivicAnchor.sol with solc-js (the `solc` npm package, pinned in
// package.json) in-process: no native compiler download, same bytes on every machine.
// Writes ABI + bytecode to ledger/anchoring/artifacts/CivicAnchor.json (a build product,
// git-ignored). Usage: node scripts/build_contract.mjs [--check]
//   --check: compile and compare with the existing artifact, exit 1 if it is stale.

import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import solc from "solc";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SOURCE_PATH = join(ROOT, "contracts", "CivicAnchor.sol");
const ARTIFACT_PATH = join(ROOT, "ledger", "anchoring", "artifacts", "CivicAnchor.json");
const CONTRACT_NAME = "CivicAnchor";
// "paris" (no PUSH0) keeps the bytecode deployable on every EVM chain we target: Ethereum,
// L2s, Hyperledger Besu networks still on older forks, Hardhat and py-evm.
const EVM_VERSION = "paris";

function compile(source) {
  const input = {
    language: "Solidity",
    sources: { "CivicAnchor.sol": { content: source } },
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: EVM_VERSION,
      metadata: { bytecodeHash: "none" },
      outputSelection: {
        "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] },
      },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const problems = output.errors ?? [];
  for (const problem of problems) {
    console.error(problem.formattedMessage ?? problem.message);
  }
  if (problems.some((problem) => problem.severity === "error")) {
    throw new Error("CivicAnchor.sol did not compile");
  }
  const contract = output.contracts["CivicAnchor.sol"][CONTRACT_NAME];
  return {
    contractName: CONTRACT_NAME,
    sourceName: "contracts/CivicAnchor.sol",
    sourceSha256: createHash("sha256").update(source).digest("hex"),
    compiler: { name: "solc-js", version: solc.version(), evmVersion: EVM_VERSION, optimizerRuns: 200 },
    abi: contract.abi,
    bytecode: "0x" + contract.evm.bytecode.object,
    deployedBytecode: "0x" + contract.evm.deployedBytecode.object,
  };
}

function main() {
  const check = process.argv.includes("--check");
  const artifact = compile(readFileSync(SOURCE_PATH, "utf8"));
  const text = JSON.stringify(artifact, null, 2) + "\n";
  if (check) {
    const current = existsSync(ARTIFACT_PATH) ? readFileSync(ARTIFACT_PATH, "utf8") : "";
    if (current !== text) {
      console.error(`${relative(ROOT, ARTIFACT_PATH)} is missing or stale: run node scripts/build_contract.mjs`);
      process.exit(1);
    }
    console.log(`${relative(ROOT, ARTIFACT_PATH)} is up to date`);
    return;
  }
  mkdirSync(dirname(ARTIFACT_PATH), { recursive: true });
  writeFileSync(ARTIFACT_PATH, text);
  console.log(
    `wrote ${relative(ROOT, ARTIFACT_PATH)} (solc ${artifact.compiler.version}, ` +
      `${(artifact.deployedBytecode.length - 2) / 2} bytes deployed)`,
  );
}

main();
