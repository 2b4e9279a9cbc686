// The booth worker's message protocol (run without a Worker) and receipt verification.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ElectionContext, decodeBallot, encryptBallot, verifyBallot } from "../../voting/static/voting/js/ballot.mjs";
import { bytesToHex, hexToBytes } from "../../voting/static/voting/js/encoding.mjs";
import { handleBoothMessage, runInPage } from "../../voting/static/voting/js/booth_worker.mjs";
import { ballotSha256, verifyReceipt } from "../../voting/static/voting/js/receipt.mjs";
import { clone, flipHexBit, sortedJson } from "./tools/crypto_support.mjs";
import { buildReceipt } from "./tools/ledger_receipt.mjs";
import { SMALL_CHOICES, SMALL_CONTEXT_JSON, SMALL_MANIFEST, smallContext } from "./tools/small_election.mjs";

const ctx = smallContext();
const { manifest: _manifest, ...contextWithoutManifest } = SMALL_CONTEXT_JSON;

function run(message) {
  const posted = [];
  handleBoothMessage(message, (m) => posted.push(m));
  return posted;
}

test("encrypt: progress after every proof, then a ballot that verifies, with its seed", () => {
  const posted = run({ type: "encrypt", id: 7, manifest: SMALL_MANIFEST, context: contextWithoutManifest, ballot_id: "booth-1", selections: SMALL_CHOICES });
  const progress = posted.filter((m) => m.type === "progress");
  const total = SMALL_MANIFEST.contests.reduce((acc, c) => acc + c.options.length + 1, 0);
  assert.equal(progress.length, total);
  assert.deepEqual(progress.map((m) => m.done), [...Array(total).keys()].map((i) => i + 1));
  assert.ok(progress.every((m) => m.total === total && m.id === 7));
  const final = posted.at(-1);
  assert.equal(final.type, "encrypted");
  assert.equal(final.id, 7);
  assert.equal(posted.length, total + 1);
  const ballot = decodeBallot(final.ballot);
  verifyBallot(ctx, ballot);
  assert.equal(final.tracking_code, ballot.trackingCode);
  // The seed returned is the one used: re-encrypting with it gives the same ballot.
  const again = encryptBallot(ctx, "booth-1", SMALL_CHOICES, hexToBytes(final.seed, 32, "seed"));
  assert.equal(sortedJson(again.toJSON()), sortedJson(final.ballot));
});

test("encrypt with a given seed is deterministic; two fresh seeds give different ballots", () => {
  const message = { type: "encrypt", id: 1, context: SMALL_CONTEXT_JSON, ballot_id: "booth-2", selections: SMALL_CHOICES, seed: "ab".repeat(32) };
  const a = run(message).at(-1);
  const b = run(message).at(-1);
  assert.equal(sortedJson(a.ballot), sortedJson(b.ballot));
  const expected = encryptBallot(ctx, "booth-2", SMALL_CHOICES, hexToBytes("ab".repeat(32), 32, "seed"));
  assert.equal(sortedJson(a.ballot), sortedJson(expected.toJSON()));
  const fresh1 = run({ ...message, seed: undefined }).at(-1);
  const fresh2 = run({ ...message, seed: undefined }).at(-1);
  assert.notEqual(fresh1.seed, fresh2.seed);
  assert.notEqual(fresh1.ballot.code, fresh2.ballot.code);
});

test("challenge: the voter sees what was really encrypted; a lying device is caught", () => {
  const encrypted = run({ type: "encrypt", id: 2, context: SMALL_CONTEXT_JSON, ballot_id: "booth-3", selections: SMALL_CHOICES }).at(-1);
  const base = { type: "challenge", id: 3, context: SMALL_CONTEXT_JSON, ballot: encrypted.ballot, seed: encrypted.seed };
  const honest = run({ ...base, selections: SMALL_CHOICES }).at(-1);
  assert.equal(honest.type, "challenged");
  assert.equal(honest.matches, true);
  assert.equal(honest.problem, null);
  assert.deepEqual(honest.opened, SMALL_CHOICES);
  assert.equal(honest.challenged.seed, encrypted.seed);
  const claimed = { ...SMALL_CHOICES, ref: { yes: 1 } };
  const lying = run({ ...base, selections: claimed }).at(-1);
  assert.equal(lying.matches, false);
  assert.deepEqual(lying.opened.ref, { no: 1 }); // what the ballot really says
  const wrongSeed = run({ ...base, seed: flipHexBit(encrypted.seed, 3), selections: SMALL_CHOICES }).at(-1);
  assert.equal(wrongSeed.matches, false);
  assert.equal(wrongSeed.opened, null);
});

