// Receipt verification: anyone holding a ballot's receipt checks, in the browser, that the
// ballot is well formed, bound to this election, carries the code they were shown, and that
// every range and limit proof holds (the same checks as Python's verify_ballot).
//
// Receipt: {context: {manifest, joint_key, trustees, threshold, trustee_commitments,
//           extended_hash?}, ballot: <encrypted ballot JSON>, tracking_code?: "XXXX-…"}
// The report lists named checks; it never throws on bad input.

import { ElectionContext, checkStructure, decodeBallot, verifyBallot } from "./ballot.mjs";
import { bytesToHex } from "./encoding.mjs";
import { CryptoError } from "./errors.mjs";
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
  if (!isPlainObject(receipt)) {
    checks.push({ name: "receipt", ok: false, detail: "a receipt is a JSON object" });
    return report();
  }
  attempt(checks, "election context", () => {
    const raw = receipt.context;
    const full = isPlainObject(raw) && raw.manifest === undefined ? { ...raw, manifest: receipt.manifest } : raw;
    ctx = ElectionContext.fromJSON(full);
    return `H_E = ${bytesToHex(ctx.extendedHash)}`;
  });
  attempt(checks, "ballot encoding", () => {
    ballot = decodeBallot(receipt.ballot);
    return `ballot ${ballot.ballotId}`;
  });
  if (ctx === null || ballot === null) return report();
  if (receipt.tracking_code !== undefined) {
    attempt(checks, "tracking code", () => {
      if (receipt.tracking_code !== ballot.trackingCode) {
        throw new RangeError(`receipt shows ${receipt.tracking_code}, the ballot's code is ${ballot.trackingCode}`);
      }
      return ballot.trackingCode;
    });
  }
  if (!attempt(checks, "binding and code", () => checkStructure(ctx, ballot))) return report();
  attempt(checks, "proofs", () => {
    verifyBallot(ctx, ballot, { onProgress });
    const count = ballot.contests.reduce((acc, c) => acc + c.selections.length + 1, 0);
    return `${count} range and limit proofs hold`;
  });
  return report();
}
