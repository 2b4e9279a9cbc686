// The browser's transparency-log verifier (voting/js/tlog.mjs, inclusion.mjs) against the public
// vectors the Python civic_tlog tests use (tests/conformance/merkle, c2sp_tlog) and a ledger
// receipt built the way the server builds one (tools/ledger_receipt.mjs), every tampering rejected.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

import * as tlog from "../../voting/static/voting/js/tlog.mjs";
import { verifyBallotInclusion } from "../../voting/static/voting/js/inclusion.mjs";
import { conformanceRoot } from "./tools/crypto_support.mjs";
import { BALLOT_SHA, LOG, OBSERVER, ORIGIN, TRACKING, buildReceipt, signer } from "./tools/ledger_receipt.mjs";

const MERKLE = join(conformanceRoot(), "merkle", "testdata");
const C2SP = join(conformanceRoot(), "c2sp_tlog");
const read = (rel) => readFileSync(join(C2SP, rel), "utf8");
const b64 = (text) => (text ? Uint8Array.from(Buffer.from(text, "base64")) : new Uint8Array(0));

function jsonFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...jsonFiles(path));
    else if (name.endsWith(".json")) out.push(path);
  }
  return out;
}

/** Flip one bit of the decoded payload of a signature line (byte index into keyid||payload). */
function flipSignatureByte(line, byte) {
  const at = line.lastIndexOf(" ");
  const raw = Buffer.from(line.slice(at + 1), "base64");
  raw[byte] ^= 0x01;
  return `${line.slice(0, at)} ${raw.toString("base64")}`;
}

// ---- RFC 9162 vectors (transparency-dev/merkle testdata, as tests/tlog/test_merkle.py) ------

test("RFC 9162 inclusion vectors: every verdict as the vector says (98 cases)", () => {
  const files = jsonFiles(join(MERKLE, "inclusion"));
  assert.equal(files.length, 98);
  for (const file of files) {
    const c = JSON.parse(readFileSync(file, "utf8"));
    const ok = tlog.verifyInclusion(b64(c.leafHash), c.leafIdx, c.treeSize, (c.proof ?? []).map(b64), b64(c.root));
    assert.equal(ok, !c.wantErr, `${relative(MERKLE, file)}: ${c.desc}`);
  }
});

test("RFC 9162 consistency vectors: every verdict as the vector says (98 cases)", () => {
  const files = jsonFiles(join(MERKLE, "consistency"));
  assert.equal(files.length, 98);
  for (const file of files) {
    const c = JSON.parse(readFileSync(file, "utf8"));
    const ok = tlog.verifyConsistency(c.size1, c.size2, (c.proof ?? []).map(b64), b64(c.root1), b64(c.root2));
    assert.equal(ok, !c.wantErr, `${relative(MERKLE, file)}: ${c.desc}`);
  }
});

