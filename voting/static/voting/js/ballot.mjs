// Encrypted ballots: encryption with all proofs, verification, ballot codes and the Benaloh
// challenge (twin of civic_votecrypto/ballot.py, protocol §6–7).
//
// A ballot is a deterministic function of (election context, ballot id, choices, 32-byte seed ξ):
// every encryption nonce and proof nonce is derived from ξ. To challenge (audit) a ballot
// instead of casting it, the booth reveals ξ and the choices and anyone re-encrypts and compares.
// The same determinism lets this file reproduce Python ballots byte for byte.

import { bytesEqual, bytesToHex, concatBytes, hexToBytes, pointFromHex, pointHex } from "./encoding.mjs";
import { Ciphertext, aggregate, encrypt, smallLog } from "./elgamal.mjs";
import { BallotError, CryptoError, EncodingError, ProofError } from "./errors.mjs";
import { baseMul, fixedBase, mod, mulSecret } from "./group.mjs";
import {
  H,
  HASH_BYTES,
  Tag,
  deriveNonzeroScalar,
  electionBaseHash,
  encHash,
  encStr,
  encU32,
  extendedBaseHash,
  manifestHash,
  parameterHash,
} from "./hashing.mjs";
import { exactKeys, isJsonInteger, isPlainObject } from "./json.mjs";
import { ID_MAX, Manifest, isIdentifier } from "./manifest.mjs";
import { batchHolds } from "./batch.mjs";
import { RangeProof, checkRangeChallenge, checkRangeEquations, proveRange, rangeEquations } from "./proofs.mjs";

export const BALLOT_VERSION = "civic-ballot-v1";
/** "Option index" of the contest limit proof in proof-nonce derivation. */
export const LIMIT_INDEX = 0xffffffff;
export const SEED_BYTES = 32;
const CONTEXT_KEYS = Object.freeze(["manifest", "joint_key", "trustees", "threshold", "trustee_commitments"]);
const MAX_TRUSTEES = 255; // civic_votecrypto/limits.py: one limit everywhere

// -- election context -----------------------------------------------------------------------------
/** What a ballot is bound to: manifest, joint key K and the extended base hash H_E. */
export class ElectionContext {
  constructor(manifest, jointKey, parameterHash_, manifestHash_, baseHash, extendedHash, trustees = 0, threshold = 0, trusteeCommitments = []) {
    Object.assign(this, {
      manifest,
      jointKey,
      parameterHash: parameterHash_,
      manifestHash: manifestHash_,
      baseHash,
      extendedHash,
      trustees,
      threshold,
      trusteeCommitments: Object.freeze([...trusteeCommitments]),
    });
    Object.freeze(this);
  }

  static build(manifest, jointKey, trustees, threshold, trusteeCommitments = []) {
    const hP = parameterHash();
    const hM = manifestHash(hP, manifest.canonicalBytes());
    const hB = electionBaseHash(hP, hM, trustees, threshold);
    const hE = extendedBaseHash(hB, jointKey, trusteeCommitments);
    return new ElectionContext(manifest, jointKey, hP, hM, hB, hE, trustees, threshold, trusteeCommitments);
  }

  /** The context message of protocol §7.6, with `extended_hash` (Python: to_json). */
  toJSON() {
    if (!(this.threshold >= 1 && this.threshold <= this.trustees)) {
      throw new BallotError("this context was not built with its trustee configuration");
    }
    return {
      manifest: this.manifest.toJSON(),
      joint_key: pointHex(this.jointKey),
      trustees: this.trustees,
      threshold: this.threshold,
      trustee_commitments: this.trusteeCommitments.map(pointHex),
      extended_hash: bytesToHex(this.extendedHash),
    };
  }

