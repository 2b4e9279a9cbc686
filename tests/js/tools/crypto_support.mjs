// Shared helpers for the JavaScript tests (not a test file itself).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const jsDir = join(repoRoot, "voting", "static", "voting", "js");

/** One of the Python-generated vector files in tests/vectors (missing = failure). */
export function loadVector(name) {
  return JSON.parse(readFileSync(join(repoRoot, "tests", "vectors", name), "utf8"));
}

/** Same rule as tests/conftest.py: a missing conformance folder is a failure, never a skip. */
export function conformanceRoot() {
  const root = process.env.CIVIC_CONFORMANCE_DIR ?? join(repoRoot, "tests", "conformance");
  if (!existsSync(root)) throw new Error(`conformance data not found at ${root}; set CIVIC_CONFORMANCE_DIR`);
  return root;
}

/** JSON text with sorted keys at every level (the vectors are written with sort_keys). */
export function sortedJson(value) {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedJson(value[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Flip bit `bit` (0 = least significant bit of the last byte) of a lowercase hex string. */
export function flipHexBit(hex, bit) {
  const bytes = Buffer.from(hex, "hex");
  const byteIndex = bytes.length - 1 - Math.floor(bit / 8);
  bytes[byteIndex] ^= 1 << (bit % 8);
  return bytes.toString("hex");
}

export const clone = (value) => JSON.parse(JSON.stringify(value));
export const utf8Bytes = (text) => new TextEncoder().encode(text);
