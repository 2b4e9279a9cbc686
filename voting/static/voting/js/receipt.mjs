// Receipt verification: anyone holding a ballot's receipt checks, in the browser, that the
// ballot is well formed, bound to this election, carries the code they were shown, and that
// every range and limit proof holds (the same checks as Python's verify_ballot).
//
// Receipt (protocol §7.7, docs/schemas/ballot-receipt.json): exactly
//   {context: <context message §7.6>, ballot: <encrypted ballot>, tracking_code?: "XXXX-…"}
// The report lists named checks; it never throws on bad input. Python's twin is
// civic_votecrypto.ballot.verify_receipt (same check names, same verdicts).

import { ElectionContext, checkStructure, decodeBallot, verifyBallot } from "./ballot.mjs";
import { bytesToHex } from "./encoding.mjs";
import { BallotError, CryptoError } from "./errors.mjs";
import { isPlainObject } from "./json.mjs";

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
    keys.every((k) => k === "context" || k === "ballot" || k === "tracking_code");
  if (!shapeOk) {
    const detail = "a receipt is an object with the keys context, ballot and optionally tracking_code";
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
  return report();
}