  /**
   * The booth's context message (protocol §7.6): exactly {manifest, joint_key, trustees,
   * threshold, trustee_commitments} and optionally the server's `extended_hash`, which must
   * equal the one recomputed here. Same error classes as Python's ElectionContext.from_json.
   */
  static fromJSON(obj) {
    const keys = isPlainObject(obj) ? Object.keys(obj) : null;
    if (keys === null || !CONTEXT_KEYS.every((k) => Object.hasOwn(obj, k)) || !keys.every((k) => CONTEXT_KEYS.includes(k) || k === "extended_hash")) {
      throw new EncodingError(`election context must be an object with the keys ${JSON.stringify([...CONTEXT_KEYS].sort())} and optionally extended_hash`);
    }
    const manifest = Manifest.fromJSON(obj.manifest);
    const jointKey = pointFromHex(obj.joint_key);
    for (const key of ["trustees", "threshold"]) {
      if (!isJsonInteger(obj[key]) || obj[key] < 1 || obj[key] > MAX_TRUSTEES) {
        throw new EncodingError(`${key} must be an integer in [1, ${MAX_TRUSTEES}]`);
      }
    }
    if (obj.threshold > obj.trustees) throw new EncodingError("threshold must not exceed the number of trustees");
    const commitments = obj.trustee_commitments;
    if (!Array.isArray(commitments)) throw new EncodingError("trustee_commitments must be a list of points");
    const ctx = ElectionContext.build(manifest, jointKey, obj.trustees, obj.threshold, commitments.map(pointFromHex));
    if (obj.extended_hash !== undefined) {
      const expected = hexToBytes(obj.extended_hash, HASH_BYTES, "extended_hash");
      if (!bytesEqual(expected, ctx.extendedHash)) {
        throw new BallotError("extended_hash does not match the manifest, key and trustees");
      }
    }
    return ctx;
  }
}

// -- encrypted ballot objects ------------------------------------------------------------------------
export class EncryptedSelection {
  constructor(optionId, ciphertext, proof) {
    Object.assign(this, { optionId, ciphertext, proof });
    Object.freeze(this);
  }

  toJSON() {
    return { option_id: this.optionId, ciphertext: this.ciphertext.toJSON(), proof: this.proof.toJSON() };
  }
}

export class EncryptedContest {
  constructor(contestId, selections, limitProof) {
    Object.assign(this, { contestId, selections: Object.freeze([...selections]), limitProof });
    Object.freeze(this);
  }

  toJSON() {
    return {
      contest_id: this.contestId,
      selections: this.selections.map((s) => s.toJSON()),
      limit_proof: this.limitProof.toJSON(),
    };
  }
}

export { ID_MAX, isIdentifier };

/** An identifier field (protocol §6.1), else EncodingError. */
function stringField(obj, key) {
  const value = obj[key];
  if (!isIdentifier(value)) throw new EncodingError(`${key} must be 1..${ID_MAX} characters of [A-Za-z0-9._:-]`);
  return value;
}

export class EncryptedBallot {
  constructor(ballotId, contextHash, contests, code) {
    Object.assign(this, { ballotId, contextHash, contests: Object.freeze([...contests]), code });
    Object.freeze(this);
  }

  get trackingCode() {
    return trackingCode(this.code);
  }

  toJSON() {
    return {
      version: BALLOT_VERSION,
      ballot_id: this.ballotId,
      context_hash: bytesToHex(this.contextHash),
      contests: this.contests.map((c) => c.toJSON()),
      code: bytesToHex(this.code),
    };
  }

