// Exponential ElGamal on secp256k1: Enc(m; r) = (r·G, r·K + m·G) (twin of elgamal.py, §4).
// Messages sit in the exponent so ciphertexts add; that is what the homomorphic tally uses.

import {
  G,
  IDENTITY,
  N,
  POINT_BYTES,
  concatBytes,
  decodePoint,
  encodePoint,
  pointFromHex,
  pointHex,
} from "./encoding.mjs";
import { EncodingError } from "./errors.mjs";
import { baseMul, fixedBase, msm, mul, mulSecret, normalized, smallBaseMul, sumPoints } from "./group.mjs";
import { exactKeys } from "./json.mjs";

/** (alpha, beta) = (r·G, r·K + m·G). */
export class Ciphertext {
  constructor(alpha, beta) {
    // Normalised once here: a ciphertext is encoded several times (challenges, codes, JSON).
    this.alpha = normalized(alpha);
    this.beta = normalized(beta);
    Object.freeze(this);
  }

  add(other) {
    return new Ciphertext(this.alpha.add(other.alpha), this.beta.add(other.beta));
  }

  /** Enc(k·m; k·r): the weighted contribution of one ciphertext. */
  scale(k) {
    return new Ciphertext(mul(this.alpha, k), mul(this.beta, k));
  }

  equals(other) {
    return this.alpha.equals(other.alpha) && this.beta.equals(other.beta);
  }

  /** 66 bytes: alpha || beta, both SEC1 compressed. */
  encode() {
    return concatBytes(encodePoint(this.alpha), encodePoint(this.beta));
  }

  static decode(bytes) {
    if (!(bytes instanceof Uint8Array) || bytes.length !== 2 * POINT_BYTES) {
      throw new EncodingError("a ciphertext is exactly 66 bytes");
    }
    return new Ciphertext(decodePoint(bytes.subarray(0, 33)), decodePoint(bytes.subarray(33)));
  }

  toJSON() {
    return { alpha: pointHex(this.alpha), beta: pointHex(this.beta) };
  }

  static fromJSON(obj) {
    const o = exactKeys(obj, ["alpha", "beta"], "a ciphertext");
    if (typeof o.alpha !== "string" || typeof o.beta !== "string") {
      throw new EncodingError("ciphertext fields are hex strings");
    }
    return new Ciphertext(pointFromHex(o.alpha), pointFromHex(o.beta));
  }
}

/** The neutral element of aggregation (never encoded: it is not a valid ciphertext). */
export const ZERO = new Ciphertext(IDENTITY, IDENTITY);

/** Enc(m; r); r is secret, so both multiplications are constant time (K with its table). */
export function encrypt(publicKey, message, nonce) {
  if (typeof nonce !== "bigint" || nonce <= 0n || nonce >= N) {
    throw new RangeError("encryption nonce must be in [1, n-1]");
  }
  if (publicKey.is0()) throw new RangeError("public key cannot be the identity");
  const alpha = baseMul(nonce);
  const beta = mulSecret(fixedBase(publicKey), nonce).add(smallBaseMul(message));
  return new Ciphertext(alpha, beta);
}

/** Σ w_i·C_i (w_i = 1 by default). */
export function aggregate(ciphertexts, weights = null) {
  if (weights === null) {
    return new Ciphertext(sumPoints(ciphertexts.map((c) => c.alpha)), sumPoints(ciphertexts.map((c) => c.beta)));
  }
  if (weights.length !== ciphertexts.length) throw new RangeError("one weight per ciphertext");
  const ws = weights.map((w) => BigInt(w));
  return new Ciphertext(
    msm(ws, ciphertexts.map((c) => c.alpha)),
    msm(ws, ciphertexts.map((c) => c.beta)),
  );
}

/** m·G = beta − s·alpha (turning it into m needs a small discrete log). */
export function decryptToPoint(secret, ciphertext) {
  return ciphertext.beta.subtract(mulSecret(ciphertext.alpha, secret));
}

/** m in [0, bound] with m·G = point, by linear search (single ballots only), else null. */
export function smallLog(point, bound) {
  let acc = IDENTITY;
  for (let m = 0; m <= bound; m++) {
    if (acc.equals(point)) return m;
    acc = acc.add(G);
  }
  return null;
}
