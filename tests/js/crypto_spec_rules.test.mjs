// Rules pinned after cross-checking the browser twin against Python (issue 4): strict hex,
// malformed choices, text rules that do not depend on the engine's Unicode version, JSON
// integers, the manifest hash over the normalised form, the context message and receipts.
// The cross-language halves are in tests/crypto/test_js_interop.py.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ChallengedBallot,
  ElectionContext,
  challengeBallot,
  decodeBallot,
  encryptBallot,
  normalizeChoices,
} from "../../voting/static/voting/js/ballot.mjs";
import { bytesToHex, hexToBytes, scalarFromHex } from "../../voting/static/voting/js/encoding.mjs";
import { BallotError, EncodingError } from "../../voting/static/voting/js/errors.mjs";
import { Manifest, isIdentifier, isTitle } from "../../voting/static/voting/js/manifest.mjs";
import { verifyReceipt } from "../../voting/static/voting/js/receipt.mjs";
import { clone, flipHexBit } from "./tools/crypto_support.mjs";
import { SMALL_CHOICES, SMALL_CONTEXT_JSON, SMALL_MANIFEST, smallContext } from "./tools/small_election.mjs";

const ctx = smallContext();
const SEED = new Uint8Array(32).fill(9);
const ballot = encryptBallot(ctx, "rules-1", SMALL_CHOICES, SEED);
const SPACED_HEX = "00 " + "11".repeat(30) + " ";

test("hex with anything but lowercase hex digits is an EncodingError", () => {
  const bad = [SPACED_HEX, " " + "ab".repeat(31) + " ", "ab".repeat(31) + "a\n", "0x" + "ab".repeat(31), "٠".repeat(64), "AB".repeat(32)];
  for (const text of bad) {
    assert.equal(text.length, 64);
    assert.throws(() => hexToBytes(text, 32, "hash"), EncodingError, JSON.stringify(text));
    assert.throws(() => scalarFromHex(text), EncodingError, JSON.stringify(text));
  }
  for (const field of ["context_hash", "code"]) {
    assert.throws(() => decodeBallot({ ...ballot.toJSON(), [field]: SPACED_HEX }), EncodingError, field);
  }
  const spoiled = challengeBallot(ballot, SEED, SMALL_CHOICES).toJSON();
  assert.throws(() => ChallengedBallot.fromJSON({ ...spoiled, seed: SPACED_HEX }), EncodingError);
  assert.equal(bytesToHex(hexToBytes("00" + "11".repeat(31), 32, "hash")), "00" + "11".repeat(31));
});

/** A small deterministic PRNG (xorshift) so the fuzz cases are reproducible. */
function rng(seed) {
  let state = seed >>> 0 || 1;
  return (n) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
}

function randomJson(next, depth = 0) {
  const leaves = [null, true, false, 0, 1, 2, -1, 1.5, "yes", "ref", "x", ""];
  const kind = depth > 2 ? 0 : next(4);
  if (kind === 0) return leaves[next(leaves.length)];
  if (kind === 1) return Array.from({ length: next(3) }, () => randomJson(next, depth + 1));
  const keys = ["ref", "mayor", "board", "yes", "x", "m1", "lib", "nope"];
  return Object.fromEntries(Array.from({ length: next(4) }, () => [keys[next(keys.length)], randomJson(next, depth + 1)]));
}

test("any choices structure is accepted or refused with BallotError, never another error", () => {
  const next = rng(20261121);
  for (let i = 0; i < 3000; i++) {
    const choices = randomJson(next);
    try {
      const values = normalizeChoices(ctx.manifest, choices);
      assert.equal(values.length, ctx.manifest.contests.length);
    } catch (err) {
      assert.ok(err instanceof BallotError, `${JSON.stringify(choices)} gave ${err}`);
    }
  }
  for (const bad of [[], 5, "ref", null, { ref: [] }, { ref: 1 }, { ref: ["yes"] }, { ref: { yes: "1" } }]) {
    assert.throws(() => normalizeChoices(ctx.manifest, bad), BallotError, JSON.stringify(bad));
  }
  assert.deepEqual(normalizeChoices(ctx.manifest, SMALL_CHOICES), [[0, 1, 0], [0, 0], [1, 0, 1], [2, 1], [1, 1]]);
});