  /** Strict parsing: exact keys, exact types, canonical encodings (else EncodingError). */
  static fromJSON(obj) {
    const o = exactKeys(obj, ["version", "ballot_id", "context_hash", "contests", "code"], "ballot");
    if (o.version !== BALLOT_VERSION) throw new EncodingError(`ballot version must be ${JSON.stringify(BALLOT_VERSION)}`);
    const ballotId = stringField(o, "ballot_id");
    if (!Array.isArray(o.contests)) throw new EncodingError("contests must be a list");
    const contests = o.contests.map((c) => {
      const co = exactKeys(c, ["contest_id", "selections", "limit_proof"], "contest");
      if (!Array.isArray(co.selections)) throw new EncodingError("selections must be a list");
      const selections = co.selections.map((s) => {
        const so = exactKeys(s, ["option_id", "ciphertext", "proof"], "selection");
        return new EncryptedSelection(stringField(so, "option_id"), Ciphertext.fromJSON(so.ciphertext), RangeProof.fromJSON(so.proof));
      });
      return new EncryptedContest(stringField(co, "contest_id"), selections, RangeProof.fromJSON(co.limit_proof));
    });
    return new EncryptedBallot(
      ballotId,
      hexToBytes(o.context_hash, HASH_BYTES, "context_hash"),
      contests,
      hexToBytes(o.code, HASH_BYTES, "code"),
    );
  }
}

// -- hashes, codes, labels ---------------------------------------------------------------------------
/** χ = H(H_E; 0x12, contest_id, count, ciphertexts in manifest order). */
export function contestHash(contextHash, contest) {
  return H(
    contextHash,
    Tag.CONTEST_HASH,
    encStr(contest.contestId),
    encU32(contest.selections.length),
    ...contest.selections.map((s) => s.ciphertext.encode()),
  );
}

