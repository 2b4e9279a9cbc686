// The public side of the trustee vectors (tests/vectors/trustees) checked in JavaScript:
// ceremony proofs reproduced and verified, share encryption recomputed, complaints judged,
// joint and verification keys, partial decryptions, Lagrange combination and the counts.
// (trustee-file.json, the trustee's scrypt/AES-GCM secret file, is Python-only.)
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { Ciphertext } from "../../voting/static/voting/js/elgamal.mjs";
import { G, bytesToHex, hexToBytes, pointFromHex, pointHex, scalarFromHex, scalarHex } from "../../voting/static/voting/js/encoding.mjs";
import { CryptoError, EncodingError } from "../../voting/static/voting/js/errors.mjs";
import { baseMul, mul } from "../../voting/static/voting/js/group.mjs";
import { deterministicScalars, electionBaseHash, extendedBaseHash, manifestHash, parameterHash } from "../../voting/static/voting/js/hashing.mjs";
import { Manifest } from "../../voting/static/voting/js/manifest.mjs";
import { proveEquality, proveSchnorr } from "../../voting/static/voting/js/proofs.mjs";
import {
  TrusteeError,
  announcementLabel,
  babySteps,
  babyTable,
  coefficientLabel,
  combine,
  complaintLabel,
  discreteLog,
  electionCommitments,
  evaluateCommitments,
  judgeComplaint,
  jointKey,
  lagrangeCoefficient,
  openShare,
  parseAnnouncement,
  parseCommitments,
  parseComplaint,
  parseTally,
  parseTallyShare,
  partialLabel,
  shareKeys,
  shareMac,
  sharesDigest,
  verificationKey,
  verifyAnnouncement,
  verifyCommitments,
  verifyTallyShare,
} from "../../voting/static/voting/js/tally.mjs";
import { clone, flipHexBit, repoRoot, utf8Bytes } from "./tools/crypto_support.mjs";

const load = (name) => JSON.parse(readFileSync(join(repoRoot, "tests", "vectors", "trustees", name), "utf8"));
const fixed = (hexes) => {
  const values = hexes.map((h) => scalarFromHex(h));
  return () => values.shift();
};

function chain(doc) {
  const manifest = Manifest.fromJSON(doc.manifest);
  const hP = parameterHash();
  const hM = manifestHash(hP, manifest.canonicalBytes());
  const hB = electionBaseHash(hP, hM, doc.trustees, doc.threshold);
  assert.equal(bytesToHex(hP), doc.hashes.parameter_hash);
  assert.equal(bytesToHex(hM), doc.hashes.manifest_hash);
  assert.equal(bytesToHex(hB), doc.hashes.base_hash);
  return { manifest, params: { baseHash: hB, trustees: doc.trustees, threshold: doc.threshold } };
}

test("ceremony.json: announcements and coefficient proofs reproduced from their draws and verified", () => {
  const doc = load("ceremony.json");
  const { params } = chain(doc);
  for (const t of doc.trustee_data) {
    const ann = parseAnnouncement(t.announcement);
    const secret = scalarFromHex(t.draws.communication_secret);
    assert.equal(pointHex(baseMul(secret)), t.announcement.communication_key);
    const proof = proveSchnorr(params.baseHash, secret, { label: announcementLabel(t.index, t.name), rng: fixed([t.draws.announcement_proof_nonce]) });
    assert.deepEqual(proof.toJSON(), t.announcement.proof);
    verifyAnnouncement(params, ann);

    const msg = parseCommitments(t.commitments_message);
    const digest = sharesDigest(params.baseHash, t.index, msg.shares);
    assert.equal(bytesToHex(digest), t.shares_digest);
    t.draws.coefficients.forEach((hex, k) => {
      assert.equal(pointHex(baseMul(scalarFromHex(hex))), t.commitments_message.commitments[k]);
      const p = proveSchnorr(params.baseHash, scalarFromHex(hex), { label: coefficientLabel(t.index, k, digest), rng: fixed([t.draws.coefficient_proof_nonces[k]]) });
      assert.deepEqual(p.toJSON(), t.commitments_message.proofs[k]);
    });
    verifyCommitments(params, msg);
    for (const pv of t.polynomial_values) {
      assert.equal(pointHex(evaluateCommitments(msg.commitments, pv.x)), pointHex(baseMul(scalarFromHex(pv.value))));
    }
  }
});