test("identifiers are 1..128 characters of [A-Za-z0-9._:-]; ballot ids too", () => {
  for (const id of ["a", "A-z_0.9:x", "x".repeat(128)]) assert.equal(isIdentifier(id), true, id);
  for (const id of ["", "x".repeat(129), "with space", "café", "a/b", "a\u2028b", "１", "\u{1FAE9}", "a\n", 7, null]) {
    assert.equal(isIdentifier(id), false, JSON.stringify(id));
  }
  assert.throws(() => encryptBallot(ctx, "with space", SMALL_CHOICES, SEED), BallotError);
  assert.throws(() => decodeBallot({ ...ballot.toJSON(), ballot_id: "café" }), EncodingError);
});

test("titles: any Unicode scalar value except controls, at most 1024 UTF-8 bytes; refused at parse time", () => {
  const good = ["", "Ärzte & Kinder 🌳", "\u2028 line separator", "\u00a0nbsp", "\ufeff", "\u{E0001}", "\u0378", "\u{1FAE9}", "x".repeat(1024)];
  for (const title of good) {
    assert.equal(isTitle(title), true, JSON.stringify(title));
    const manifest = Manifest.fromJSON({ ...SMALL_MANIFEST, title });
    assert.ok(manifest.canonicalBytes().length > 0);
  }
  const bad = ["\ud800", "ok \udfff", "tab\there", "line\nbreak", "\x7f", "c1 \x85 control", "é".repeat(513), 7, null];
  for (const title of bad) {
    assert.equal(isTitle(title), false, JSON.stringify(title));
    const contest = { ...SMALL_MANIFEST.contests[1], title };
    const option = { ...SMALL_MANIFEST.contests[1], options: [{ id: "m1", title }, SMALL_MANIFEST.contests[1].options[1]] };
    for (const manifest of [{ ...SMALL_MANIFEST, title }, { ...SMALL_MANIFEST, contests: [contest] }, { ...SMALL_MANIFEST, contests: [option] }]) {
      assert.throws(() => Manifest.fromJSON(manifest), BallotError, JSON.stringify(title));
    }
  }
  // the whole code space: exactly C0, DEL + C1 and the surrogates are refused
  const refused = [];
  for (let cp = 0; cp < 0x110000; cp++) if (!isTitle(String.fromCodePoint(cp))) refused.push(cp);
  const expected = [];
  for (const [lo, hi] of [[0, 0x20], [0x7f, 0xa0], [0xd800, 0xe000]]) for (let cp = lo; cp < hi; cp++) expected.push(cp);
  assert.deepEqual(refused, expected);
});

test("integers: 2.0 parses to 2 in JavaScript, and the hashed canonical form says 2", () => {
  const plain = JSON.stringify(SMALL_MANIFEST);
  const fraction = plain.replace('"max_score":2', '"max_score":2.0').replace('"budget":4', '"budget":4e0');
  assert.notEqual(fraction, plain);
  const a = Manifest.fromJSON(JSON.parse(plain));
  const b = Manifest.fromJSON(JSON.parse(fraction));
  assert.deepEqual(b.canonicalBytes(), a.canonicalBytes());
  assert.match(new TextDecoder().decode(b.canonicalBytes()), /"max_score":2,/);
  for (const value of [2.5, "2", true, null, Number.MAX_SAFE_INTEGER + 1]) {
    const manifest = clone(SMALL_MANIFEST);
    manifest.contests[3].max_score = value;
    assert.throws(() => Manifest.fromJSON(manifest), BallotError, String(value));
  }
});

