// Rejection of every malformed or forged input by the browser voting crypto: a flipped bit in
// any point, scalar, proof element, ciphertext, code or hash; every malformed encoding; every
// choice the contest rules forbid. Plus round-trip and homomorphism properties.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ChallengedBallot,
  EncryptedBallot,
  challengeBallot,
  decodeBallot,
  encryptBallot,
  normalizeChoices,
  openChallengedBallot,
  verifyBallot,
  verifyChallengedBallot,
} from "../../voting/static/voting/js/ballot.mjs";
import { Ciphertext, aggregate, decryptToPoint, encrypt, smallLog } from "../../voting/static/voting/js/elgamal.mjs";
import {
  N,
  P,
  decodePoint,
  decodeScalar,
  encodePoint,
  encodeScalar,
  IDENTITY,
  pointFromHex,
  pointHex,
  scalarFromHex,
  scalarHex,
} from "../../voting/static/voting/js/encoding.mjs";
import { BallotError, CryptoError, EncodingError, ProofError } from "../../voting/static/voting/js/errors.mjs";
import { baseMul } from "../../voting/static/voting/js/group.mjs";
import { deterministicScalars } from "../../voting/static/voting/js/hashing.mjs";
import { Manifest } from "../../voting/static/voting/js/manifest.mjs";
import { RangeProof, proveRange, verifyRange } from "../../voting/static/voting/js/proofs.mjs";
import { clone, flipHexBit, utf8Bytes } from "./tools/crypto_support.mjs";
import { SMALL_CHOICES, SMALL_MANIFEST, SMALL_SECRET, smallContext } from "./tools/small_election.mjs";

const ctx = smallContext();
const SEED = new Uint8Array(32).fill(7);
const ballot = encryptBallot(ctx, "ballot-neg", SMALL_CHOICES, SEED);
const ballotJson = ballot.toJSON();
const rng = deterministicScalars(utf8Bytes("negative-tests"), "rng");

/** Decoding or verifying must throw a CryptoError (never pass, never another error type). */
function assertBallotRejected(json, message) {
  assert.throws(
    () => verifyBallot(ctx, decodeBallot(json)),
    (err) => err instanceof CryptoError,
    message,
  );
}

/** Every [path, hexString] of a JSON value whose string is lowercase hex of 32 or 33 bytes. */
function hexFields(value, path = []) {
  if (typeof value === "string") return /^[0-9a-f]{64}([0-9a-f]{2})?$/.test(value) ? [[path, value]] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => hexFields(v, [...path, i]));
  if (value !== null && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => hexFields(v, [...path, k]));
  return [];
}

function setAt(obj, path, newValue) {
  const copy = clone(obj);
  let cursor = copy;
  for (const key of path.slice(0, -1)) cursor = cursor[key];
  cursor[path.at(-1)] = newValue;
  return copy;
}

test("the untouched ballot verifies (the flips below are what make it fail)", () => {
  verifyBallot(ctx, decodeBallot(ballotJson));
  assert.match(ballot.trackingCode, /^[A-Z2-7]{4}(-[A-Z2-7]{4}){5}$/);
});

test("a flipped bit in every point, scalar, ciphertext, proof element, code and hash of one contest", () => {
  // Every hex field of the approval contest (3 selections, limit [1, 2]), plus the code and
  // context hash; each flipped at a bit that depends on the field (spread over the value).
  const fields = hexFields(ballotJson).filter(([path]) => path[0] !== "contests" || path[1] === 2);
  assert.ok(fields.length >= 40, `only ${fields.length} fields`);
  fields.forEach(([path, hex], i) => {
    const bit = (i * 37) % (hex.length * 4);
    assertBallotRejected(setAt(ballotJson, path, flipHexBit(hex, bit)), `${path.join(".")} bit ${bit}`);
  });
});