test("ceremony.json: share encryption recomputed step by step; share verification; joint key and H_E", () => {
  const doc = load("ceremony.json");
  const { manifest, params } = chain(doc);
  for (const s of doc.share_encryption) {
    const r = scalarFromHex(s.ephemeral_secret);
    const recipientKey = pointFromHex(s.recipient_key);
    assert.equal(pointHex(baseMul(r)), s.ephemeral);
    const shared = mul(recipientKey, r);
    assert.equal(pointHex(shared), s.shared_point);
    const keys = shareKeys(params.baseHash, s.sender, s.recipient, pointFromHex(s.ephemeral), recipientKey, shared);
    assert.equal(bytesToHex(keys.encryptionKey), s.encryption_key);
    assert.equal(bytesToHex(keys.pad), s.pad);
    assert.equal(bytesToHex(keys.macKey), s.mac_key);
    const plaintext = hexToBytes(s.plaintext_share, 32, "share");
    const ciphertext = plaintext.map((b, i) => b ^ keys.pad[i]);
    assert.equal(bytesToHex(ciphertext), s.ciphertext);
    assert.equal(bytesToHex(shareMac(keys.macKey, s.sender, s.recipient, pointFromHex(s.ephemeral), ciphertext)), s.mac);
    const encrypted = { sender: s.sender, recipient: s.recipient, ephemeral: pointFromHex(s.ephemeral), ciphertext, mac: hexToBytes(s.mac, 32, "mac") };
    assert.equal(scalarHex(openShare(params.baseHash, encrypted, recipientKey, shared)), s.plaintext_share);
    const tampered = { ...encrypted, mac: hexToBytes(flipHexBit(s.mac, 0), 32, "mac") };
    assert.throws(() => openShare(params.baseHash, tampered, recipientKey, shared), TrusteeError);
  }
  const commitments = new Map(doc.trustee_data.map((t) => [t.index, parseCommitments(t.commitments_message)]));
  for (const v of doc.share_verification) {
    const evaluated = evaluateCommitments(commitments.get(v.sender).commitments, v.recipient);
    assert.equal(pointHex(evaluated), v.commitments_evaluated);
    assert.equal(pointHex(baseMul(scalarFromHex(v.share))), v.share_times_g);
    assert.equal(evaluated.equals(baseMul(scalarFromHex(v.share))), v.valid);
  }
  const joint = doc.joint;
  const key = jointKey(commitments, joint.qualified);
  assert.equal(pointHex(key), joint.joint_key);
  for (const [j, hex] of Object.entries(joint.verification_keys)) {
    assert.equal(pointHex(verificationKey(commitments, joint.qualified, Number(j))), hex);
  }
  const all = electionCommitments(commitments, joint.qualified);
  assert.deepEqual(all.map(pointHex), joint.election_commitments);
  const hE = extendedBaseHash(params.baseHash, key, all);
  assert.equal(bytesToHex(hE), joint.extended_hash);
  assert.ok(manifest.contests.length > 0);
});

