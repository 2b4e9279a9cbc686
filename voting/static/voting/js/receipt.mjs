// Receipt verification: anyone holding a ballot's receipt checks, in the browser, that the
// ballot is well formed, bound to this election, carries the code they were shown, and that
// every range and limit proof holds (the same checks as Python's verify_ballot).
//
// Receipt (protocol §7.7, docs/schemas/ballot-receipt.json):
//   {context: <context message §7.6>, ballot: <encrypted ballot>, tracking_code?: <tracking code §7.4>,
//    cast?: <the answer of POST /ballots>, ledger_receipt?: <GET /ballots/<code>'s ledger_receipt>}
// The report lists named checks; it never throws on bad input. Python's twin is
// civic_votecrypto.ballot.verify_receipt (same check names, same verdicts, up to "cast");
// the ledger_receipt checks are inclusion.mjs's, the twin of `civic_observer check-receipt`.

import { sha256 } from "@noble/hashes/sha2.js";

import { ElectionContext, checkStructure, decodeBallot, verifyBallot } from "./ballot.mjs";
import { bytesToHex, utf8 } from "./encoding.mjs";
import { BallotError, CryptoError, EncodingError } from "./errors.mjs";
import { verifyBallotInclusion } from "./inclusion.mjs";
import { isPlainObject } from "./json.mjs";
import { canonicalJson } from "./manifest.mjs";

export const RECEIPT_KEYS = Object.freeze(["context", "ballot", "tracking_code", "cast", "ledger_receipt"]);

/** hex SHA-256 of the ballot's RFC 8785 bytes: the `ballot_sha256` the box and the log name it by. */
export function ballotSha256(ballotJson) {
  return bytesToHex(sha256(utf8(canonicalJson(ballotJson))));
}

function attempt(checks, name, fn) {
  try {
    const detail = fn();
    checks.push({ name, ok: true, detail: detail ?? "ok" });
    return true;
  } catch (err) {
    if (!(err instanceof CryptoError || err instanceof RangeError || err instanceof TypeError)) throw err;
    checks.push({ name, ok: false, detail: `${err.name}: ${err.message}` });
    return false;
  }
}

/** {ok, trackingCode, checks: [{name, ok, detail}]}: ok only if every check passed. */
export function verifyReceipt(receipt, { onProgress = null } = {}) {
  const checks = [];
  let ctx = null;
  let ballot = null;
  const report = () => ({ ok: checks.length > 0 && checks.every((c) => c.ok), trackingCode: ballot?.trackingCode ?? null, checks });
  const keys = isPlainObject(receipt) ? Object.keys(receipt) : [];
  const shapeOk =
    isPlainObject(receipt) &&
    Object.hasOwn(receipt, "context") &&
    Object.hasOwn(receipt, "ballot") &&
    keys.every((k) => RECEIPT_KEYS.includes(k));
  if (!shapeOk) {
    const detail = "a receipt is an object with the keys context, ballot and optionally tracking_code, cast, ledger_receipt";
    checks.push({ name: "receipt", ok: false, detail: `EncodingError: ${detail}` });
    return report();
  }
  attempt(checks, "election context", () => {
    ctx = ElectionContext.fromJSON(receipt.context);
    return `H_E = ${bytesToHex(ctx.extendedHash)}`;
  });
  attempt(checks, "ballot encoding", () => {
    ballot = decodeBallot(receipt.ballot);
    return `ballot ${ballot.ballotId}`;
  });
  if (ctx === null || ballot === null) return report();
  if (Object.hasOwn(receipt, "tracking_code")) {
    attempt(checks, "tracking code", () => {
      if (receipt.tracking_code !== ballot.trackingCode) {
        throw new BallotError(`receipt shows ${receipt.tracking_code}, the ballot's code is ${ballot.trackingCode}`);
      }
      return ballot.trackingCode;
    });
  }
  if (!attempt(checks, "binding and code", () => checkStructure(ctx, ballot))) return report();
  // (checkStructure returns nothing, so its detail is "ok", as in Python)
  attempt(checks, "proofs", () => {
    verifyBallot(ctx, ballot, { onProgress });
    const count = ballot.contests.reduce((acc, c) => acc + c.selections.length + 1, 0);
    return `${count} range and limit proofs hold`;
  });
  if (!Object.hasOwn(receipt, "cast")) {
    if (Object.hasOwn(receipt, "ledger_receipt")) {
      checks.push({ name: "cast", ok: false, detail: "EncodingError: a ledger_receipt comes with the cast answer" });
    }
    return report();
  }
  const sha = ballotSha256(receipt.ballot);
  const cast = receipt.cast;
  if (!attempt(checks, "cast", () => checkCast(cast, ballot.trackingCode, sha))) return report();
  if (Object.hasOwn(receipt, "ledger_receipt")) {
    const inclusion = verifyBallotInclusion(receipt.ledger_receipt, {
      kind: "ballot.cast",
      trackingCode: ballot.trackingCode,
      ballotSha256: sha,
      election: cast.election,
    });
    checks.push(...inclusion.checks);
  }
  return report();
}

/** The box's answer names this ballot: its tracking code and the SHA-256 of its RFC 8785 bytes. */
function checkCast(cast, trackingCode, sha) {
  if (!isPlainObject(cast) || typeof cast.election !== "string" || typeof cast.ballot_sha256 !== "string") {
    throw new EncodingError("cast must be the ballot box's answer {election, tracking_code, log, ballot_sha256, status, received_at, position}");
  }
  if (cast.tracking_code !== trackingCode) throw new BallotError(`the box's answer is for ${cast.tracking_code}, the ballot's code is ${trackingCode}`);
  if (cast.ballot_sha256 !== sha) throw new BallotError("the box's answer names another ballot (ballot_sha256)");
  const where = isPlainObject(cast.position) ? `, entry ${cast.position.index} of ${cast.log}` : "";
  return `cast in ${cast.election} at ${cast.received_at}${where}`;
}