test("a flipped bit in each kind of field of every contest (lowest or highest bit)", () => {
  const fields = hexFields(ballotJson);
  const byKind = new Map();
  for (const [path, hex] of fields) {
    // kind = contest index + the path with list indexes inside a contest dropped
    const kind = `${path[1]}:${path.filter((p) => typeof p === "string").join(".")}`;
    if (!byKind.has(kind)) byKind.set(kind, [path, hex]);
  }
  assert.ok(byKind.size >= 30);
  [...byKind].forEach(([kind, [path, hex]], i) => {
    const bit = i % 2 === 0 ? 0 : hex.length * 4 - 1; // lowest and highest bits, alternately
    assertBallotRejected(setAt(ballotJson, path, flipHexBit(hex, bit)), `${kind} bit ${bit}`);
  });
});

test("a changed ballot id, contest id or option id is rejected", () => {
  assertBallotRejected({ ...ballotJson, ballot_id: "ballot-nef" }, "ballot id");
  assertBallotRejected(setAt(ballotJson, ["contests", 1, "contest_id"], "mayoR"), "contest id");
  assertBallotRejected(setAt(ballotJson, ["contests", 1, "selections", 0, "option_id"], "m3"), "option id");
  // Swapping two selections (ciphertext and proof together) breaks the labels and the code.
  const swapped = clone(ballotJson);
  const sels = swapped.contests[2].selections;
  [sels[0], sels[1]] = [sels[1], sels[0]];
  [sels[0].option_id, sels[1].option_id] = [sels[1].option_id, sels[0].option_id];
  assertBallotRejected(swapped, "swapped selections");
  // A selection copied from another ballot carries that ballot's label: rejected.
  const other = encryptBallot(ctx, "ballot-other", SMALL_CHOICES, new Uint8Array(32).fill(9)).toJSON();
  assertBallotRejected(setAt(ballotJson, ["contests", 0, "selections", 0, "proof"], other.contests[0].selections[0].proof), "copied proof");
});

test("every flipped bit class of a single range proof is rejected by verifyRange", () => {
  const key = ctx.jointKey;
  const nonce = rng();
  const ct = encrypt(key, 2, nonce);
  const label = utf8Bytes("lbl");
  const proof = proveRange(ctx.extendedHash, key, ct, 2, nonce, 0, 3, { label, rng });
  const json = proof.toJSON();
  verifyRange(ctx.extendedHash, key, ct, proof, 0, 3, { label });
  for (const [path, hex] of hexFields(json)) {
    for (const bit of [0, 1, 77, 130, hex.length * 4 - 1]) {
      const bad = setAt(json, path, flipHexBit(hex, bit));
      assert.throws(() => verifyRange(ctx.extendedHash, key, ct, RangeProof.fromJSON(bad), 0, 3, { label }), CryptoError, `${path} ${bit}`);
    }
  }
  // ...and a flipped ciphertext under the intact proof.
  for (const field of ["alpha", "beta"]) {
    for (const bit of [0, 200]) {
      const badCt = clone(ct.toJSON());
      badCt[field] = flipHexBit(badCt[field], bit);
      assert.throws(() => verifyRange(ctx.extendedHash, key, Ciphertext.fromJSON(badCt), proof, 0, 3, { label }), CryptoError);
    }
  }
  // A proof that claims a value outside the range cannot be made.
  assert.throws(() => proveRange(ctx.extendedHash, key, ct, 4, nonce, 0, 3, { label, rng }), ProofError);
  // A proof for the wrong nonce does not verify.
  const forged = proveRange(ctx.extendedHash, key, ct, 2, nonce + 1n, 0, 3, { label, rng });
  assert.throws(() => verifyRange(ctx.extendedHash, key, ct, forged, 0, 3, { label }), ProofError);
});