test("leaf and node hashes use the RFC prefixes; junk inputs answer false, never throw", () => {
  assert.equal(tlog.toHex(tlog.leafHash(new Uint8Array(0))), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  const leaf = tlog.leafHash(Uint8Array.of(1));
  assert.equal(tlog.verifyInclusion(leaf, 0, 1, [], leaf), true);
  for (const [index, size] of [[-1, 1], [0, 0], [1.5, 2], ["0", 1], [0, 2 ** 64]]) {
    assert.equal(tlog.verifyInclusion(leaf, index, size, [], leaf), false, `${index}/${size}`);
  }
  assert.equal(tlog.verifyInclusion(leaf, 0, 1, "x", leaf), false);
  assert.equal(tlog.verifyInclusion(leaf.slice(1), 0, 1, [], leaf), false);
  assert.equal(tlog.verifyConsistency(1, 1, [], leaf, leaf), true);
  assert.equal(tlog.verifyConsistency(0, 1, [], leaf, leaf), false);
});

// ---- C2SP signed-note / checkpoint / cosignature (as tests/tlog/test_note.py) --------------

test("signed-note spec example verifies; tampered text, signature and key id are rejected", () => {
  const vkey = read("signed-note/example.com_foo.vkey");
  const original = read("signed-note/example.com_foo.note");
  const { text, verified } = tlog.openNote(original, [vkey]);
  assert.equal(text, "This is an example message.\n");
  assert.deepEqual(verified.map((s) => [s.name, tlog.toHex(s.keyId)]), [["example.com/foo", "530d903a"]]);
  assert.throws(() => tlog.openNote(original.replace("example message", "exemple message"), [vkey]), /invalid signature/);
  const line = original.trimEnd().split("\n").at(-1);
  for (const byte of [5, 40, 67]) {
    assert.throws(() => tlog.openNote(original.replace(line, flipSignatureByte(line, byte)), [vkey]), /invalid signature/);
  }
  assert.throws(() => tlog.openNote(original.replace(line, flipSignatureByte(line, 0)), [vkey]), /no signature from a known key/);
  assert.throws(() => tlog.openNote(original + line + "\n", [vkey]), /duplicate/);
  for (const bad of [
    original.trimEnd(),
    original.replace("\u2014 ", "- "),
    original.replace("\n\n", "\n"),
    original.replace("message.", "message.\x07"),
    original.replace(line, line + "=="),
  ]) {
    assert.throws(() => tlog.openNote(bad, [vkey]), tlog.NoteError);
  }
});

test("verifier keys: round trip, key id checked against name and key", () => {
  const vkey = read("signed-note/example.com_foo.vkey").trim();
  const parsed = tlog.parseVerifierKey(vkey);
  assert.equal(parsed.name, "example.com/foo");
  const [name, kid, material] = [vkey.split("+")[0], vkey.split("+")[1], vkey.split("+").slice(2).join("+")];
  assert.throws(() => tlog.parseVerifierKey(`${name}+${(parseInt(kid, 16) ^ 1).toString(16).padStart(8, "0")}+${material}`), /does not match/);
  assert.throws(() => tlog.parseVerifierKey(`example.com/bar+${kid}+${material}`), /does not match/);
  for (const bad of ["", "name+530d903a", `na me+530d903a+${material}`, `n+XYZ+${material}`]) {
    assert.throws(() => tlog.parseVerifierKey(bad), tlog.NoteError);
  }
  assert.throws(() => tlog.openNote(read("signed-note/quasimodo_example.note"), [vkey]), /no signature from a known key/);
});

test("checkpoints: sum.golang.org with extra signature lines, and every Tessera test checkpoint", () => {
  const note = read("transparency-dev-formats/sum.golang.org_checkpoint.note");
  const key = read("transparency-dev-formats/sum.golang.org.vkey");
  const { checkpoint } = tlog.openCheckpoint(note, key, "go.sum database tree");
  assert.equal(checkpoint.size, 6476701n);
  assert.throws(() => tlog.openCheckpoint(note, key, "example.com/other"), /origin/);
  const extra = read("transparency-dev-formats/extra_signature_lines.txt").trim().split("\n");
  const combined = note + extra.map((l) => l + "\n").join("");
  const extraKeys = read("transparency-dev-formats/extra_verifier_keys.vkeys").split(/\s+/).filter(Boolean);
  const names = tlog.openNote(combined, [key, ...extraKeys]).verified.map((s) => s.name).sort();
  assert.deepEqual(names, ["bananas", "monkeys", "sum.golang.org", "witness"]);

  const tessera = read("tessera-testdata-log/example.com_log_testdata.vkey");
  const dir = join(C2SP, "tessera-testdata-log", "log");
  const notes = readdirSync(dir).filter((f) => f.startsWith("checkpoint"));
  assert.equal(notes.length, 17);
  for (const file of notes) {
    const opened = tlog.openCheckpoint(readFileSync(join(dir, file), "utf8"), tessera, "example.com/log/testdata");
    if (file !== "checkpoint") assert.equal(opened.checkpoint.size, BigInt(file.split(".")[1]));
  }
  for (const body of ["o\n1\n", "o\n01\n" + "A".repeat(43) + "=\n", "\n1\n" + "A".repeat(43) + "=\n", "o\n1\nAAAA\n"]) {
    assert.throws(() => tlog.parseCheckpoint(body), tlog.NoteError, JSON.stringify(body));
  }
});

test("cosignature/v1: the spec's signed message layout; witness examples with out-of-range time", () => {
  const cosigned = read("tlog-cosignature/behind-the-sofa_cosigned.checkpoint");
  const { text, signatures } = tlog.splitNote(cosigned);
  assert.deepEqual(signatures.map((s) => s.name), ["example.com/behind-the-sofa", "witness.example.com/w1"]);
  const expected = read("tlog-cosignature/cosignature_v1_signed_message_example.txt");
  assert.equal(new TextDecoder().decode(tlog.cosignatureMessage(text, 1679315147)), expected);
  assert.equal(tlog.parseCheckpoint(text).size, 20852163n);
});

const EXPECT = { kind: "ballot.cast", trackingCode: TRACKING, ballotSha256: BALLOT_SHA, election: "e1" };
const failing = (report) => report.checks.filter((c) => !c.ok).map((c) => c.name);

test("a ledger receipt verifies: entry, leaf, log signature, inclusion, cosignature, anchor", () => {
  for (const [size, index, anchoredSize] of [[7, 4, 11], [1, 0, 1], [8, 7, 8], [5, 0, 16]]) {
    const report = verifyBallotInclusion(buildReceipt({ size, index, anchoredSize }), EXPECT);
    assert.equal(report.ok, true, JSON.stringify(report.checks));
    assert.deepEqual(report.checks.map((c) => c.name), [
      "ledger entry", "leaf hash", "log signature", "tree size", "inclusion proof", "cosignatures",
      "anchor hash", "anchored checkpoint", "anchor consistency",
    ]);
    assert.equal(report.position, index);
    assert.equal(report.checkpoint.size, size);
    assert.deepEqual([report.anchor.chain_id, report.anchor.block_number], [31337, 42]);
  }
  const unanchored = { ...buildReceipt(), anchor: null };
  const report = verifyBallotInclusion(unanchored, EXPECT, { trustedLogKey: LOG.vkey, trustedObserverKeys: [OBSERVER.vkey] });
  assert.equal(report.ok, true);
  assert.equal(report.anchor, null);
});

test("a flipped bit anywhere the receipt proves something is rejected by the right check", () => {
  const good = buildReceipt();
  const flipHex = (hex, bit = 0) => {
    const bytes = Buffer.from(hex, "hex");
    bytes[bytes.length - 1 - Math.floor(bit / 8)] ^= 1 << (bit % 8);
    return bytes.toString("hex");
  };
  const cases = {
    "leaf hash": { ...good, leaf_hash: flipHex(good.leaf_hash) },
    "inclusion proof": { ...good, inclusion_proof: good.inclusion_proof.map((p, i) => (i === 1 ? flipHex(p, 77) : p)) },
    "log signature": { ...good, checkpoint: good.checkpoint.replace(/(\n\n\u2014 \S+ )(\S)/, (_, a, c) => a + (c === "A" ? "B" : "A")) },
    "anchor hash": { ...good, anchor: { ...good.anchor, checkpoint_hash: flipHex(good.anchor.checkpoint_hash) } },
    "anchor consistency": { ...good, anchor: { ...good.anchor, consistency_proof: good.anchor.consistency_proof.map((p, i) => (i === 0 ? flipHex(p, 3) : p)) } },
  };
  for (const [check, receipt] of Object.entries(cases)) {
    assert.deepEqual(failing(verifyBallotInclusion(receipt, EXPECT)), [check], check);
  }
  const entry = Buffer.from(good.entry, "base64");
  entry[entry.length - 3] ^= 0x01;
  const tampered = failing(verifyBallotInclusion({ ...good, entry: entry.toString("base64") }, EXPECT));
  assert.ok(tampered.includes("leaf hash") && tampered.includes("inclusion proof"), tampered.join());

  const lines = good.checkpoint.trimEnd().split("\n");
  const cosig = lines.at(-1);
  const forgedCosig = good.checkpoint.replace(cosig, flipSignatureByte(cosig, 50));
  assert.deepEqual(failing(verifyBallotInclusion({ ...good, checkpoint: forgedCosig }, EXPECT)), ["cosignatures"]);
  const uncosigned = good.checkpoint.replace(cosig + "\n", "");
  assert.deepEqual(failing(verifyBallotInclusion({ ...good, checkpoint: uncosigned }, EXPECT)), ["cosignatures"]);
  assert.deepEqual(failing(verifyBallotInclusion({ ...good, witness_threshold: 2 }, EXPECT)), ["cosignatures"]);
  assert.deepEqual(failing(verifyBallotInclusion({ ...good, tree_size: 8 }, EXPECT)), ["tree size"]);
  assert.deepEqual(failing(verifyBallotInclusion({ ...good, index: 3 }, EXPECT)), ["inclusion proof"]);
});

test("the proven entry must be this ballot's event; other keys and junk are refused", () => {
  const good = buildReceipt();
  assert.deepEqual(failing(verifyBallotInclusion(good, { ...EXPECT, trackingCode: "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA" })), ["ledger entry"]);
  assert.deepEqual(failing(verifyBallotInclusion(good, { ...EXPECT, ballotSha256: "cd".repeat(32) })), ["ledger entry"]);
  assert.deepEqual(failing(verifyBallotInclusion(good, { ...EXPECT, kind: "ballot.spoiled" })), ["ledger entry"]);
  assert.deepEqual(failing(verifyBallotInclusion(good, { ...EXPECT, election: "e2" })), ["ledger entry"]);
  const other = signer(ORIGIN, tlog.ALG_ED25519 + 0);
  const stranger = signer("stranger.test", tlog.ALG_ED25519);
  assert.ok(other.vkey === LOG.vkey); // deterministic test keys: same name, same key
  assert.deepEqual(failing(verifyBallotInclusion(good, EXPECT, { trustedLogKey: stranger.vkey })).slice(0, 2), ["log key", "log signature"]);
  const otherObserver = signer("observer.other", tlog.ALG_COSIGNATURE_V1);
  assert.deepEqual(failing(verifyBallotInclusion(good, EXPECT, { trustedObserverKeys: [otherObserver.vkey] })), ["cosignatures"]);
  for (const junk of [null, [], {}, { ...good, version: 2 }, { ...good, index: "4" }, { ...good, entry: "***" }, { ...good, inclusion_proof: ["zz"] }]) {
    const report = verifyBallotInclusion(junk, EXPECT);
    assert.equal(report.ok, false);
    assert.deepEqual(failing(report), ["ledger receipt"]);
  }
});