/** The confirmation code the voter keeps: H(H_E; 0x13, ballot_id, count, χ_1..χ_m). */
export function ballotCode(contextHash, ballotId, contests) {
  return H(
    contextHash,
    Tag.BALLOT_CODE,
    encStr(ballotId),
    encU32(contests.length),
    ...contests.map((c) => contestHash(contextHash, c)),
  );
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** Human form of the first 15 bytes of the code: 24 RFC 4648 base32 letters in groups of four. */
export function trackingCode(code) {
  let bits = 0;
  let acc = 0;
  let text = "";
  for (const byte of code.subarray(0, 15)) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      text += BASE32[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  return text.match(/.{1,4}/g).join("-");
}

export function selectionLabel(ballotId, contestId, optionId) {
  return concatBytes(encStr(ballotId), encStr(contestId), encStr(optionId));
}

export function limitLabel(ballotId, contestId) {
  return concatBytes(encStr(ballotId), encStr(contestId));
}

export function selectionNonce(contextHash, seed, ballotId, contest, option) {
  return deriveNonzeroScalar(Tag.SELECTION_NONCE, encHash(contextHash), seed, encStr(ballotId), encU32(contest), encU32(option));
}

/** Proof randomness from the seed, the position and the proved value (RFC 6979 spirit). */
export function proofNonces(contextHash, seed, ballotId, contest, option, value) {
  const prefix = concatBytes(encHash(contextHash), seed, encStr(ballotId), encU32(contest), encU32(option), encU32(value));
  let counter = 0;
  return () => deriveNonzeroScalar(Tag.PROOF_NONCE, prefix, encU32(counter++));
}

// -- plaintext validation ------------------------------------------------------------------------------
/** Choices as values in manifest order; refuses anything the contest rules forbid. */
export function normalizeChoices(manifest, choices) {
  if (!isPlainObject(choices)) throw new BallotError("choices must map contest ids to {option id: value}");
  const contestIds = new Set(manifest.contests.map((c) => c.id));
  const unknown = Object.keys(choices).filter((k) => !contestIds.has(k)).sort();
  if (unknown.length) throw new BallotError(`unknown contests ${JSON.stringify(unknown)}`);
  return manifest.contests.map((contest) => {
    const given = Object.hasOwn(choices, contest.id) ? choices[contest.id] : {};
    if (!isPlainObject(given)) throw new BallotError(`contest ${contest.id}: choices must be an object`);
    const optionIds = contest.options.map((o) => o.id);
    const extra = Object.keys(given).filter((k) => !optionIds.includes(k)).sort();
    if (extra.length) throw new BallotError(`contest ${contest.id}: unknown options ${JSON.stringify(extra)}`);
    const values = optionIds.map((oid) => (Object.hasOwn(given, oid) ? given[oid] : 0));
    optionIds.forEach((oid, i) => {
      const v = values[i];
      if (!isJsonInteger(v) || v < 0 || v > contest.maxValue) {
        throw new BallotError(`contest ${contest.id}: option ${oid} must be in [0, ${contest.maxValue}]`);
      }
    });
    const total = contest.weights.reduce((acc, w, i) => acc + w * values[i], 0);
    const [lo, hi] = contest.limit;
    if (!(lo <= total && total <= hi)) throw new BallotError(`contest ${contest.id}: total ${total} outside [${lo}, ${hi}]`);
    return values;
  });
}

// -- encryption ----------------------------------------------------------------------------------------
/** 32 fresh random bytes from the platform CSPRNG. */
export function newSeed() {
  return globalThis.crypto.getRandomValues(new Uint8Array(SEED_BYTES));
}

function contestAggregate(contest, ciphertexts) {
  return contest.uniformWeights ? aggregate(ciphertexts) : aggregate(ciphertexts, contest.weights);
}

/**
 * Encryption as a generator: yields {done, total} after each proof and returns the ballot, so
 * a caller can pause between proofs (the booth's in-page fallback keeps the page responsive).
 */
export function* encryptBallotSteps(ctx, ballotId, choices, seed = null) {
  const ballotSeed = seed ?? newSeed();
  if (!(ballotSeed instanceof Uint8Array) || ballotSeed.length !== SEED_BYTES) throw new BallotError("ballot seed must be 32 bytes");
  if (!isIdentifier(ballotId)) throw new BallotError(`ballot id must be 1..${ID_MAX} characters of [A-Za-z0-9._:-]`);
  const values = normalizeChoices(ctx.manifest, choices);
  const hE = ctx.extendedHash;
  const key = ctx.jointKey;
  const total = ctx.manifest.contests.reduce((acc, c) => acc + c.options.length + 1, 0);
  let done = 0;
  const contests = [];
  for (const [ci, contest] of ctx.manifest.contests.entries()) {
    const contestValues = values[ci];
    const nonces = [];
    const selections = [];
    for (const [oi, option] of contest.options.entries()) {
      const value = contestValues[oi];
      const r = selectionNonce(hE, ballotSeed, ballotId, ci, oi);
      nonces.push(r);
      const ct = encrypt(key, value, r);
      const proof = proveRange(hE, key, ct, value, r, 0, contest.maxValue, {
        tag: Tag.RANGE_CHALLENGE,
        label: selectionLabel(ballotId, contest.id, option.id),
        rng: proofNonces(hE, ballotSeed, ballotId, ci, oi, value),
      });
      selections.push(new EncryptedSelection(option.id, ct, proof));
      yield { done: ++done, total };
    }
    const weights = contest.weights;
    const totalCt = contestAggregate(contest, selections.map((s) => s.ciphertext));
    const totalNonce = mod(weights.reduce((acc, w, i) => acc + BigInt(w) * nonces[i], 0n));
    const sum = weights.reduce((acc, w, i) => acc + w * contestValues[i], 0);
    const [lo, hi] = contest.limit;
    const limitProof = proveRange(hE, key, totalCt, sum, totalNonce, lo, hi, {
      tag: Tag.LIMIT_CHALLENGE,
      label: limitLabel(ballotId, contest.id),
      rng: proofNonces(hE, ballotSeed, ballotId, ci, LIMIT_INDEX, sum),
    });
    contests.push(new EncryptedContest(contest.id, selections, limitProof));
    yield { done: ++done, total };
  }
  const code = ballotCode(hE, ballotId, contests);
  return new EncryptedBallot(ballotId, hE, contests, code);
}

/**
 * Encrypt every option of every contest with its range proof and each contest's limit proof.
 * `onProgress(done, total)` is called after each proof (the booth worker forwards it).
 */
export function encryptBallot(ctx, ballotId, choices, seed = null, { onProgress = null } = {}) {
  const steps = encryptBallotSteps(ctx, ballotId, choices, seed);
  for (;;) {
    const { value, done } = steps.next();
    if (done) return value;
    if (onProgress) onProgress(value.done, value.total);
  }
}

// -- verification ---------------------------------------------------------------------------------------
/** Context hash, contest and option order, code: everything but the group equations. */
export function checkStructure(ctx, ballot) {
  if (!bytesEqual(ballot.contextHash, ctx.extendedHash)) throw new BallotError("ballot is bound to another election context");
  const manifest = ctx.manifest;
  const gotContests = ballot.contests.map((c) => c.contestId);
  const wantContests = manifest.contests.map((c) => c.id);
  if (JSON.stringify(gotContests) !== JSON.stringify(wantContests)) {
    throw new BallotError("contests missing, extra or out of manifest order");
  }
  ballot.contests.forEach((enc, i) => {
    const contest = manifest.contests[i];
    const got = enc.selections.map((s) => s.optionId);
    const want = contest.options.map((o) => o.id);
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      throw new BallotError(`contest ${contest.id}: options missing, extra or out of order`);
    }
  });
  if (!bytesEqual(ballotCode(ctx.extendedHash, ballot.ballotId, ballot.contests), ballot.code)) {
    throw new BallotError("ballot code does not match its ciphertexts");
  }
}

/** Every proof of a ballot as {what, ciphertext, proof, lo, hi, options} (aggregates computed). */
function ballotStatements(ctx, ballot) {
  const statements = [];
  ballot.contests.forEach((enc, i) => {
    const contest = ctx.manifest.contests[i];
    for (const sel of enc.selections) {
      statements.push({
        what: `${enc.contestId}/${sel.optionId}`,
        ciphertext: sel.ciphertext,
        proof: sel.proof,
        lo: 0,
        hi: contest.maxValue,
        options: { tag: Tag.RANGE_CHALLENGE, label: selectionLabel(ballot.ballotId, contest.id, sel.optionId) },
      });
    }
    const [lo, hi] = contest.limit;
    statements.push({
      what: `${enc.contestId} limit`,
      ciphertext: contestAggregate(contest, enc.selections.map((s) => s.ciphertext)),
      proof: enc.limitProof,
      lo,
      hi,
      options: { tag: Tag.LIMIT_CHALLENGE, label: limitLabel(ballot.ballotId, contest.id) },
    });
  });
  return statements;
}

function named(what, fn) {
  try {
    fn();
  } catch (err) {
    if (err instanceof CryptoError) throw new err.constructor(`${what}: ${err.message}`);
    throw err;
  }
}

/**
 * Verify one ballot (protocol §7.5): structure and code, then every proof's hash (cheap, no
 * group operation), then all group equations in one batch (§9). If the batch fails, the
 * proofs are re-checked one by one so the error names the bad one. Throws BallotError /
 * ProofError / EncodingError; `batch: false` checks every equation on its own instead.
 */
export function verifyBallot(ctx, ballot, { batch = true, onProgress = null } = {}) {
  checkStructure(ctx, ballot);
  const hE = ctx.extendedHash;
  const key = ctx.jointKey;
  const statements = ballotStatements(ctx, ballot);
  for (const s of statements) {
    named(s.what, () => checkRangeChallenge(hE, key, s.ciphertext, s.proof, s.lo, s.hi, s.options));
  }
  if (batch && batchHolds(statements.flatMap((s) => rangeEquations(key, s.ciphertext, s.proof, s.lo)), [key])) {
    if (onProgress) onProgress(statements.length, statements.length);
    return;
  }
  statements.forEach((s, i) => {
    named(s.what, () => checkRangeEquations(key, s.ciphertext, s.proof, s.lo));
    if (onProgress) onProgress(i + 1, statements.length);
  });
  if (batch) throw new ProofError("batch verification failed although every equation holds alone");
}

/** JSON -> ballot, turning any malformed input into EncodingError. */
export function decodeBallot(obj) {
  try {
    return EncryptedBallot.fromJSON(obj);
  } catch (err) {
    if (err instanceof CryptoError) throw err;
    throw new EncodingError(`malformed ballot: ${err.message}`);
  }
}

// -- Benaloh challenge -------------------------------------------------------------------------------------
/** A spoiled ballot: the encrypted ballot plus the secret seed and the claimed choices. */
export class ChallengedBallot {
  constructor(ballot, seed, choices) {
    Object.assign(this, { ballot, seed, choices });
    Object.freeze(this);
  }

  toJSON() {
    return { ballot: this.ballot.toJSON(), seed: bytesToHex(this.seed), choices: this.choices };
  }

  static fromJSON(obj) {
    const o = exactKeys(obj, ["ballot", "seed", "choices"], "challenged ballot");
    const choices = o.choices;
    if (!isPlainObject(choices) || !Object.values(choices).every((v) => isPlainObject(v) && Object.values(v).every(isJsonInteger))) {
      throw new EncodingError("choices must map contest ids to {option id: integer}");
    }
    return new ChallengedBallot(EncryptedBallot.fromJSON(o.ballot), hexToBytes(o.seed, SEED_BYTES, "seed"), choices);
  }
}

/** What the booth publishes when the voter audits instead of casting. */
export function challengeBallot(ballot, seed, choices) {
  const copy = Object.fromEntries(Object.entries(choices).map(([c, v]) => [c, { ...v }]));
  return new ChallengedBallot(ballot, seed, copy);
}

/** Re-encrypt the revealed choices with the revealed seed: it must give the same ballot. */
export function verifyChallengedBallot(ctx, challenged) {
  let expected;
  try {
    expected = encryptBallot(ctx, challenged.ballot.ballotId, challenged.choices, challenged.seed);
  } catch (err) {
    if (err instanceof CryptoError) throw new BallotError(`revealed choices are not a valid ballot: ${err.message}`);
    throw err;
  }
  const ballot = challenged.ballot;
  if (!bytesEqual(expected.code, ballot.code)) {
    throw new BallotError("re-encryption does not give the ballot's code: the device cheated");
  }
  ballot.contests.forEach((got, i) => {
    got.selections.forEach((sel, j) => {
      if (!sel.ciphertext.equals(expected.contests[i].selections[j].ciphertext)) {
        throw new BallotError(`${got.contestId}/${sel.optionId}: ciphertext is not the revealed choice`);
      }
    });
  });
  verifyBallot(ctx, ballot);
}

/**
 * What the challenged ballot *actually* encrypts, read with the revealed seed alone (not the
 * device's claimed choices): m·G = beta − r·K with r re-derived from ξ, then a small search.
 * The booth shows this to the voter, who compares it with what they picked.
 */
export function openChallengedBallot(ctx, ballot, seed) {
  checkStructure(ctx, ballot);
  const keyTable = fixedBase(ctx.jointKey);
  const opened = {};
  ballot.contests.forEach((enc, ci) => {
    const contest = ctx.manifest.contests[ci];
    const values = {};
    enc.selections.forEach((sel, oi) => {
      const r = selectionNonce(ctx.extendedHash, seed, ballot.ballotId, ci, oi);
      if (!baseMul(r).equals(sel.ciphertext.alpha)) {
        throw new BallotError(`${enc.contestId}/${sel.optionId}: alpha was not made with the revealed seed`);
      }
      const m = smallLog(sel.ciphertext.beta.subtract(mulSecret(keyTable, r)), contest.maxValue);
      if (m === null) throw new BallotError(`${enc.contestId}/${sel.optionId}: plaintext is outside [0, ${contest.maxValue}]`);
      if (m !== 0) values[sel.optionId] = m;
    });
    opened[enc.contestId] = values;
  });
  return opened;
}