test("malformed points and scalars: length, prefix, infinity, x >= p, off curve, case, non-hex", () => {
  const good = pointHex(baseMul(12345n));
  const x = (v) => v.toString(16).padStart(64, "0");
  const notOnCurve = [...Array(50).keys()].map((i) => `02${x(BigInt(i + 1))}`).find((t) => {
    try {
      pointFromHex(t);
      return false;
    } catch {
      return true;
    }
  });
  const badPoints = [
    "",
    good.slice(0, -2),
    good + "00",
    "00",
    "00".repeat(33),
    "04" + good.slice(2),
    "01" + good.slice(2),
    "02" + x(P),
    "03" + x(P + 5n),
    "02" + "ff".repeat(32),
    notOnCurve,
    good.toUpperCase(),
    "0g" + good.slice(2),
    " " + good.slice(1),
    "04" + x(5n) + x(7n),
  ];
  for (const text of badPoints) assert.throws(() => pointFromHex(text), EncodingError, text);
  assert.throws(() => decodePoint(new Uint8Array(65)), EncodingError);
  assert.throws(() => encodePoint(IDENTITY), EncodingError);
  const badScalars = [x(N), x(N + 1n), "ff".repeat(32), "01".repeat(31), "00" + "01".repeat(32), x(5n).toUpperCase().replace("0", "A"), "zz".repeat(32), 5];
  for (const text of badScalars) assert.throws(() => scalarFromHex(text), EncodingError, String(text));
  assert.throws(() => scalarFromHex(x(0n), { nonzero: true }), EncodingError);
  assert.throws(() => encodeScalar(N), EncodingError);
  assert.throws(() => encodeScalar(-1n), EncodingError);
  assert.equal(scalarFromHex(x(N - 1n)), N - 1n);
});

test("malformed ballot JSON is rejected with EncodingError", () => {
  const sel = ["contests", 0, "selections", 0];
  const cases = {
    "not an object": [],
    "missing key": (() => {
      const b = clone(ballotJson);
      delete b.code;
      return b;
    })(),
    "extra key": { ...ballotJson, extra: 1 },
    "wrong version": { ...ballotJson, version: "civic-ballot-v2" },
    "empty ballot id": { ...ballotJson, ballot_id: "" },
    "numeric ballot id": { ...ballotJson, ballot_id: 7 },
    "ballot id with a newline": { ...ballotJson, ballot_id: "ballot\nneg" },
    "ballot id with a lone surrogate": { ...ballotJson, ballot_id: "ballot-\ud800" },
    "ballot id of 129 characters": { ...ballotJson, ballot_id: "b".repeat(129) },
    "option id with a tab": setAt(ballotJson, [...sel, "option_id"], "ye\ts"),
    "contests not a list": { ...ballotJson, contests: {} },
    "selections not a list": setAt(ballotJson, ["contests", 0, "selections"], "x"),
    "context hash uppercase": { ...ballotJson, context_hash: ballotJson.context_hash.toUpperCase() },
    "context hash short": { ...ballotJson, context_hash: ballotJson.context_hash.slice(2) },
    "code not hex": { ...ballotJson, code: "zz" + ballotJson.code.slice(2) },
    "ciphertext extra key": setAt(ballotJson, [...sel, "ciphertext", "gamma"], ballotJson.contests[0].selections[0].ciphertext.alpha),
    "ciphertext infinity": setAt(ballotJson, [...sel, "ciphertext", "alpha"], "00".repeat(33)),
    "ciphertext not a string": setAt(ballotJson, [...sel, "ciphertext", "beta"], 3),
    "proof without branches": setAt(ballotJson, [...sel, "proof", "branches"], []),
    "branch missing v": (() => {
      const b = clone(ballotJson);
      delete b.contests[0].selections[0].proof.branches[0].v;
      return b;
    })(),
    "branch scalar >= n": setAt(ballotJson, [...sel, "proof", "branches", 0, "c"], N.toString(16)),
    "branch point x >= p": setAt(ballotJson, [...sel, "proof", "branches", 1, "a"], "02" + P.toString(16)),
    "limit proof missing": (() => {
      const b = clone(ballotJson);
      delete b.contests[0].limit_proof;
      return b;
    })(),
    "too many branches": setAt(ballotJson, [...sel, "proof", "branches"], Array(1025).fill(ballotJson.contests[0].selections[0].proof.branches[0])),
  };
  for (const [name, json] of Object.entries(cases)) {
    assert.throws(() => EncryptedBallot.fromJSON(json), EncodingError, name);
    assert.throws(() => decodeBallot(json), EncodingError, name);
  }
  assert.throws(() => ChallengedBallot.fromJSON({ ballot: ballotJson, seed: "00".repeat(31), choices: {} }), EncodingError);
  assert.throws(() => ChallengedBallot.fromJSON({ ballot: ballotJson, seed: "00".repeat(32), choices: { ref: { yes: true } } }), EncodingError);
  assert.throws(() => ChallengedBallot.fromJSON({ ballot: ballotJson, seed: "00".repeat(32), choices: [] }), EncodingError);
});

