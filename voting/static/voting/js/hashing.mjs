// Hashing: the election hash chain, fixed-length encodings and Fiat–Shamir challenges
// (twin of civic_votecrypto/hashing.py, protocol §3).
//
// H(key; tag, fields...) = HMAC-SHA-256(key, tag || fields) with one domain tag byte per use,
// chained parameters -> manifest -> election base -> extended base (joint key) -> ballot.
// Scalars derived from hashes go through RFC 9380 hash_to_field (expand_message_xmd with
// SHA-256, m = 1, k = 128, hence L = 48 bytes per scalar), taken from noble, not rewritten.

import { expand_message_xmd, hash_to_field } from "@noble/curves/abstract/hash-to-curve.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";

import { G, N, P, SCALAR_BYTES, bigintToBytes, concatBytes, encodePoint, encodeScalar, utf8 } from "./encoding.mjs";
import { mod } from "./group.mjs";

export const HASH_BYTES = 32;
export const PROTOCOL_VERSION = utf8("civic-voting-v1");
/** HMAC key of the first link of the chain: the protocol version, zero-padded to 32 bytes. */
export const VERSION_KEY = (() => {
  const key = new Uint8Array(HASH_BYTES);
  key.set(PROTOCOL_VERSION);
  return key;
})();
export const CHALLENGE_DST = utf8("CIVIC-V1-CHALLENGE_XMD:SHA-256");
export const DERIVE_DST = utf8("CIVIC-V1-DERIVE_XMD:SHA-256");
export const FIELD_L = 48;

/** One domain-separation byte per use of the hash (0x40-0x5F belong to the trustees). */
export const Tag = Object.freeze({
  PARAMETERS: 0x00,
  MANIFEST: 0x01,
  ELECTION_BASE: 0x02,
  EXTENDED_BASE: 0x03,
  SELECTION_NONCE: 0x10,
  PROOF_NONCE: 0x11,
  CONTEST_HASH: 0x12,
  BALLOT_CODE: 0x13,
  RANGE_CHALLENGE: 0x20,
  LIMIT_CHALLENGE: 0x21,
  SCHNORR_CHALLENGE: 0x22,
  EQUALITY_CHALLENGE: 0x23,
  DETERMINISTIC_STREAM: 0x31,
  TRUSTEES_FIRST: 0x40,
  TRUSTEES_LAST: 0x5f,
});

// -- RFC 9380 ---------------------------------------------------------------------------------
/** RFC 9380 §5.3.1 expand_message_xmd with SHA-256 (noble's implementation). */
export function expandMessageXmd(msg, dst, lenInBytes) {
  return expand_message_xmd(msg, dst, lenInBytes, sha256);
}

/** RFC 9380 §5.2 hash_to_field for Z_n (m = 1, k = 128 so L = 48). */
export function hashToField(msg, count, dst) {
  return hash_to_field(msg, count, { DST: dst, p: N, m: 1, k: 128, expand: "xmd", hash: sha256 }).map(
    (tuple) => tuple[0],
  );
}

// -- fixed-length encodings ---------------------------------------------------------------------
function encUint(value, bytes, what) {
  const v = BigInt(value);
  if (v < 0n || v >= 1n << BigInt(8 * bytes)) throw new RangeError(`${what} out of range`);
  return bigintToBytes(v, bytes);
}

export const encU8 = (value) => encUint(value, 1, "u8");
export const encU32 = (value) => encUint(value, 4, "u32");
export const encU64 = (value) => encUint(value, 8, "u64");

/** Variable-length data: 4-byte big-endian length, then the bytes. */
export function encBytes(data) {
  return concatBytes(encU32(data.length), data);
}

export function encStr(text) {
  return encBytes(utf8(text));
}

export const encPoint = encodePoint;

/** A list of points: 4-byte count then 33 bytes each. */
export function encPoints(points) {
  return concatBytes(encU32(points.length), ...points.map(encodePoint));
}

export function encScalar(k) {
  return encodeScalar(mod(k));
}

export function encHash(h) {
  if (!(h instanceof Uint8Array) || h.length !== HASH_BYTES) throw new RangeError("a hash is exactly 32 bytes");
  return h;
}

// -- the keyed hash H and derived scalars ---------------------------------------------------------
/** HMAC-SHA-256(key, tag || fields...): fields must already be fixed-length encoded. */
export function H(key, tag, ...fields) {
  if (!(key instanceof Uint8Array) || key.length !== HASH_BYTES) throw new RangeError("hash key must be 32 bytes");
  return hmac(sha256, key, concatBytes(Uint8Array.of(tag), ...fields));
}

/** A scalar in [0, n) from tag || fields through RFC 9380 hash_to_field. */
export function hashToScalar(tag, fields, dst = DERIVE_DST) {
  return hashToField(concatBytes(Uint8Array.of(tag), ...fields), 1, dst)[0];
}

/** Fiat–Shamir challenge: binds the election context hash and the whole statement. */
export function challenge(context, tag, ...fields) {
  return hashToScalar(tag, [encHash(context), ...fields], CHALLENGE_DST);
}

/** Deterministic non-zero scalar (nonces derived from a secret seed). */
export function deriveNonzeroScalar(tag, ...fields) {
  const k = hashToScalar(tag, fields);
  if (k === 0n) throw new RangeError("derived scalar is zero"); // probability 2^-256
  return k;
}

/**
 * A reproducible stream of non-zero scalars from a seed (test vectors, benchmarks): the
 * twin of Python's DeterministicScalars. Never for real ballots: the seed gives every nonce.
 */
export function deterministicScalars(seed, label = "") {
  const prefix = concatBytes(encBytes(seed), encStr(label));
  let counter = 0n;
  return () => deriveNonzeroScalar(Tag.DETERMINISTIC_STREAM, prefix, encU64(counter++));
}

/** A fresh uniformly random non-zero scalar from the platform CSPRNG (rejection sampling). */
export function randomScalar() {
  const buf = new Uint8Array(SCALAR_BYTES);
  for (;;) {
    globalThis.crypto.getRandomValues(buf);
    let k = 0n;
    for (const byte of buf) k = (k << 8n) | BigInt(byte);
    if (k > 0n && k < N) return k;
  }
}

// -- the hash chain ---------------------------------------------------------------------------------
/** H_P: fixes the group (p, n, G) and the protocol version. */
export function parameterHash() {
  return H(VERSION_KEY, Tag.PARAMETERS, bigintToBytes(P, 32), bigintToBytes(N, 32), encodePoint(G));
}

/** H_M: the manifest's RFC 8785 canonical JSON bytes. */
export function manifestHash(hP, canonicalManifest) {
  return H(hP, Tag.MANIFEST, encBytes(canonicalManifest));
}

/** H_B: manifest plus the trustee configuration (n, t). */
export function electionBaseHash(hP, hM, trustees, threshold) {
  return H(hP, Tag.ELECTION_BASE, encHash(hM), encU32(trustees), encU32(threshold));
}

/** H_E: binds the joint key and every trustee commitment; the context of all proofs. */
export function extendedBaseHash(hB, jointKey, trusteeCommitments = []) {
  return H(hB, Tag.EXTENDED_BASE, encodePoint(jointKey), encPoints(trusteeCommitments));
}
