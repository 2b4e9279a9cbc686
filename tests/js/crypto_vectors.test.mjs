// The browser voting crypto reproduces every Python vector in tests/vectors byte for byte,
// plus the public RFC 9380 (expand_message_xmd) and RFC 8785 (JCS) conformance data.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import {
  ChallengedBallot,
  ElectionContext,
  EncryptedBallot,
  contestHash,
  encryptBallot,
  selectionNonce,
  verifyBallot,
  verifyChallengedBallot,
  openChallengedBallot,
} from "../../voting/static/voting/js/ballot.mjs";
import { Ciphertext, aggregate, decryptToPoint, encrypt } from "../../voting/static/voting/js/elgamal.mjs";
import {
  G,
  N,
  P,
  bytesToHex,
  hexToBytes,
  hexToBytesAnyLength,
  pointFromHex,
  pointHex,
  scalarFromHex,
  scalarHex,
} from "../../voting/static/voting/js/encoding.mjs";
import { BallotError, CryptoError, EncodingError, ProofError } from "../../voting/static/voting/js/errors.mjs";
import { baseMul, msm, mul } from "../../voting/static/voting/js/group.mjs";
import {
  CHALLENGE_DST,
  DERIVE_DST,
  H,
  Tag,
  VERSION_KEY,
  challenge,
  deterministicScalars,
  electionBaseHash,
  expandMessageXmd,
  extendedBaseHash,
  manifestHash,
  parameterHash,
} from "../../voting/static/voting/js/hashing.mjs";
import { Manifest, canonicalJson } from "../../voting/static/voting/js/manifest.mjs";
import {
  EqualityProof,
  RangeProof,
  SchnorrProof,
  proveEquality,
  proveRange,
  proveSchnorr,
  verifyEquality,
  verifyRange,
  verifySchnorr,
} from "../../voting/static/voting/js/proofs.mjs";
import { conformanceRoot, loadVector, sortedJson, utf8Bytes } from "./tools/crypto_support.mjs";

const rngOf = (spec) => deterministicScalars(utf8Bytes(spec.seed_utf8), spec.label);
const hexBytes = (hex) => hexToBytesAnyLength(hex);

test("group.json: constants, multiplication, addition, msm", () => {
  const doc = loadVector("group.json");
  assert.equal(pointHex(G), doc.generator);
  assert.equal(N.toString(16).padStart(64, "0"), doc.order_n);
  assert.equal(P.toString(16).padStart(64, "0"), doc.field_p);
  for (const c of doc.base_mul) assert.equal(pointHex(baseMul(scalarFromHex(c.k))), c.kG, c.k);
  for (const c of doc.add) {
    const a = pointFromHex(c.a);
    const b = pointFromHex(c.b);
    assert.equal(pointHex(a.add(b)), c.sum);
    assert.equal(pointHex(a.subtract(b)), c.difference);
  }
  for (const c of doc.mul) assert.equal(pointHex(mul(pointFromHex(c.point), scalarFromHex(c.k))), c.product);
  const result = msm(doc.msm.scalars.map((k) => scalarFromHex(k)), doc.msm.points.map(pointFromHex));
  assert.equal(pointHex(result), doc.msm.result);
  assert.equal(scalarFromHex(doc.valid_zero_scalar), 0n);
});

test("group.json: every invalid point and scalar encoding is rejected with EncodingError", () => {
  const doc = loadVector("group.json");
  assert.ok(Object.keys(doc.invalid_points).length >= 10);
  for (const [name, text] of Object.entries(doc.invalid_points)) {
    assert.throws(() => pointFromHex(text), EncodingError, name);
  }
  for (const [name, text] of Object.entries(doc.invalid_scalars)) {
    assert.throws(() => scalarFromHex(text), EncodingError, name);
  }
});

test("hashing.json: tags, DSTs, the hash chain, H, challenges, deterministic scalars", () => {
  const doc = loadVector("hashing.json");
  assert.equal(bytesToHex(VERSION_KEY), doc.version_key);
  assert.equal(new TextDecoder().decode(CHALLENGE_DST), doc.challenge_dst_utf8);
  assert.equal(new TextDecoder().decode(DERIVE_DST), doc.derive_dst_utf8);
  assert.deepEqual({ ...Tag }, doc.tags);
  const hP = parameterHash();
  assert.equal(bytesToHex(hP), doc.parameter_hash);
  const manifest = Manifest.fromJSON(JSON.parse(doc.manifest_canonical_utf8));
  assert.equal(new TextDecoder().decode(manifest.canonicalBytes()), doc.manifest_canonical_utf8);
  const hM = manifestHash(hP, manifest.canonicalBytes());
  assert.equal(bytesToHex(hM), doc.manifest_hash);
  const eb = doc.election_base;
  const hB = electionBaseHash(hP, hM, eb.trustees, eb.threshold);
  assert.equal(bytesToHex(hB), eb.hash);
  const ex = doc.extended_base;
  const hE = extendedBaseHash(hB, pointFromHex(ex.joint_key), ex.trustee_commitments.map(pointFromHex));
  assert.equal(bytesToHex(hE), ex.hash);
  for (const c of doc.H) assert.equal(bytesToHex(H(hexBytes(c.key), c.tag, hexBytes(c.data))), c.hash);
  for (const c of doc.challenge) {
    assert.equal(scalarHex(challenge(hexBytes(c.context), c.tag, hexBytes(c.fields))), c.scalar);
  }
  const ds = doc.deterministic_scalars;
  const stream = deterministicScalars(utf8Bytes(ds.seed_utf8), ds.label);
  assert.deepEqual(ds.first.map(() => scalarHex(stream())), ds.first);
});