test("choices the contest rules forbid are refused before any encryption", () => {
  const manifest = Manifest.fromJSON(SMALL_MANIFEST);
  const bad = {
    "unknown contest": { ...SMALL_CHOICES, nope: {} },
    "unknown option": { ...SMALL_CHOICES, ref: { maybe: 1 } },
    "two answers to a referendum": { ...SMALL_CHOICES, ref: { yes: 1, no: 1 } },
    "no answer to a referendum": { ...SMALL_CHOICES, ref: {} },
    "two mayors": { ...SMALL_CHOICES, mayor: { m1: 1, m2: 1 } },
    "approval below minimum": { ...SMALL_CHOICES, board: {} },
    "approval above maximum": { ...SMALL_CHOICES, board: { x: 1, y: 1, z: 1 } },
    "score above max_score": { ...SMALL_CHOICES, prio: { p: 3 } },
    "score total above max_total": { ...SMALL_CHOICES, prio: { p: 2, q: 2 } },
    "over budget": { ...SMALL_CHOICES, pb: { lib: 1, bench: 2 } },
    "negative value": { ...SMALL_CHOICES, mayor: { m1: -1 } },
    "boolean value": { ...SMALL_CHOICES, mayor: { m1: true } },
    "fractional value": { ...SMALL_CHOICES, prio: { p: 1.5 } },
    "string value": { ...SMALL_CHOICES, mayor: { m1: "1" } },
    "contest not an object": { ...SMALL_CHOICES, mayor: 1 },
  };
  for (const [name, choices] of Object.entries(bad)) {
    assert.throws(() => normalizeChoices(manifest, choices), BallotError, name);
    assert.throws(() => encryptBallot(ctx, "b", choices, SEED), BallotError, name);
  }
  assert.deepEqual(normalizeChoices(manifest, SMALL_CHOICES), [[0, 1, 0], [0, 0], [1, 0, 1], [2, 1], [1, 1]]);
  assert.throws(() => encryptBallot(ctx, "", SMALL_CHOICES, SEED), BallotError);
  assert.throws(() => encryptBallot(ctx, "a\u2028b", SMALL_CHOICES, SEED), BallotError);
  assert.throws(() => encryptBallot(ctx, "x".repeat(129), SMALL_CHOICES, SEED), BallotError);
  assert.throws(() => encryptBallot(ctx, "b", SMALL_CHOICES, new Uint8Array(31)), BallotError);
});

