// Non-interactive zero-knowledge proofs, each carrying its commitments (twin of proofs.py, §5).
//
// - range proof: disjunctive Chaum–Pedersen, "the ciphertext encrypts some m in [lo, hi]"
//   (per selection with [0, R]; per contest as the limit proof over the weighted sum);
// - Schnorr proof of knowledge of x with X = x·G (trustee coefficients);
// - Chaum–Pedersen equality log_B1(X) = log_B2(M) (partial decryption).
// Every challenge binds the election context and the whole statement, never the commitments
// alone. Responses are v = u + c·x, so every check reads v·B = A + c·X.

import { normalizeZ } from "@noble/curves/abstract/curve.js";

import { G, N, Point, concatBytes, encodePoint, pointFromHex, pointHex, scalarFromHex, scalarHex } from "./encoding.mjs";
import { EncodingError, ProofError } from "./errors.mjs";
import { baseMul, fixedBase, mod, mul, mulAdd, mulSecret, smallBaseMul } from "./group.mjs";
import { Tag, challenge, encBytes, encU32, randomScalar } from "./hashing.mjs";
import { exactKeys } from "./json.mjs";

/** Largest hi − lo + 1 a disjunctive proof may have (size and work grow linearly). */
export const MAX_RANGE_BRANCHES = 1024;

function hexField(obj, key) {
  const value = obj[key];
  if (typeof value !== "string") throw new EncodingError(`${key} must be a hex string`);
  return value;
}

function checkRange(lo, hi) {
  if (!(Number.isSafeInteger(lo) && Number.isSafeInteger(hi)) || !(0 <= lo && lo <= hi) || hi - lo + 1 > MAX_RANGE_BRANCHES || hi >= 2 ** 32) {
    throw new RangeError(`range [${lo}, ${hi}] is not supported`);
  }
}

/** a·P + b·Q for public scalars, tolerating the identity (a shifted beta can be it). */
function combine(p, a, q, b) {
  if (p.is0() || mod(a) === 0n) return mul(q, b);
  if (q.is0() || mod(b) === 0n) return mul(p, a);
  return mulAdd(p, a, q, b);
}

// -- range proof --------------------------------------------------------------------------------
/** Branch j: commitments a = v·G − c·alpha, b = v·K − c·(beta − j·G). */
export class RangeBranch {
  constructor(a, b, c, v) {
    Object.assign(this, { a, b, c, v });
    Object.freeze(this);
  }

  toJSON() {
    return { a: pointHex(this.a), b: pointHex(this.b), c: scalarHex(this.c), v: scalarHex(this.v) };
  }

  static fromJSON(obj) {
    const o = exactKeys(obj, ["a", "b", "c", "v"], "range proof branch");
    return new RangeBranch(
      pointFromHex(hexField(o, "a")),
      pointFromHex(hexField(o, "b")),
      scalarFromHex(hexField(o, "c")),
      scalarFromHex(hexField(o, "v")),
    );
  }
}

/** One branch per value lo..hi, in order; the branch challenges sum to the statement hash. */
export class RangeProof {
  constructor(branches) {
    this.branches = Object.freeze([...branches]);
    Object.freeze(this);
  }

  toJSON() {
    return { branches: this.branches.map((b) => b.toJSON()) };
  }

  static fromJSON(obj) {
    const o = exactKeys(obj, ["branches"], "range proof");
    const branches = o.branches;
    if (!Array.isArray(branches) || branches.length === 0 || branches.length > MAX_RANGE_BRANCHES) {
      throw new EncodingError("range proof branches must be a non-empty list");
    }
    return new RangeProof(branches.map((b) => RangeBranch.fromJSON(b)));
  }
}

/** c = H2F(tag || context || K || alpha || beta || lo || hi || label || (a_j || b_j)_j). */
export function rangeChallenge(context, tag, key, ciphertext, lo, hi, label, commitments) {
  return challenge(
    context,
    tag,
    encodePoint(key),
    ciphertext.encode(),
    encU32(lo),
    encU32(hi),
    encBytes(label),
    ...commitments.map(([a, b]) => concatBytes(encodePoint(a), encodePoint(b))),
  );
}