test("RFC 9380 expand_message_xmd(SHA-256) conformance vectors", () => {
  const dir = join(conformanceRoot(), "hash_to_curve_rfc9380");
  let checked = 0;
  for (const name of ["expand_message_xmd_SHA256_38.json", "expand_message_xmd_SHA256_256.json"]) {
    const doc = JSON.parse(readFileSync(join(dir, name), "utf8"));
    for (const t of doc.tests) {
      const out = expandMessageXmd(utf8Bytes(t.msg), utf8Bytes(doc.DST), Number(t.len_in_bytes));
      assert.equal(bytesToHex(out), t.uniform_bytes, `${name} ${t.msg.slice(0, 20)}`);
      checked += 1;
    }
  }
  assert.ok(checked >= 10);
});

test("RFC 8785 canonical JSON conformance data (the manifest hash input)", () => {
  const dir = join(conformanceRoot(), "jcs_rfc8785", "testdata");
  const names = readdirSync(join(dir, "input"));
  assert.ok(names.length >= 5);
  for (const name of names) {
    const input = JSON.parse(readFileSync(join(dir, "input", name), "utf8"));
    const expected = readFileSync(join(dir, "output", name), "utf8");
    assert.equal(canonicalJson(input), expected, name);
  }
});

test("elgamal.json: encryptions, sums, weighted sums and decryption", () => {
  const doc = loadVector("elgamal.json");
  const secret = scalarFromHex(doc.secret_key);
  const key = pointFromHex(doc.public_key);
  assert.equal(pointHex(baseMul(secret)), doc.public_key);
  const cts = doc.encryptions.map((c) => {
    const ct = encrypt(key, c.message, scalarFromHex(c.nonce));
    assert.deepEqual(ct.toJSON(), c.ciphertext);
    assert.ok(Ciphertext.fromJSON(c.ciphertext).equals(ct));
    assert.ok(decryptToPoint(secret, ct).equals(baseMul(BigInt(c.message))));
    return ct;
  });
  assert.deepEqual(aggregate(cts).toJSON(), doc.aggregate_sum);
  const weighted = aggregate(cts, doc.aggregate_weighted.weights);
  assert.deepEqual(weighted.toJSON(), doc.aggregate_weighted.result);
  assert.ok(decryptToPoint(secret, weighted).equals(baseMul(BigInt(doc.aggregate_weighted.plaintext))));
});

test("proofs.json: range proofs reproduced byte for byte and verified; tampered ones rejected", () => {
  const doc = loadVector("proofs.json");
  assert.ok(doc.range.length >= 4);
  for (const c of doc.range) {
    const context = hexBytes(c.context);
    const key = pointFromHex(c.public_key);
    const ct = Ciphertext.fromJSON(c.ciphertext);
    const nonce = scalarFromHex(c.nonce);
    assert.deepEqual(encrypt(key, c.value, nonce).toJSON(), c.ciphertext);
    const options = { tag: c.tag, label: hexBytes(c.label_hex) };
    const proof = proveRange(context, key, ct, c.value, nonce, c.lo, c.hi, { ...options, rng: rngOf(c.rng) });
    assert.equal(sortedJson(proof.toJSON()), sortedJson(c.proof));
    verifyRange(context, key, ct, RangeProof.fromJSON(c.proof), c.lo, c.hi, options);
    for (const [name, bad] of Object.entries(c.invalid_proofs)) {
      assert.throws(() => verifyRange(context, key, ct, RangeProof.fromJSON(bad), c.lo, c.hi, options), ProofError, name);
    }
    // The same proof under another tag, label or range does not verify (the statement is bound).
    const otherTag = c.tag === Tag.RANGE_CHALLENGE ? Tag.LIMIT_CHALLENGE : Tag.RANGE_CHALLENGE;
    assert.throws(() => verifyRange(context, key, ct, proof, c.lo, c.hi, { ...options, tag: otherTag }), ProofError);
    assert.throws(() => verifyRange(context, key, ct, proof, c.lo, c.hi, { ...options, label: utf8Bytes("other") }), ProofError);
    assert.throws(() => verifyRange(context, key, ct, proof, c.lo, c.hi + 1, options), ProofError);
  }
});

