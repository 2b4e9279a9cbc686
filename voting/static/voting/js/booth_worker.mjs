// The booth's Web Worker: ballot encryption, the Benaloh challenge and receipt checks off the
// main thread, so the page stays responsive. All logic lives in exported functions; the
// worker wiring at the bottom only forwards messages, so Node tests run it without a Worker.
//
// Messages in (each with an `id` the replies repeat):
//   {type: "prepare",   id, manifest, context}       (optional: build the tables early)
//   {type: "encrypt",   id, manifest, context, ballot_id, selections}
//   {type: "challenge", id, manifest, context, ballot, seed, selections}
//   {type: "verify",    id, manifest, context, ballot}
// `context` = {joint_key, trustees, threshold, trustee_commitments, extended_hash?}; the
// manifest may also sit inside it. `selections` = {contest_id: {option_id: value}}.
// Messages out:
//   {type: "ready", id, extended_hash}                  (after "prepare")
//   {type: "progress", id, done, total}                 (after each proof)
//   {type: "encrypted", id, ballot, tracking_code, seed} (seed: keep it only to audit)
//   {type: "challenged", id, challenged, opened, matches, problem}
//   {type: "verified", id, ok: true, tracking_code}
//   {type: "error", id, error: {name, message}}          (any rejection, never a throw)

import {
  ChallengedBallot,
  ElectionContext,
  challengeBallot,
  decodeBallot,
  encryptBallotSteps,
  openChallengedBallot,
  verifyBallot,
  verifyChallengedBallot,
} from "./ballot.mjs";
import { bytesToHex, hexToBytes } from "./encoding.mjs";
import { CryptoError, EncodingError } from "./errors.mjs";
import { baseMul, fixedBase, mulSecret } from "./group.mjs";
import { isPlainObject } from "./json.mjs";

const contextCache = new Map();

/** The election context of a message (manifest inside `context` or beside it), cached. */
export function contextOf(message) {
  const raw = message.context;
  if (!isPlainObject(raw)) throw new EncodingError("message has no election context");
  const full = raw.manifest === undefined ? { ...raw, manifest: message.manifest } : raw;
  const cacheKey = JSON.stringify(full);
  let ctx = contextCache.get(cacheKey);
  if (ctx === undefined) {
    ctx = ElectionContext.fromJSON(full);
    if (contextCache.size >= 4) contextCache.delete(contextCache.keys().next().value);
    contextCache.set(cacheKey, ctx);
  }
  return ctx;
}

function seedOf(message) {
  return message.seed === undefined || message.seed === null ? null : hexToBytes(message.seed, 32, "seed");
}

/**
 * Parse the context and build the window tables of G and the joint key (a few hundred ms on a
 * slow phone), so the voter's first ballot is as fast as the next ones.
 */
export function prepare(message) {
  const ctx = contextOf(message);
  baseMul(1n);
  mulSecret(fixedBase(ctx.jointKey), 1n);
  return { type: "ready", extended_hash: bytesToHex(ctx.extendedHash) };
}

/** Encryption as a generator of progress events, returning the "encrypted" reply. */
export function* encryptSteps(message) {
  const ctx = contextOf(message);
  const seed = seedOf(message) ?? globalThis.crypto.getRandomValues(new Uint8Array(32));
  const ballot = yield* encryptBallotSteps(ctx, message.ballot_id, message.selections, seed);
  return { type: "encrypted", ballot: ballot.toJSON(), tracking_code: ballot.trackingCode, seed: bytesToHex(seed) };
}

/** The voter audits: reveal the seed, check the device, and show what was really encrypted. */
export function challenge(message) {
  const ctx = contextOf(message);
  const ballot = decodeBallot(message.ballot);
  const seed = hexToBytes(message.seed, 32, "seed");
  const challenged = challengeBallot(ballot, seed, message.selections);
  let opened = null;
  let problem = null;
  try {
    opened = openChallengedBallot(ctx, ballot, seed);
    verifyChallengedBallot(ctx, ChallengedBallot.fromJSON(challenged.toJSON()));
  } catch (err) {
    if (!(err instanceof CryptoError)) throw err;
    problem = err.message; // the device did not encrypt what the voter picked
  }
  return { type: "challenged", challenged: challenged.toJSON(), opened, matches: problem === null, problem };
}

/** Check a ballot's proofs, code and binding to this election. */
export function verify(message) {
  const ctx = contextOf(message);
  const ballot = decodeBallot(message.ballot);
  verifyBallot(ctx, ballot);
  return { type: "verified", ok: true, tracking_code: ballot.trackingCode };
}

function* taskSteps(message) {
  if (!isPlainObject(message)) throw new EncodingError("message must be an object");
  switch (message.type) {
    case "prepare":
      return prepare(message);
    case "encrypt":
      return yield* encryptSteps(message);
    case "challenge":
      return challenge(message);
    case "verify":
      return verify(message);
    default:
      throw new EncodingError(`unknown message type ${JSON.stringify(message.type)}`);
  }
}

function errorReply(id, err) {
  // Anything else is a bug, but the page still gets one answer rather than silence.
  const known = err instanceof CryptoError || err instanceof RangeError;
  return { type: "error", id, error: { name: known ? err.name : "Error", message: String(err.message ?? err) } };
}

/** Post one step of a task: a progress message, or the final reply once it is done. */
function postStep({ value, done }, id, post) {
  post(done ? { ...value, id } : { type: "progress", id, ...value });
  return done;
}

/** Run one message to completion, calling `post` with progress and exactly one final reply. */
export function handleBoothMessage(message, post) {
  const id = isPlainObject(message) ? message.id : undefined;
  try {
    const steps = taskSteps(message);
    while (!postStep(steps.next(), id, post));
  } catch (err) {
    post(errorReply(id, err));
  }
}

/**
 * Same protocol on the main thread, yielding to the event loop after every proof: the booth's
 * fallback where a module worker cannot load @noble (import maps do not reach workers).
 */
export async function runInPage(message, post, { yieldEvery = 1 } = {}) {
  const id = isPlainObject(message) ? message.id : undefined;
  try {
    const steps = taskSteps(message);
    for (let count = 1; !postStep(steps.next(), id, post); count++) {
      if (count % yieldEvery === 0) await new Promise((resolve) => setTimeout(resolve, 0));
    }
  } catch (err) {
    post(errorReply(id, err));
  }
}

// -- worker wiring (inert under Node and on the main thread) ----------------------------------
if (typeof WorkerGlobalScope !== "undefined" && globalThis instanceof WorkerGlobalScope) {
  globalThis.addEventListener("message", (event) => handleBoothMessage(event.data, (reply) => globalThis.postMessage(reply)));
}
