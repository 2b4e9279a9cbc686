// Group arithmetic on secp256k1 through @noble/curves (twin of the operations in group.py).
//
// Written additively like the Python side: `mul(P, k)` is the "P^k" of the papers. Secret
// scalars (nonces, keys) go through noble's constant-time `multiply`; public scalars
// (verification) through the faster `multiplyUnsafe`. Results never depend on the path.

import { mulAddUnsafe, pippenger } from "@noble/curves/abstract/curve.js";

import { G, IDENTITY, N, Point, pointHex } from "./encoding.mjs";

/** k mod n as a non-negative bigint. */
export function mod(k) {
  const r = k % N;
  return r < 0n ? r + N : r;
}

const FIXED_BASE_WINDOW = 8;
let generatorTable = null;

/** G with an 8-bit window table (noble's own G uses 6 bits: ~1.5x slower in constant time). */
function generator() {
  if (generatorTable === null) generatorTable = Point.fromAffine(G.toAffine()).precompute(FIXED_BASE_WINDOW, true);
  return generatorTable;
}

/** k·G for a secret k (constant time, through the generator's window table). */
export function baseMul(k) {
  const r = mod(k);
  return r === 0n ? IDENTITY : generator().multiply(r);
}

const SMALL_MULTIPLES_MAX = 1 << 16;
const smallMultiples = [IDENTITY];

/**
 * m·G for a small non-negative m (a vote value) by table lookup: no early exit on m = 0, so
 * encrypting a 0 and a 1 take the same path. Larger m fall back to `baseMul`.
 */
export function smallBaseMul(m) {
  const index = Number(m);
  if (!Number.isSafeInteger(index) || index < 0 || index >= SMALL_MULTIPLES_MAX) return baseMul(BigInt(m));
  while (smallMultiples.length <= index) {
    smallMultiples.push(normalized(smallMultiples[smallMultiples.length - 1].add(G)));
  }
  return smallMultiples[index];
}

/** k·point for a secret k (constant time). */
export function mulSecret(point, k) {
  const r = mod(k);
  return r === 0n || point.is0() ? IDENTITY : point.multiply(r);
}

/** k·point for a public k (variable time, GLV endomorphism). */
export function mul(point, k) {
  const r = mod(k);
  return r === 0n || point.is0() ? IDENTITY : point.multiplyUnsafe(r);
}

/** a·P + b·Q for public a, b (one shared doubling chain). */
export function mulAdd(p, a, q, b) {
  return p.mulAddUnsafe(mod(a), q, mod(b));
}

/** Σ k_i·P_i for public scalars: Straus for a few points, Pippenger for many. */
export function msm(scalars, points) {
  if (scalars.length !== points.length) throw new RangeError("msm needs as many scalars as points");
  const ks = [];
  const ps = [];
  for (let i = 0; i < scalars.length; i++) {
    const k = mod(scalars[i]);
    if (k !== 0n && !points[i].is0()) {
      ks.push(k);
      ps.push(points[i]);
    }
  }
  if (ks.length === 0) return IDENTITY;
  if (ks.length === 1) return ps[0].multiplyUnsafe(ks[0]);
  return ks.length < 16 ? mulAddUnsafe(Point, ps, ks) : pippenger(Point, ps, ks);
}

/** The same point with Z = 1, so later encodings need no field inversion. */
export function normalized(point) {
  return point.is0() ? point : Point.fromAffine(point.toAffine());
}

export function sumPoints(points) {
  let acc = IDENTITY;
  for (const p of points) acc = acc.add(p);
  return acc;
}

const FIXED_BASE_CACHE_SIZE = 8;
const fixedBaseCache = new Map();

/**
 * A copy of `point` carrying a precomputed window table (the joint key K is multiplied by a
 * secret nonce for every selection and every proof branch). Cached per point.
 */
export function fixedBase(point) {
  if (point.equals(G)) return generator();
  const key = pointHex(point);
  let table = fixedBaseCache.get(key);
  if (table === undefined) {
    table = Point.fromAffine(point.toAffine()).precompute(FIXED_BASE_WINDOW, true);
    if (fixedBaseCache.size >= FIXED_BASE_CACHE_SIZE) {
      fixedBaseCache.delete(fixedBaseCache.keys().next().value);
    }
    fixedBaseCache.set(key, table);
  }
  return table;
}