test("complaints.json: every complaint judged as Python judges it; complaint proofs reproduced", () => {
  const doc = load("complaints.json");
  const { params } = chain(doc);
  const announcements = new Map(doc.announcements.map((a) => [a.index, parseAnnouncement(a)]));
  const commitments = new Map(doc.commitments.map((c) => [c.index, parseCommitments(c)]));
  for (const ann of announcements.values()) verifyAnnouncement(params, ann);
  assert.ok(doc.cases.length >= 3);
  for (const c of doc.cases) {
    const verdict = judgeComplaint(params, announcements, commitments, parseComplaint(c.complaint));
    assert.equal(verdict.guilty, c.guilty, c.name);
    assert.equal(verdict.upheld, c.upheld, c.name);
    assert.equal(verdict.reason, c.reason, c.name);
  }
  const published = doc.published_complaints.map(parseComplaint);
  const upheld = published.map((c) => judgeComplaint(params, announcements, commitments, c)).filter((v) => v.upheld);
  const qualified = [...announcements.keys()].filter((i) => !upheld.some((v) => v.guilty === i)).sort();
  assert.deepEqual(qualified, doc.qualified);
  assert.equal(pointHex(jointKey(commitments, qualified)), doc.joint_key);
  for (const [j, hex] of Object.entries(doc.verification_keys)) {
    assert.equal(pointHex(verificationKey(commitments, qualified, Number(j))), hex);
  }
  // The honest complaint of trustee 1 against 2, reproduced from its nonce.
  const share1 = doc.key_shares.find((k) => k.index === 1);
  const c1 = doc.published_complaints.find((c) => c.accuser === 1);
  const ephemeral = commitments.get(c1.accused).shares.find((s) => s.recipient === 1).ephemeral;
  const d1 = scalarFromHex(share1.communication_secret);
  assert.equal(pointHex(mul(ephemeral, d1)), c1.shared_point);
  const proof = proveEquality(params.baseHash, d1, ephemeral, { label: complaintLabel(1, c1.accused), rng: fixed(doc.complaint_proof_nonces["1"]) });
  assert.deepEqual(proof.toJSON(), c1.proof);
  assert.throws(() => judgeComplaint(params, announcements, commitments, { ...published[0], accused: published[0].accuser }), TrusteeError);
});

test("decryption.json: partial decryptions reproduced and verified, Lagrange combination, counts", () => {
  const doc = load("decryption.json");
  const { manifest } = chain(doc);
  const hE = hexToBytes(doc.hashes.extended_hash, 32, "H_E");
  const tally = parseTally(doc.tally.encrypted, manifest);
  const keys = Object.fromEntries(Object.entries(doc.verification_keys).map(([j, h]) => [j, pointFromHex(h)]));
  for (const ks of doc.key_shares) assert.equal(pointHex(baseMul(scalarFromHex(ks.share))), doc.verification_keys[ks.index]);
  const shares = new Map();
  for (const pd of doc.partial_decryptions) {
    const share = parseTallyShare(pd.tally_share, manifest);
    verifyTallyShare(hE, keys[share.trustee], tally, share);
    shares.set(share.trustee, share);
    // Reproduce: M_j = s_j·A and the proof, one rng stream over the options in manifest order.
    const secret = scalarFromHex(doc.key_shares.find((k) => k.index === share.trustee).share);
    const rng = deterministicScalars(utf8Bytes(pd.rng.seed_utf8), pd.rng.label);
    for (const { contestId, optionId, value: ct } of tally.ciphertexts.values()) {
      const expected = pd.tally_share.contests[contestId][optionId];
      assert.equal(pointHex(mul(ct.alpha, secret)), expected.share);
      const proof = proveEquality(hE, secret, ct.alpha, { label: partialLabel(share.trustee, contestId, optionId), rng });
      assert.deepEqual(proof.toJSON(), expected.proof);
    }
  }
  for (const combo of doc.combinations) {
    for (const [j, hex] of Object.entries(combo.lagrange)) assert.equal(scalarHex(lagrangeCoefficient(Number(j), combo.trustees)), hex);
    for (const { contestId, optionId, value: ct } of tally.ciphertexts.values()) {
      const m = combine(ct, new Map(combo.trustees.map((j) => [j, shares.get(j).partials.get(`${contestId}/${optionId}`).value.share])));
      const expected = combo.plaintext_points[contestId][optionId];
      assert.equal(m.is0() ? null : pointHex(m), expected);
    }
  }
  const used = new Map(doc.result.trustees.map((j) => [j, shares.get(j)]));
  assert.ok(!used.has(doc.absent_trustee));
  for (const { contestId, optionId, value: ct } of tally.ciphertexts.values()) {
    const point = combine(ct, new Map([...used].map(([j, s]) => [j, s.partials.get(`${contestId}/${optionId}`).value.share])));
    assert.equal(discreteLog(point, doc.tally.encrypted.ballot_count), doc.result.counts[contestId][optionId]);
  }
  for (const [name, bad] of Object.entries(doc.invalid_tally_shares)) {
    const share = parseTallyShare(bad.tally_share, manifest);
    assert.throws(
      () => verifyTallyShare(hE, keys[share.trustee], tally, share),
      (err) => err instanceof TrusteeError && err.trustee === share.trustee && err.message.includes(bad.bad_selection.join("/")),
      name,
    );
  }
  assert.throws(() => parseTally({ ...doc.tally.encrypted, contests: {} }, manifest), EncodingError);
  const missing = clone(doc.partial_decryptions[0].tally_share);
  delete missing.contests.park.yes;
  assert.throws(() => parseTallyShare(missing, manifest), EncodingError);
  assert.ok(Ciphertext.fromJSON(doc.tally.encrypted.contests.park.yes));
});

