// RFC 9474 RSA blind signatures, client side (Prepare, Blind, Finalize, Verify), RSABSSA-SHA384.
//
// Uses only the platform: WebCrypto for SHA-384, randomness, key import and the final
// RSASSA-PSS verification, and BigInt for the two modular operations a browser must do itself
// (r^e mod n when blinding, multiplication by r^-1 when unblinding). The signer's side
// (BlindSign) lives on the server (identity/core/blind_rsa.py); nothing here ever sees d.
//
// The final signature is an ordinary RSA-PSS signature: Finalize refuses to return one that
// WebCrypto's own verifier does not accept, as the RFC requires.

import { concatBytes } from "./bytes.mjs";

const subtle = globalThis.crypto.subtle;
const HASH_LENGTH = 48; // SHA-384
const PREFIX_LENGTH = 32;

export class BlindRSAError extends Error {
  constructor(message) {
    super(message);
    this.name = "BlindRSAError";
  }
}

export const VARIANTS = Object.freeze({
  "RSABSSA-SHA384-PSS-Randomized": Object.freeze({ name: "RSABSSA-SHA384-PSS-Randomized", saltLength: 48, randomized: true }),
  "RSABSSA-SHA384-PSSZERO-Randomized": Object.freeze({ name: "RSABSSA-SHA384-PSSZERO-Randomized", saltLength: 0, randomized: true }),
  "RSABSSA-SHA384-PSS-Deterministic": Object.freeze({ name: "RSABSSA-SHA384-PSS-Deterministic", saltLength: 48, randomized: false }),
  "RSABSSA-SHA384-PSSZERO-Deterministic": Object.freeze({ name: "RSABSSA-SHA384-PSSZERO-Deterministic", saltLength: 0, randomized: false }),
});
export const DEFAULT_VARIANT = VARIANTS["RSABSSA-SHA384-PSS-Randomized"];

// ---- byte and integer helpers -------------------------------------------------------------

export function bytesToBigInt(bytes) {
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex ? BigInt("0x" + hex) : 0n;
}