/**
 * Prove ciphertext = Enc(value; nonce) with value in [lo, hi] without revealing it.
 * `rng` is called exactly as in Python: u first, then (c_j, v_j) for each other j in order.
 *
 * The prover knows the nonce r and the value m, so the simulated commitments
 * a_j = v_j·G − c_j·alpha and b_j = v_j·K − c_j·(beta − j·G) are computed as
 * a_j = w_j·G and b_j = w_j·K + c_j·(j − m)·G with w_j = v_j − c_j·r: the same points as
 * Python's generic formulas, but only fixed-base multiplications (several times faster).
 * This needs ciphertext = Enc(value; nonce), which every caller guarantees; a mismatch only
 * yields a proof that fails verification, as in Python.
 */
export function proveRange(context, key, ciphertext, value, nonce, lo, hi, { tag = Tag.RANGE_CHALLENGE, label = new Uint8Array(0), rng = randomScalar } = {}) {
  checkRange(lo, hi);
  if (!Number.isSafeInteger(value) || !(lo <= value && value <= hi)) throw new ProofError("value outside the range it is proved in");
  const keyTable = fixedBase(key);
  const r = mod(nonce);
  const points = [];
  const simulated = [];
  const u = rng();
  let simulatedSum = 0n;
  for (let j = lo; j <= hi; j++) {
    if (j === value) {
      points.push(baseMul(u), mulSecret(keyTable, u));
      simulated.push(null);
      continue;
    }
    const cj = rng();
    const vj = rng();
    simulated.push([cj, vj]);
    simulatedSum += cj;
    const w = mod(vj - cj * r);
    points.push(baseMul(w), mulSecret(keyTable, w).add(baseMul(cj * BigInt(j - value))));
  }
  const affine = normalizeZ(Point, points); // one shared inversion before encoding
  const commitments = [];
  for (let i = 0; i < affine.length; i += 2) commitments.push([affine[i], affine[i + 1]]);
  const c = rangeChallenge(context, tag, key, ciphertext, lo, hi, label, commitments);
  const cReal = mod(c - simulatedSum);
  const branches = commitments.map(([a, b], i) => {
    const sim = simulated[i];
    return sim === null ? new RangeBranch(a, b, cReal, mod(u + cReal * r)) : new RangeBranch(a, b, sim[0], sim[1]);
  });
  return new RangeProof(branches);
}

/** Hash-level check (no group operation): branch count and Σ c_j = c; throws ProofError. */
export function checkRangeChallenge(context, key, ciphertext, proof, lo, hi, { tag = Tag.RANGE_CHALLENGE, label = new Uint8Array(0) } = {}) {
  checkRange(lo, hi);
  if (proof.branches.length !== hi - lo + 1) throw new ProofError(`range proof must have ${hi - lo + 1} branches`);
  const commitments = proof.branches.map((br) => [br.a, br.b]);
  const c = rangeChallenge(context, tag, key, ciphertext, lo, hi, label, commitments);
  let sum = 0n;
  for (const br of proof.branches) sum += br.c;
  if (mod(sum) !== c) throw new ProofError("range proof challenges do not sum to the statement hash");
}

/**
 * The 2·(hi−lo+1) group equations Σ k·P = O of a range proof whose hashes were checked:
 * (R1_j) v_j·G − a_j − c_j·alpha = O and (R2_j) v_j·K − b_j − c_j·beta + c_j·j·G = O.
 */
export function rangeEquations(key, ciphertext, proof, lo) {
  const equations = [];
  proof.branches.forEach((br, i) => {
    const j = BigInt(lo + i);
    equations.push([[br.v, G], [N - 1n, br.a], [mod(-br.c), ciphertext.alpha]]);
    equations.push([[br.v, key], [N - 1n, br.b], [mod(-br.c), ciphertext.beta], [mod(br.c * j), G]]);
  });
  return equations;
}

/** The group equations of a range proof one by one, naming the first that fails. */
export function checkRangeEquations(key, ciphertext, proof, lo) {
  const keyTable = fixedBase(key);
  proof.branches.forEach((br, i) => {
    const j = lo + i;
    if (!combine(G, br.v, ciphertext.alpha, N - br.c).equals(br.a)) {
      throw new ProofError(`range proof branch ${j}: alpha equation fails`);
    }
    const shifted = j === 0 ? ciphertext.beta : ciphertext.beta.subtract(smallBaseMul(j));
    if (!mul(keyTable, br.v).subtract(mul(shifted, br.c)).equals(br.b)) {
      throw new ProofError(`range proof branch ${j}: beta equation fails`);
    }
  });
}