test("proofs.json: Schnorr and Chaum-Pedersen proofs reproduced and verified", () => {
  const doc = loadVector("proofs.json");
  const s = doc.schnorr;
  const secret = scalarFromHex(s.secret);
  assert.equal(pointHex(baseMul(secret)), s.public);
  const schnorr = proveSchnorr(hexBytes(s.context), secret, { label: hexBytes(s.label_hex), rng: rngOf(s.rng) });
  assert.deepEqual(schnorr.toJSON(), s.proof);
  verifySchnorr(hexBytes(s.context), pointFromHex(s.public), SchnorrProof.fromJSON(s.proof), { label: hexBytes(s.label_hex) });
  assert.throws(() => verifySchnorr(hexBytes(s.context), pointFromHex(s.public), schnorr, { label: utf8Bytes("x") }), ProofError);

  const e = doc.equality;
  const share = scalarFromHex(e.secret);
  const base2 = pointFromHex(e.base2);
  assert.equal(e.base1, pointHex(G));
  assert.equal(pointHex(baseMul(share)), e.public1);
  assert.equal(pointHex(mul(base2, share)), e.public2);
  const eq = proveEquality(hexBytes(e.context), share, base2, { label: hexBytes(e.label_hex), rng: rngOf(e.rng) });
  assert.deepEqual(eq.toJSON(), e.proof);
  const opts = { label: hexBytes(e.label_hex) };
  verifyEquality(hexBytes(e.context), pointFromHex(e.public1), base2, pointFromHex(e.public2), EqualityProof.fromJSON(e.proof), opts);
  assert.throws(() => verifyEquality(hexBytes(e.context), pointFromHex(e.public1), base2, pointFromHex(e.public1), eq, opts), ProofError);
});

function vectorContext(doc) {
  const ctx = ElectionContext.build(
    Manifest.fromJSON(doc.manifest),
    pointFromHex(doc.joint_key),
    doc.trustees,
    doc.threshold,
    doc.trustee_commitments.map(pointFromHex),
  );
  assert.equal(bytesToHex(ctx.parameterHash), doc.parameter_hash);
  assert.equal(bytesToHex(ctx.manifestHash), doc.manifest_hash);
  assert.equal(bytesToHex(ctx.baseHash), doc.base_hash);
  assert.equal(bytesToHex(ctx.extendedHash), doc.extended_hash);
  return ctx;
}

test("ballots.json: every ballot (all five question types) reproduced byte for byte and verified", () => {
  const doc = loadVector("ballots.json");
  const ctx = vectorContext(doc);
  const types = new Set(ctx.manifest.contests.map((c) => c.type));
  assert.deepEqual([...types].sort(), ["approval", "budget", "one_of_n", "score", "yes_no_abstain"]);
  assert.ok(doc.ballots.length >= 2);
  for (const c of doc.ballots) {
    const seed = hexToBytes(c.seed, 32, "seed");
    c.selection_nonces.forEach((row, ci) =>
      row.forEach((hex, oi) => assert.equal(scalarHex(selectionNonce(ctx.extendedHash, seed, c.ballot_id, ci, oi)), hex)),
    );
    const ballot = encryptBallot(ctx, c.ballot_id, c.choices, seed);
    assert.equal(sortedJson(ballot.toJSON()), sortedJson(c.ballot));
    assert.deepEqual(ballot.contests.map((x) => bytesToHex(contestHash(ctx.extendedHash, x))), c.contest_hashes);
    assert.equal(ballot.trackingCode, c.tracking_code);
    const parsed = EncryptedBallot.fromJSON(c.ballot);
    verifyBallot(ctx, parsed);
    assert.equal(sortedJson(parsed.toJSON()), sortedJson(c.ballot));
  }
});

test("ballots.json: Benaloh challenge accepted when honest, the lying device and swapped ciphertexts caught", () => {
  const doc = loadVector("ballots.json");
  const ctx = vectorContext(doc);
  const valid = ChallengedBallot.fromJSON(doc.challenged_valid);
  verifyChallengedBallot(ctx, valid);
  const opened = openChallengedBallot(ctx, valid.ballot, valid.seed);
  assert.deepEqual(sortedJson(opened), sortedJson(doc.challenged_valid.choices));
  assert.throws(() => verifyChallengedBallot(ctx, ChallengedBallot.fromJSON(doc.challenged_lying_device)), BallotError);
  for (const [name, bad] of Object.entries(doc.invalid_ballots)) {
    assert.throws(() => verifyBallot(ctx, EncryptedBallot.fromJSON(bad)), CryptoError, name);
  }
});
