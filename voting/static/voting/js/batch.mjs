// Batch verification (protocol §9): many proof equations Σ k_i·P_i = O checked at once.
// Each equation gets an independent random odd 128-bit weight z_e from the platform CSPRNG
// (drawn after the proofs are fixed); the batch holds iff Σ_e z_e·(Σ_i k_i·P_i) = O, which a
// false equation survives with probability about 2^-128. Equal points merge first; G and the
// joint key go through their fixed-base tables, the rest through one multi-scalar multiplication.
// Callers re-check one by one when a batch fails, to name the bad proof.

import { G, IDENTITY, pointHex } from "./encoding.mjs";
import { fixedBase, mod, msm } from "./group.mjs";

const WEIGHT_BYTES = 16;

function weights(count) {
  const raw = new Uint8Array(WEIGHT_BYTES * count);
  for (let offset = 0; offset < raw.length; offset += 65536) {
    globalThis.crypto.getRandomValues(raw.subarray(offset, Math.min(offset + 65536, raw.length)));
  }
  const out = new Array(count);
  for (let e = 0; e < count; e++) {
    let z = 0n;
    for (let i = 0; i < WEIGHT_BYTES; i++) z = (z << 8n) | BigInt(raw[e * WEIGHT_BYTES + i]);
    out[e] = z === 0n ? 1n : z; // uniform over 2^128 values (zero, probability 2^-128, becomes 1)
  }
  return out;
}

/** True iff every equation holds (up to 2^-128); `fixedBases` are multiplied through tables. */
export function batchHolds(equations, fixedBases = []) {
  if (equations.length === 0) return true;
  const z = weights(equations.length);
  const merged = new Map(); // point hex -> [point, coefficient]
  equations.forEach((equation, e) => {
    for (const [k, point] of equation) {
      if (point.is0()) continue;
      const key = pointHex(point);
      const entry = merged.get(key);
      const term = z[e] * k;
      if (entry === undefined) merged.set(key, [point, term]);
      else entry[1] += term;
    }
  });
  const tabled = [G, ...fixedBases].map((p) => pointHex(p));
  let acc = IDENTITY;
  const scalars = [];
  const points = [];
  for (const [key, [point, coefficient]] of merged) {
    const k = mod(coefficient);
    if (k === 0n) continue;
    if (tabled.includes(key)) acc = acc.add(fixedBase(point).multiplyUnsafe(k));
    else {
      scalars.push(k);
      points.push(point);
    }
  }
  return acc.add(msm(scalars, points)).is0();
}