/** Verify one range proof on its own (hash, then every equation); throws ProofError. */
export function verifyRange(context, key, ciphertext, proof, lo, hi, options = {}) {
  checkRangeChallenge(context, key, ciphertext, proof, lo, hi, options);
  checkRangeEquations(key, ciphertext, proof, lo);
}

// -- Schnorr proof of knowledge ---------------------------------------------------------------------
/** Knowledge of x with X = x·G: commitment h = u·G, response v = u + c·x. */
export class SchnorrProof {
  constructor(commitment, response) {
    Object.assign(this, { commitment, response });
    Object.freeze(this);
  }

  toJSON() {
    return { commitment: pointHex(this.commitment), response: scalarHex(this.response) };
  }

  static fromJSON(obj) {
    const o = exactKeys(obj, ["commitment", "response"], "Schnorr proof");
    return new SchnorrProof(pointFromHex(hexField(o, "commitment")), scalarFromHex(hexField(o, "response")));
  }
}

/** c = H2F(0x22 || context || X || h || label). */
export function schnorrChallenge(context, publicKey, commitment, label) {
  return challenge(context, Tag.SCHNORR_CHALLENGE, encodePoint(publicKey), encodePoint(commitment), encBytes(label));
}

export function proveSchnorr(context, secret, { label = new Uint8Array(0), rng = randomScalar } = {}) {
  if (!(secret > 0n && secret < N)) throw new ProofError("secret must be in [1, n-1]");
  const publicKey = baseMul(secret);
  const u = rng();
  const commitment = baseMul(u);
  const c = schnorrChallenge(context, publicKey, commitment, label);
  return new SchnorrProof(commitment, mod(u + c * secret));
}

export function verifySchnorr(context, publicKey, proof, { label = new Uint8Array(0) } = {}) {
  const c = schnorrChallenge(context, publicKey, proof.commitment, label);
  if (!combine(G, proof.response, publicKey, N - c).equals(proof.commitment)) {
    throw new ProofError("Schnorr proof fails");
  }
}

// -- Chaum–Pedersen equality of discrete logs ---------------------------------------------------------
/** s with X = s·B1 and M = s·B2: commitments a = u·B1, b = u·B2, response v = u + c·s. */
export class EqualityProof {
  constructor(a, b, response) {
    Object.assign(this, { a, b, response });
    Object.freeze(this);
  }

  toJSON() {
    return { a: pointHex(this.a), b: pointHex(this.b), response: scalarHex(this.response) };
  }

  static fromJSON(obj) {
    const o = exactKeys(obj, ["a", "b", "response"], "equality proof");
    return new EqualityProof(pointFromHex(hexField(o, "a")), pointFromHex(hexField(o, "b")), scalarFromHex(hexField(o, "response")));
  }
}

/** c = H2F(0x23 || context || B1 || X || B2 || M || a || b || label). */
export function equalityChallenge(context, base1, public1, base2, public2, a, b, label) {
  return challenge(
    context,
    Tag.EQUALITY_CHALLENGE,
    encodePoint(base1),
    encodePoint(public1),
    encodePoint(base2),
    encodePoint(public2),
    encodePoint(a),
    encodePoint(b),
    encBytes(label),
  );
}

export function proveEquality(context, secret, base2, { base1 = G, label = new Uint8Array(0), rng = randomScalar } = {}) {
  if (!(secret > 0n && secret < N)) throw new ProofError("secret must be in [1, n-1]");
  const public1 = mulSecret(base1, secret);
  const public2 = mulSecret(base2, secret);
  const u = rng();
  const a = mulSecret(base1, u);
  const b = mulSecret(base2, u);
  const c = equalityChallenge(context, base1, public1, base2, public2, a, b, label);
  return new EqualityProof(a, b, mod(u + c * secret));
}

export function verifyEquality(context, public1, base2, public2, proof, { base1 = G, label = new Uint8Array(0) } = {}) {
  const c = equalityChallenge(context, base1, public1, base2, public2, proof.a, proof.b, label);
  if (!combine(base1, proof.response, public1, N - c).equals(proof.a)) {
    throw new ProofError("equality proof fails on the first base");
  }
  if (!combine(base2, proof.response, public2, N - c).equals(proof.b)) {
    throw new ProofError("equality proof fails on the second base");
  }
}