test("verify message, and errors come back as one error reply (never a throw)", () => {
  const encrypted = run({ type: "encrypt", id: 4, context: SMALL_CONTEXT_JSON, ballot_id: "booth-4", selections: SMALL_CHOICES }).at(-1);
  const ok = run({ type: "verify", id: 5, context: SMALL_CONTEXT_JSON, ballot: encrypted.ballot });
  assert.deepEqual(ok, [{ type: "verified", id: 5, ok: true, tracking_code: encrypted.tracking_code }]);
  const bad = clone(encrypted.ballot);
  bad.contests[3].selections[1].proof.branches[2].v = flipHexBit(bad.contests[3].selections[1].proof.branches[2].v, 0);
  const rejected = run({ type: "verify", id: 6, context: SMALL_CONTEXT_JSON, ballot: bad });
  assert.equal(rejected.length, 1);
  assert.equal(rejected[0].type, "error");
  assert.equal(rejected[0].error.name, "ProofError");
  assert.match(rejected[0].error.message, /prio\/q/);
  const cases = [
    [{ type: "encrypt", id: 8, context: SMALL_CONTEXT_JSON, ballot_id: "b", selections: { ref: { yes: 1, no: 1 } } }, "BallotError"],
    [{ type: "encrypt", id: 9, context: { ...SMALL_CONTEXT_JSON, joint_key: "02" + "00".repeat(32) }, ballot_id: "b", selections: SMALL_CHOICES }, "EncodingError"],
    [{ type: "encrypt", id: 10, context: { ...SMALL_CONTEXT_JSON, extended_hash: "00".repeat(32) }, ballot_id: "b", selections: SMALL_CHOICES }, "BallotError"],
    [{ type: "encrypt", id: 11, context: SMALL_CONTEXT_JSON, ballot_id: "b", selections: SMALL_CHOICES, seed: "zz" }, "EncodingError"],
    [{ type: "dance", id: 12 }, "EncodingError"],
    [{ type: "verify", id: 13 }, "EncodingError"],
  ];
  for (const [message, name] of cases) {
    const replies = run(message);
    const last = replies.at(-1);
    assert.equal(last.type, "error", JSON.stringify(message).slice(0, 80));
    assert.equal(last.id, message.id);
    assert.equal(last.error.name, name, last.error.message);
  }
  assert.equal(run("not an object").at(-1).type, "error");
});

test("the context's extended_hash, when given, must match the one recomputed; prepare reports it", () => {
  const hE = bytesToHex(ctx.extendedHash);
  assert.deepEqual(run({ type: "prepare", id: 30, context: SMALL_CONTEXT_JSON }), [{ type: "ready", id: 30, extended_hash: hE }]);
  assert.equal(run({ type: "prepare", id: 31, context: { ...SMALL_CONTEXT_JSON, trustees: 0 } })[0].type, "error");
  assert.equal(bytesToHex(ElectionContext.fromJSON({ ...SMALL_CONTEXT_JSON, extended_hash: hE }).extendedHash), hE);
});

test("runInPage: same replies as the worker, yielding between proofs", async () => {
  const message = { type: "encrypt", id: 20, context: SMALL_CONTEXT_JSON, ballot_id: "booth-5", selections: SMALL_CHOICES, seed: "cd".repeat(32) };
  const posted = [];
  let ticks = 0;
  const timer = setInterval(() => (ticks += 1), 0);
  await runInPage(message, (m) => posted.push(m));
  clearInterval(timer);
  assert.equal(sortedJson(posted), sortedJson(run(message)));
  assert.ok(ticks > 0, "the event loop ran while encrypting");
});

test("receipt verification: named checks pass for a good receipt and fail precisely otherwise", () => {
  const ballot = encryptBallot(ctx, "receipt-1", SMALL_CHOICES, new Uint8Array(32).fill(3));
  const receipt = { context: SMALL_CONTEXT_JSON, ballot: ballot.toJSON(), tracking_code: ballot.trackingCode };
  const good = verifyReceipt(receipt);
  assert.equal(good.ok, true, JSON.stringify(good.checks));
  assert.equal(good.trackingCode, ballot.trackingCode);
  assert.deepEqual(good.checks.map((c) => c.name), ["election context", "ballot encoding", "tracking code", "binding and code", "proofs"]);

  const failing = (r) => verifyReceipt(r).checks.filter((c) => !c.ok).map((c) => c.name);
  const flippedV = clone(receipt);
  const branch = flippedV.ballot.contests[4].limit_proof.branches[1];
  branch.v = flipHexBit(branch.v, 255);
  assert.deepEqual(failing(flippedV), ["proofs"]);
  const flippedCt = clone(receipt);
  flippedCt.ballot.contests[0].selections[0].ciphertext.beta = flipHexBit(flippedCt.ballot.contests[0].selections[0].ciphertext.beta, 9);
  assert.ok(failing(flippedCt).length >= 1);
  assert.equal(verifyReceipt(flippedCt).ok, false);
  assert.deepEqual(failing({ ...receipt, tracking_code: "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA" }), ["tracking code"]);
  const otherElection = { ...receipt, context: { ...SMALL_CONTEXT_JSON, threshold: 2, trustees: 2 } };
  assert.deepEqual(failing(otherElection), ["binding and code"]);
  assert.deepEqual(failing({ ...receipt, ballot: { ...receipt.ballot, version: "x" } }), ["ballot encoding"]);
  assert.deepEqual(failing({ ...receipt, context: { ...SMALL_CONTEXT_JSON, manifest: {} } }), ["election context"]);
  assert.equal(verifyReceipt(null).ok, false);
  assert.equal(verifyReceipt({}).ok, false);
});