test("the manifest hash is over the normalised form: whitespace and key order do not matter", () => {
  const reversed = (obj) => Object.fromEntries(Object.entries(obj).reverse());
  const spelled = { ...reversed(SMALL_MANIFEST), contests: SMALL_MANIFEST.contests.map(reversed) };
  const text = JSON.stringify(spelled, null, "\t").replaceAll(": ", " :  ").replace("Small election", "Small \\u0065lection");
  const reparsed = ElectionContext.build(Manifest.fromJSON(JSON.parse(text)), ctx.jointKey, 1, 1, []);
  assert.equal(bytesToHex(reparsed.manifestHash), bytesToHex(ctx.manifestHash));
  assert.equal(bytesToHex(reparsed.extendedHash), bytesToHex(ctx.extendedHash));
});

test("context message: exact keys, round trip through toJSON, clean error classes", () => {
  const doc = ElectionContext.fromJSON(SMALL_CONTEXT_JSON).toJSON();
  assert.deepEqual(Object.keys(doc).sort(), ["extended_hash", "joint_key", "manifest", "threshold", "trustee_commitments", "trustees"]);
  assert.equal(doc.extended_hash, bytesToHex(ctx.extendedHash));
  assert.deepEqual(ElectionContext.fromJSON(doc).toJSON(), doc);
  const { trustee_commitments: _dropped, ...missing } = SMALL_CONTEXT_JSON;
  const cases = [
    [missing, EncodingError],
    [{ ...SMALL_CONTEXT_JSON, extra: 1 }, EncodingError],
    [{ ...SMALL_CONTEXT_JSON, threshold: 2 }, EncodingError],
    [{ ...SMALL_CONTEXT_JSON, trustees: 0 }, EncodingError],
    [{ ...SMALL_CONTEXT_JSON, joint_key: 5 }, EncodingError],
    [{ ...SMALL_CONTEXT_JSON, trustee_commitments: "02" }, EncodingError],
    [{ ...SMALL_CONTEXT_JSON, extended_hash: SPACED_HEX }, EncodingError],
    [{ ...SMALL_CONTEXT_JSON, extended_hash: "00".repeat(32) }, BallotError],
    [{ ...SMALL_CONTEXT_JSON, manifest: { ...SMALL_MANIFEST, title: "\ud800" } }, BallotError],
    [[SMALL_CONTEXT_JSON], EncodingError],
  ];
  for (const [bad, ErrorClass] of cases) assert.throws(() => ElectionContext.fromJSON(bad), ErrorClass, JSON.stringify(bad).slice(0, 80));
});

test("receipts: exact keys, a wrong tracking code is a BallotError, details as in Python", () => {
  const receipt = { context: SMALL_CONTEXT_JSON, ballot: ballot.toJSON(), tracking_code: ballot.trackingCode };
  const good = verifyReceipt(receipt);
  assert.equal(good.ok, true);
  assert.deepEqual(
    good.checks.map((c) => c.detail),
    [`H_E = ${bytesToHex(ctx.extendedHash)}`, "ballot rules-1", ballot.trackingCode, "ok", "17 range and limit proofs hold"],
  );
  const wrongCode = verifyReceipt({ ...receipt, tracking_code: "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA" });
  assert.match(wrongCode.checks.find((c) => c.name === "tracking code").detail, /^BallotError: /);
  for (const bad of [{ ...receipt, manifest: SMALL_MANIFEST }, { context: SMALL_CONTEXT_JSON }, { ballot: receipt.ballot }, null, []]) {
    const report = verifyReceipt(bad);
    assert.equal(report.ok, false);
    assert.deepEqual(report.checks.map((c) => [c.name, c.ok]), [["receipt", false]]);
    assert.match(report.checks[0].detail, /^EncodingError: /);
  }
  const { manifest: _m, ...withoutManifest } = SMALL_CONTEXT_JSON;
  const beside = verifyReceipt({ context: withoutManifest, ballot: receipt.ballot });
  assert.deepEqual(beside.checks.filter((c) => !c.ok).map((c) => c.name), ["election context"]);
  const flipped = clone(receipt);
  flipped.ballot.code = flipHexBit(flipped.ballot.code, 3);
  const report = verifyReceipt(flipped);
  assert.deepEqual(report.checks.filter((c) => !c.ok).map((c) => [c.name, c.detail.split(":")[0]]), [["binding and code", "BallotError"]]);
});
