// Cross-language bridge for tests/crypto/test_js_interop.py (not a test file itself).
// stdin: a JSON list of requests; stdout: a JSON list of replies, in order.
//   {op: "encrypt", context, ballot_id, choices, seed?}  -> {ballot, seed, tracking_code}
//   {op: "verify", context, ballot}                      -> {ok, error?, message?}
//   {op: "verify_challenged", context, challenged}       -> {ok, error?, message?}
//   {op: "challenge", context, ballot, seed, choices}     -> {challenged}
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

function outcome(fn) {
  try {
    fn();
    return { ok: true };
  } catch (err) {
    if (!(err instanceof CryptoError)) throw err;
    return { ok: false, error: err.name, message: err.message };
  }
}

function handle(request) {
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