test("invalid manifests are refused with BallotError", () => {
  const contest = (patch) => ({ ...SMALL_MANIFEST, contests: [{ ...SMALL_MANIFEST.contests[1], ...patch }] });
  const bad = {
    "unknown type": contest({ type: "ranked" }),
    "missing allow_blank": (() => {
      const m = clone(contest({}));
      delete m.contests[0].allow_blank;
      return m;
    })(),
    "allow_blank not bool": contest({ allow_blank: 1 }),
    "duplicate option ids": contest({ options: [{ id: "a", title: "A" }, { id: "a", title: "B" }] }),
    "no options": contest({ options: [] }),
    "option with cost outside budget": contest({ options: [{ id: "a", title: "A", cost: 1 }] }),
    "non-printable id": contest({ id: "a\u0007" }),
    "id with a line separator": contest({ id: "a\u2028b" }),
    "too long id": contest({ id: "x".repeat(129) }),
    "id with a space (identifiers are [A-Za-z0-9._:-])": contest({ id: "with space" }),
    "non-ASCII id": contest({ id: "café" }),
    "extra manifest key": { ...SMALL_MANIFEST, extra: true },
    "no contests": { ...SMALL_MANIFEST, contests: [] },
    "duplicate contest ids": { ...SMALL_MANIFEST, contests: [SMALL_MANIFEST.contests[0], SMALL_MANIFEST.contests[0]] },
    "yes_no_abstain with two options": { ...SMALL_MANIFEST, contests: [{ ...SMALL_MANIFEST.contests[0], options: SMALL_MANIFEST.contests[0].options.slice(0, 2) }] },
    "approval max below min": { ...SMALL_MANIFEST, contests: [{ ...SMALL_MANIFEST.contests[2], min_selections: 2, max_selections: 1 }] },
    "score above 100": { ...SMALL_MANIFEST, contests: [{ ...SMALL_MANIFEST.contests[3], max_score: 101 }] },
    "score total above max_score·n": { ...SMALL_MANIFEST, contests: [{ ...SMALL_MANIFEST.contests[3], max_total: 5 }] },
    "budget option costing 0": { ...SMALL_MANIFEST, contests: [{ ...SMALL_MANIFEST.contests[4], options: [{ id: "a", title: "A", cost: 0 }] }] },
    "budget above 1023": { ...SMALL_MANIFEST, contests: [{ ...SMALL_MANIFEST.contests[4], budget: 1024 }] },
  };
  for (const [name, manifest] of Object.entries(bad)) assert.throws(() => Manifest.fromJSON(manifest), BallotError, name);
  assert.equal(Manifest.fromJSON(contest({ id: "A-z_0.9:x" })).contests[0].id, "A-z_0.9:x");
});

test("Benaloh challenge: honest device passes; any other seed or claimed choice is caught", () => {
  const challenged = challengeBallot(ballot, SEED, SMALL_CHOICES);
  verifyChallengedBallot(ctx, ChallengedBallot.fromJSON(challenged.toJSON()));
  assert.deepEqual(openChallengedBallot(ctx, ballot, SEED), SMALL_CHOICES);
  const otherSeed = new Uint8Array(32).fill(8);
  assert.throws(() => verifyChallengedBallot(ctx, challengeBallot(ballot, otherSeed, SMALL_CHOICES)), BallotError);
  assert.throws(() => openChallengedBallot(ctx, ballot, otherSeed), BallotError);
  const lie = { ...SMALL_CHOICES, prio: { p: 1, q: 1 } };
  assert.throws(() => verifyChallengedBallot(ctx, challengeBallot(ballot, SEED, lie)), BallotError);
  const impossible = { ...SMALL_CHOICES, ref: { yes: 1, no: 1 } };
  assert.throws(() => verifyChallengedBallot(ctx, challengeBallot(ballot, SEED, impossible)), BallotError);
});

test("round trips and homomorphism on random values", () => {
  for (let i = 0; i < 25; i++) {
    const k = rng();
    assert.equal(decodeScalar(encodeScalar(k)), k);
    const point = baseMul(k);
    assert.ok(decodePoint(encodePoint(point)).equals(point));
    assert.equal(pointHex(pointFromHex(pointHex(point))), pointHex(point));
    assert.equal(scalarHex(scalarFromHex(scalarHex(k))), scalarHex(k));
  }
  const a = encrypt(ctx.jointKey, 3, rng());
  const b = encrypt(ctx.jointKey, 4, rng());
  assert.equal(smallLog(decryptToPoint(SMALL_SECRET, a.add(b)), 20), 7);
  assert.equal(smallLog(decryptToPoint(SMALL_SECRET, aggregate([a, b], [2, 5])), 40), 26);
  assert.equal(smallLog(decryptToPoint(SMALL_SECRET, a.scale(3n)), 20), 9);
  assert.ok(Ciphertext.decode(a.encode()).equals(a));
  assert.throws(() => Ciphertext.decode(a.encode().subarray(1)), EncodingError);
});