test("dlog.json: baby-step giant-step values found, values above the bound refused", () => {
  const doc = load("dlog.json");
  assert.equal(babySteps(doc.bound), doc.baby_steps);
  assert.equal(2 * doc.baby_steps + 1, doc.stride);
  const table = babyTable(doc.baby_steps);
  for (const s of doc.table_sample) assert.equal(table.get(BigInt(`0x${s.x}`)), s.entry, `j=${s.j}`);
  const point = (hex) => (hex === null ? G.subtract(G) : pointFromHex(hex));
  for (const f of doc.found) {
    assert.equal(discreteLog(point(f.point), doc.bound), Number(f.value));
    if (f.point !== null) assert.ok(baseMul(BigInt(f.value)).equals(pointFromHex(f.point)));
  }
  for (const r of doc.rejected_above_bound) assert.equal(discreteLog(pointFromHex(r.point), doc.bound), null);
  const small = doc.small_bound;
  assert.equal(babySteps(small.bound), small.baby_steps);
  for (const f of small.found) assert.equal(discreteLog(pointFromHex(f.point), small.bound), f.value);
  for (const r of small.rejected) assert.equal(discreteLog(pointFromHex(r.point), small.bound), null);
});

test("a flipped bit in a ceremony proof, share or commitment is detected and the trustee named", () => {
  const doc = load("ceremony.json");
  const { params } = chain(doc);
  const t = doc.trustee_data[1];
  const badAnn = clone(t.announcement);
  badAnn.proof.response = flipHexBit(badAnn.proof.response, 77);
  assert.throws(() => verifyAnnouncement(params, parseAnnouncement(badAnn)), (e) => e instanceof TrusteeError && e.trustee === t.index);
  const flips = [
    (m) => (m.proofs[1].response = flipHexBit(m.proofs[1].response, 3)),
    (m) => (m.shares[0].mac = flipHexBit(m.shares[0].mac, 200)), // the digest binds the shares
    (m) => (m.shares[1].ciphertext = flipHexBit(m.shares[1].ciphertext, 0)),
    (m) => (m.commitments[0] = pointHex(pointFromHex(m.commitments[0]).add(G))),
    (m) => m.shares.reverse(),
    (m) => m.proofs.pop(),
  ];
  for (const flip of flips) {
    const msg = clone(t.commitments_message);
    flip(msg);
    assert.throws(() => verifyCommitments(params, parseCommitments(msg)), (e) => e instanceof CryptoError, flip.toString());
  }
});
