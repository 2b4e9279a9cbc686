// Cross-language bridge for tests/crypto/test_js_interop.py (not a test file itself).
// stdin: a JSON list of requests; stdout: a JSON list of replies, in order.
//   {op: "encrypt", context, ballot_id, choices, seed?}  -> {ballot, seed, tracking_code}
//   {op: "verify", context, ballot}                      -> {ok, error?, message?}
//   {op: "verify_challenged", context, challenged}       -> {ok, error?, message?}
//   {op: "challenge", context, ballot, seed, choices}     -> {challenged}
//   {op: "manifest_text", text}        (JSON.parse here)  -> {ok, canonical?, manifest_hash?, error?}
//   {op: "context", context}           (no prior parse)   -> {ok, context?, error?}
//   {op: "receipt", receipt}                              -> verifyReceipt's report
//   {op: "text_rules"}                                    -> {identifier, title}: SHA-256 hex of
//        one byte per code point 0..0x10FFFF (1 = allowed as a one-character id / title)
// `context` = {manifest, joint_key, trustees, threshold, trustee_commitments, extended_hash?}.
// A rejection is a reply with ok: false and the error class name; a bad request exits 2.
import { readFileSync } from "node:fs";

import {
  ChallengedBallot,
  ElectionContext,
  challengeBallot,
  decodeBallot,
  encryptBallot,
  verifyBallot,
  verifyChallengedBallot,
} from "../../../voting/static/voting/js/ballot.mjs";
import { bytesToHex, hexToBytes } from "../../../voting/static/voting/js/encoding.mjs";
import { CryptoError } from "../../../voting/static/voting/js/errors.mjs";
import { manifestHash, parameterHash } from "../../../voting/static/voting/js/hashing.mjs";
import { Manifest, isIdentifier, isTitle } from "../../../voting/static/voting/js/manifest.mjs";
import { verifyReceipt } from "../../../voting/static/voting/js/receipt.mjs";
import { sha256 } from "@noble/hashes/sha2.js";

function outcome(fn) {
  try {
    fn();
    return { ok: true };
  } catch (err) {
    if (!(err instanceof CryptoError)) throw err;
    return { ok: false, error: err.name, message: err.message };
  }
}

function attempt(fn) {
  try {
    return { ok: true, ...fn() };
  } catch (err) {
    if (!(err instanceof CryptoError)) throw err;
    return { ok: false, error: err.name, message: err.message };
  }
}

function textRuleDigest(rule) {
  const flags = new Uint8Array(0x110000);
  for (let cp = 0; cp < flags.length; cp++) flags[cp] = rule(String.fromCodePoint(cp)) ? 1 : 0;
  return bytesToHex(sha256(flags));
}

function handle(request) {
  switch (request.op) {
    case "manifest_text":
      return attempt(() => {
        const manifest = Manifest.fromJSON(JSON.parse(request.text));
        const canonical = manifest.canonicalBytes();
        return { canonical: new TextDecoder().decode(canonical), manifest_hash: bytesToHex(manifestHash(parameterHash(), canonical)) };
      });
    case "context":
      return attempt(() => ({ context: ElectionContext.fromJSON(request.context).toJSON() }));
    case "receipt":
      return verifyReceipt(request.receipt);
    case "text_rules":
      return { identifier: textRuleDigest(isIdentifier), title: textRuleDigest(isTitle) };
    default:
      return handleWithContext(request);
  }
}

function handleWithContext(request) {
  const ctx = ElectionContext.fromJSON(request.context);
  switch (request.op) {
    case "encrypt": {
      const seed = request.seed ? hexToBytes(request.seed, 32, "seed") : globalThis.crypto.getRandomValues(new Uint8Array(32));
      const ballot = encryptBallot(ctx, request.ballot_id, request.choices, seed);
      return { ballot: ballot.toJSON(), seed: bytesToHex(seed), tracking_code: ballot.trackingCode };
    }
    case "verify":
      return outcome(() => verifyBallot(ctx, decodeBallot(request.ballot)));
    case "verify_challenged":
      return outcome(() => verifyChallengedBallot(ctx, ChallengedBallot.fromJSON(request.challenged)));
    case "challenge": {
      const challenged = challengeBallot(decodeBallot(request.ballot), hexToBytes(request.seed, 32, "seed"), request.choices);
      return { challenged: challenged.toJSON() };
    }
    default:
      throw new Error(`unknown op ${JSON.stringify(request.op)}`);
  }
}

try {
  const requests = JSON.parse(readFileSync(0, "utf8"));
  if (!Array.isArray(requests)) throw new Error("expected a JSON list of requests");
  process.stdout.write(JSON.stringify(requests.map(handle)));
} catch (err) {
  process.stderr.write(`interop: ${err.stack ?? err}\n`);
  process.exit(2);
}