test("batch verification: accepts true equations, rejects a batch with one false equation", async () => {
  const { batchHolds } = await import("../../voting/static/voting/js/batch.mjs");
  const { rangeEquations } = await import("../../voting/static/voting/js/proofs.mjs");
  const key = ctx.jointKey;
  const equations = [];
  for (let m = 0; m < 3; m++) {
    const r = rng();
    const ct = encrypt(key, m, r);
    equations.push(...rangeEquations(key, ct, proveRange(ctx.extendedHash, key, ct, m, r, 0, 2, { rng }), 0));
  }
  assert.equal(batchHolds(equations, [key]), true);
  assert.equal(batchHolds([], [key]), true);
  for (const index of [0, 5, equations.length - 1]) {
    const broken = equations.map((eq) => eq.slice());
    const [k, point] = broken[index][0];
    broken[index][0] = [k + 1n, point]; // one scalar off by one in one equation
    assert.equal(batchHolds(broken, [key]), false, `equation ${index}`);
  }
  // Single-proof verification and the batch path agree on a good and a bad ballot.
  verifyBallot(ctx, decodeBallot(ballotJson), { batch: false });
  const bad = clone(ballotJson);
  bad.contests[4].limit_proof.branches[0].v = flipHexBit(bad.contests[4].limit_proof.branches[0].v, 40);
  for (const batch of [true, false]) {
    assert.throws(() => verifyBallot(ctx, decodeBallot(bad), { batch }), (err) => err instanceof ProofError && /pb limit/.test(err.message));
  }
});

test("Schnorr and Chaum-Pedersen proofs: a flipped bit in any element or statement is rejected", async () => {
  const { proveSchnorr, verifySchnorr, SchnorrProof, proveEquality, verifyEquality, EqualityProof } = await import(
    "../../voting/static/voting/js/proofs.mjs"
  );
  const context = ctx.extendedHash;
  const secret = rng();
  const publicKey = baseMul(secret);
  const label = utf8Bytes("trustee 3");
  const schnorr = proveSchnorr(context, secret, { label, rng }).toJSON();
  verifySchnorr(context, publicKey, SchnorrProof.fromJSON(schnorr), { label });
  for (const field of ["commitment", "response"]) {
    for (const bit of [0, 129, 255]) {
      const bad = { ...schnorr, [field]: flipHexBit(schnorr[field], bit) };
      assert.throws(() => verifySchnorr(context, publicKey, SchnorrProof.fromJSON(bad), { label }), CryptoError, `${field} ${bit}`);
    }
  }
  assert.throws(() => verifySchnorr(context, baseMul(secret + 1n), SchnorrProof.fromJSON(schnorr), { label }), ProofError);
  const alpha = baseMul(rng());
  const share = rng();
  const eq = proveEquality(context, share, alpha, { label, rng }).toJSON();
  const public1 = baseMul(share);
  const public2 = alpha.multiply(share);
  verifyEquality(context, public1, alpha, public2, EqualityProof.fromJSON(eq), { label });
  for (const field of ["a", "b", "response"]) {
    for (const bit of [0, 200]) {
      const bad = { ...eq, [field]: flipHexBit(eq[field], bit) };
      assert.throws(() => verifyEquality(context, public1, alpha, public2, EqualityProof.fromJSON(bad), { label }), CryptoError, `${field} ${bit}`);
    }
  }
  assert.throws(() => verifyEquality(context, public1, alpha, public2.add(baseMul(1n)), EqualityProof.fromJSON(eq), { label }), ProofError);
  assert.throws(() => SchnorrProof.fromJSON({ ...schnorr, extra: "x" }), EncodingError);
  assert.throws(() => EqualityProof.fromJSON({ a: eq.a, b: eq.b }), EncodingError);
});