test("an extended receipt (cast, ledger_receipt) binds the box's answer and the ledger entry to the ballot", () => {
  const ballot = encryptBallot(ctx, "receipt-2", SMALL_CHOICES, new Uint8Array(32).fill(4));
  const json = ballot.toJSON();
  const sha = ballotSha256(json);
  assert.match(sha, /^[0-9a-f]{64}$/);
  const reversed = (v) =>
    Array.isArray(v) ? v.map(reversed) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversed(x)])) : v;
  assert.equal(sha, ballotSha256(reversed(json))); // RFC 8785: key order is irrelevant
  const cast = {
    election: "e1", tracking_code: ballot.trackingCode, log: "election-1", ballot_sha256: sha,
    status: "counting", received_at: "2026-12-03T12:00:00+00:00", position: { index: 4 },
  };
  const ledger = buildReceipt({ ballot: { election: "e1", trackingCode: ballot.trackingCode, sha } });
  const base = { context: SMALL_CONTEXT_JSON, ballot: json, tracking_code: ballot.trackingCode };
  const names = (r) => verifyReceipt(r).checks.map((c) => c.name);
  const failing = (r) => verifyReceipt(r).checks.filter((c) => !c.ok).map((c) => c.name);

  const withCast = verifyReceipt({ ...base, cast });
  assert.equal(withCast.ok, true, JSON.stringify(withCast.checks));
  assert.deepEqual(names({ ...base, cast }), ["election context", "ballot encoding", "tracking code", "binding and code", "proofs", "cast"]);
  const full = verifyReceipt({ ...base, cast, ledger_receipt: ledger });
  assert.equal(full.ok, true, JSON.stringify(full.checks));
  assert.deepEqual(full.checks.slice(5).map((c) => c.name), [
    "cast", "ledger entry", "leaf hash", "log signature", "tree size", "inclusion proof", "cosignatures",
    "anchor hash", "anchored checkpoint", "anchor consistency",
  ]);

  assert.deepEqual(failing({ ...base, cast: { ...cast, ballot_sha256: "00".repeat(32) } }), ["cast"]);
  assert.deepEqual(failing({ ...base, cast: { ...cast, tracking_code: "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA" } }), ["cast"]);
  assert.deepEqual(failing({ ...base, cast: "yes" }), ["cast"]);
  assert.deepEqual(failing({ ...base, ledger_receipt: ledger }), ["cast"]); // a ledger receipt needs the cast answer
  const otherBallot = buildReceipt({ ballot: { election: "e1", trackingCode: ballot.trackingCode, sha: "11".repeat(32) } });
  assert.deepEqual(failing({ ...base, cast, ledger_receipt: otherBallot }), ["ledger entry"]);
  const otherElection = buildReceipt({ ballot: { election: "e2", trackingCode: ballot.trackingCode, sha } });
  assert.deepEqual(failing({ ...base, cast, ledger_receipt: otherElection }), ["ledger entry"]);
  const flipped = { ...ledger, inclusion_proof: ledger.inclusion_proof.map((p, i) => (i === 0 ? flipHexBit(p, 0) : p)) };
  assert.deepEqual(failing({ ...base, cast, ledger_receipt: flipped }), ["inclusion proof"]);
  assert.deepEqual(failing({ ...base, cast, ledger_receipt: null }), ["ledger receipt"]);
  assert.deepEqual(names({ ...base, cast, extra: 1 }), ["receipt"]);
});

test("browser modules import only each other and exported @noble subpaths (the import map's prefixes)", async () => {
  const { readdirSync, readFileSync, existsSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { jsDir, repoRoot } = await import("./tools/crypto_support.mjs");
  const files = readdirSync(jsDir).filter((f) => f.endsWith(".mjs"));
  assert.ok(files.includes("booth_worker.mjs") && files.includes("receipt.mjs"));
  const exportsOf = (pkg) => JSON.parse(readFileSync(join(repoRoot, "node_modules", "@noble", pkg, "package.json"), "utf8")).exports;
  const allowed = { "@noble/curves/": exportsOf("curves"), "@noble/hashes/": exportsOf("hashes") };
  for (const file of files) {
    const source = readFileSync(join(jsDir, file), "utf8");
    for (const [, spec] of source.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms)) {
      if (spec.startsWith("./")) {
        assert.ok(existsSync(join(jsDir, spec)), `${file}: ${spec}`);
        continue;
      }
      const prefix = Object.keys(allowed).find((p) => spec.startsWith(p));
      assert.ok(prefix, `${file} imports ${spec}`);
      assert.ok(`./${spec.slice(prefix.length)}` in allowed[prefix], `${file}: ${spec} is not an exported subpath`);
    }
  }
});