export function bigIntToBytes(value, length) {
  if (value < 0n) throw new BlindRSAError("negative integer");
  let hex = value.toString(16);
  if (hex.length % 2) hex = "0" + hex;
  if (hex.length / 2 > length) throw new BlindRSAError("integer too large for the requested length");
  const out = new Uint8Array(length);
  const offset = length - hex.length / 2;
  for (let i = 0; i < hex.length / 2; i++) out[offset + i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function hexToBytes(hex) {
  if (hex.length % 2 || /[^0-9a-fA-F]/.test(hex)) throw new BlindRSAError("invalid hex");
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function base64urlToBytes(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

export function modPow(base, exponent, modulus) {
  let result = 1n;
  base %= modulus;
  while (exponent > 0n) {
    if (exponent & 1n) result = (result * base) % modulus;
    base = (base * base) % modulus;
    exponent >>= 1n;
  }
  return result;
}

function gcd(a, b) {
  while (b) [a, b] = [b, a % b];
  return a;
}

export function modInverse(a, modulus) {
  let [oldR, r] = [((a % modulus) + modulus) % modulus, modulus];
  let [oldS, s] = [1n, 0n];
  while (r) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) throw new BlindRSAError("blinding error: r is not invertible modulo n");
  return ((oldS % modulus) + modulus) % modulus;
}

function randomBytes(length) {
  const out = new Uint8Array(length);
  globalThis.crypto.getRandomValues(out);
  return out;
}

// Uniform integer in [1, n) by rejection sampling on bitLength(n) random bits.
function randomBelow(n) {
  const bits = n.toString(2).length;
  const length = Math.ceil(bits / 8);
  const excess = BigInt(length * 8 - bits);
  for (;;) {
    const candidate = bytesToBigInt(randomBytes(length)) >> excess;
    if (candidate >= 1n && candidate < n) return candidate;
  }
}

async function sha384(data) {
  return new Uint8Array(await subtle.digest("SHA-384", data));
}

// ---- keys ---------------------------------------------------------------------------------

function pemToDer(pem) {
  const body = pem.replace(/-----BEGIN PUBLIC KEY-----|-----END PUBLIC KEY-----|\s+/g, "");
  return Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
}

/**
 * Import the election's published key (SPKI PEM string or RSA JWK object) for one variant.
 * Returns {cryptoKey, n, e, modulusLength, variant}; the modulus must be at least 2048 bits.
 */
export async function importPublicKey(key, variant = DEFAULT_VARIANT) {
  const algorithm = { name: "RSA-PSS", hash: "SHA-384" };
  let cryptoKey;
  try {
    if (typeof key === "string") {
      cryptoKey = await subtle.importKey("spki", pemToDer(key), algorithm, true, ["verify"]);
    } else {
      const { kty, n, e } = key;
      cryptoKey = await subtle.importKey("jwk", { kty, n, e, alg: "PS384", ext: true }, algorithm, true, ["verify"]);
    }
  } catch (err) {
    throw new BlindRSAError(`cannot import RSA public key: ${err.message}`);
  }
  const jwk = await subtle.exportKey("jwk", cryptoKey);
  const n = bytesToBigInt(base64urlToBytes(jwk.n));
  const e = bytesToBigInt(base64urlToBytes(jwk.e));
  const bits = n.toString(2).length;
  if (bits < 2048) throw new BlindRSAError("modulus must be at least 2048 bits");
  return { cryptoKey, n, e, modulusLength: Math.ceil(bits / 8), variant };
}

// ---- RFC 9474 operations ------------------------------------------------------------------

/** §4.1 Prepare: 32 random bytes || msg for randomized variants; `prefix` is a test hook. */
export function prepare(msg, variant = DEFAULT_VARIANT, prefix = undefined) {
  if (!variant.randomized) {
    if (prefix && prefix.length) throw new BlindRSAError("deterministic variants take no message prefix");
    return Uint8Array.from(msg);
  }
  const p = prefix ?? randomBytes(PREFIX_LENGTH);
  if (p.length !== PREFIX_LENGTH) throw new BlindRSAError(`message prefix must be ${PREFIX_LENGTH} bytes`);
  return concatBytes(p, msg);
}

async function mgf1(seed, length) {
  const chunks = [];
  let produced = 0;
  for (let counter = 0; produced < length; counter++) {
    const c = new Uint8Array([counter >>> 24, (counter >>> 16) & 0xff, (counter >>> 8) & 0xff, counter & 0xff]);
    const chunk = await sha384(concatBytes(seed, c));
    chunks.push(chunk);
    produced += chunk.length;
  }
  return concatBytes(...chunks).slice(0, length);
}

/** EMSA-PSS-ENCODE (RFC 8017 §9.1.1), SHA-384 and MGF1-SHA-384. */
export async function emsaPssEncode(msg, emBits, salt) {
  const mHash = await sha384(msg);
  const emLen = Math.ceil(emBits / 8);
  if (emLen < HASH_LENGTH + salt.length + 2) throw new BlindRSAError("encoding error");
  const h = await sha384(concatBytes(new Uint8Array(8), mHash, salt));
  const db = concatBytes(new Uint8Array(emLen - salt.length - HASH_LENGTH - 2), new Uint8Array([1]), salt);
  const mask = await mgf1(h, emLen - HASH_LENGTH - 1);
  const maskedDb = db.map((b, i) => b ^ mask[i]);
  maskedDb[0] &= 0xff >> (8 * emLen - emBits);
  return concatBytes(maskedDb, h, new Uint8Array([0xbc]));
}

/**
 * §4.2 Blind. Returns {blindedMsg, inv}; keep `inv` (a BigInt) to finalize.
 * `options.salt` and `options.r` exist only to reproduce the published vectors.
 */
export async function blind(publicKey, inputMsg, variant = publicKey.variant, options = {}) {
  const { n, e, modulusLength } = publicKey;
  const salt = options.salt ?? randomBytes(variant.saltLength);
  if (salt.length !== variant.saltLength) throw new BlindRSAError(`salt must be ${variant.saltLength} bytes`);
  const encoded = await emsaPssEncode(inputMsg, n.toString(2).length - 1, salt);
  const m = bytesToBigInt(encoded);
  if (gcd(m, n) !== 1n) throw new BlindRSAError("invalid input: encoded message not coprime with n");
  const r = options.r ?? randomBelow(n);
  if (r < 1n || r >= n) throw new BlindRSAError("blinding error: r out of range");
  const inv = modInverse(r, n);
  const z = (m * modPow(r, e, n)) % n;
  return { blindedMsg: bigIntToBytes(z, modulusLength), inv };
}

/** RSASSA-PSS-VERIFY through WebCrypto; false (never throws) for any wrong signature. */
export async function verify(publicKey, inputMsg, sig, variant = publicKey.variant) {
  if (sig.length !== publicKey.modulusLength) return false;
  return subtle.verify({ name: "RSA-PSS", saltLength: variant.saltLength }, publicKey.cryptoKey, sig, inputMsg);
}

/** §4.4 Finalize: unblind with `inv`, and refuse a signature that does not verify. */
export async function finalize(publicKey, inputMsg, blindSig, inv, variant = publicKey.variant) {
  const { n, modulusLength } = publicKey;
  if (blindSig.length !== modulusLength) throw new BlindRSAError(`blind signature must be ${modulusLength} bytes`);
  const s = (bytesToBigInt(blindSig) * inv) % n;
  const sig = bigIntToBytes(s, modulusLength);
  if (!(await verify(publicKey, inputMsg, sig, variant))) throw new BlindRSAError("invalid signature");
  return sig;
}
