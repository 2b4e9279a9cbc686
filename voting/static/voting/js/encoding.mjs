// Strict encodings of secp256k1 points and scalars (twin of civic_votecrypto/group.py, protocol §2).
//
// - scalar: exactly 32 bytes big-endian, value < n (0 is a valid encoding; keys and nonces
//   must additionally be non-zero: `decodeScalar(bytes, { nonzero: true })`).
// - point: exactly 33 bytes SEC1 compressed (0x02 even y / 0x03 odd y, then x < p on the
//   curve). The point at infinity has no encoding.
// - hex is lowercase only, so every value has exactly one textual form.
// Every rejection throws EncodingError, exactly where Python raises EncodingError.

import { secp256k1 } from "@noble/curves/secp256k1.js";

import { EncodingError } from "./errors.mjs";

/** noble's projective point class for secp256k1 (all arithmetic goes through it). */
export const Point = secp256k1.Point;
/** Field prime p. */
export const P = Point.CURVE().p;
/** Group order n (prime): scalars live in Z_n. */
export const N = Point.CURVE().n;
/** The standard generator G. */
export const G = Point.BASE;
/** The identity (never encodable). */
export const IDENTITY = Point.ZERO;
export const SCALAR_BYTES = 32;
export const POINT_BYTES = 33;

const HEX_RE = /^[0-9a-f]*$/;
const LONE_SURROGATE_RE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const textEncoder = new TextEncoder();

// -- bytes and hex ---------------------------------------------------------------------------
/** Lowercase hex of some bytes. */
export function bytesToHex(bytes) {
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}

/** Lowercase hex of an exact byte length (one textual form per value), else EncodingError. */
export function hexToBytes(text, length, what) {
  if (typeof text !== "string" || text.length !== 2 * length) {
    throw new EncodingError(`${what} hex must be ${2 * length} characters`);
  }
  if (text !== text.toLowerCase()) throw new EncodingError(`${what} hex must be lowercase`);
  if (!HEX_RE.test(text)) throw new EncodingError(`${what} is not valid hex`);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Any-length lowercase hex (test helpers, labels); rejects odd length and non-hex. */
export function hexToBytesAnyLength(text) {
  if (typeof text !== "string" || text.length % 2 !== 0 || !HEX_RE.test(text)) {
    throw new EncodingError("expected lowercase hex of whole bytes");
  }
  return hexToBytes(text, text.length / 2, "value");
}

export function concatBytes(...parts) {
  let size = 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** No lone UTF-16 surrogate (String.prototype.isWellFormed where the engine has it). */
export function isWellFormed(text) {
  return typeof text.isWellFormed === "function" ? text.isWellFormed() : !LONE_SURROGATE_RE.test(text);
}

/** UTF-8 of a well-formed string; a lone surrogate is refused (Python's encode() refuses it). */
export function utf8(text) {
  if (typeof text !== "string") throw new EncodingError("expected a string");
  if (!isWellFormed(text)) throw new EncodingError("string contains a lone surrogate");
  return textEncoder.encode(text);
}

export function bigintToBytes(value, length) {
  const out = new Uint8Array(length);
  let v = value;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  if (v !== 0n) throw new RangeError("integer does not fit");
  return out;
}

export function bytesToBigint(bytes) {
  let v = 0n;
  for (const byte of bytes) v = (v << 8n) | BigInt(byte);
  return v;
}

// -- scalars ---------------------------------------------------------------------------------
export function encodeScalar(k) {
  if (typeof k !== "bigint" || k < 0n || k >= N) throw new EncodingError("scalar out of range [0, n)");
  return bigintToBytes(k, SCALAR_BYTES);
}

/** Strict 32-byte big-endian decoding; rejects values >= n (and 0 when `nonzero`). */
export function decodeScalar(bytes, { nonzero = false } = {}) {
  if (!(bytes instanceof Uint8Array) || bytes.length !== SCALAR_BYTES) {
    throw new EncodingError(`a scalar is exactly ${SCALAR_BYTES} bytes`);
  }
  const k = bytesToBigint(bytes);
  if (k >= N) throw new EncodingError("scalar is not reduced mod n");
  if (nonzero && k === 0n) throw new EncodingError("scalar must be non-zero here");
  return k;
}

export function scalarHex(k) {
  return bytesToHex(encodeScalar(k));
}

export function scalarFromHex(text, options = {}) {
  return decodeScalar(hexToBytes(text, SCALAR_BYTES, "scalar"), options);
}

// -- points ----------------------------------------------------------------------------------
/** 33-byte SEC1 compressed form; the identity has no encoding. */
export function encodePoint(point) {
  if (!(point instanceof Point)) throw new EncodingError("not a secp256k1 point");
  if (point.is0()) throw new EncodingError("the point at infinity cannot be encoded");
  return point.toBytes(true);
}

/** Strict SEC1 compressed decoding (length, prefix, x < p, x on the curve). */
export function decodePoint(bytes) {
  if (!(bytes instanceof Uint8Array) || bytes.length !== POINT_BYTES) {
    throw new EncodingError(`a point is exactly ${POINT_BYTES} bytes`);
  }
  if (bytes[0] !== 2 && bytes[0] !== 3) throw new EncodingError("point prefix must be 0x02 or 0x03");
  if (bytesToBigint(bytes.subarray(1)) >= P) {
    throw new EncodingError("point x-coordinate is not reduced mod p");
  }
  try {
    return Point.fromBytes(bytes); // lifts x (checks x³ + 7 is a square) and asserts validity
  } catch {
    throw new EncodingError("x-coordinate is not on secp256k1");
  }
}

export function pointHex(point) {
  return bytesToHex(encodePoint(point));
}

export function pointFromHex(text) {
  return decodePoint(hexToBytes(text, POINT_BYTES, "point"));
}
