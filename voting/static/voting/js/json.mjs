// Strict JSON shape checks shared by the decoders (twin of Python's `_exact_keys` / `_keys`).

import { EncodingError } from "./errors.mjs";

/** A JSON object (not null, not an array). */
export function isPlainObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The object itself if it has exactly `keys`, else EncodingError naming `what`. */
export function exactKeys(obj, keys, what, ErrorClass = EncodingError) {
  const sorted = [...keys].sort();
  if (!isPlainObject(obj)) {
    throw new ErrorClass(`${what} must be an object with exactly the keys ${JSON.stringify(sorted)}`);
  }
  const got = Object.keys(obj);
  if (got.length !== keys.length || !keys.every((k) => Object.hasOwn(obj, k))) {
    throw new ErrorClass(`${what} must be an object with exactly the keys ${JSON.stringify(sorted)}`);
  }
  return obj;
}

/** A JSON integer (Python: int and not bool). */
export function isJsonInteger(value) {
  return typeof value === "number" && Number.isSafeInteger(value);
}
