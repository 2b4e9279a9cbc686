// A ballot's ledger receipt verified in the browser: the entry it proves is this ballot's
// `ballot.cast` (or `ballot.spoiled`) event, the RFC 9162 inclusion proof leads to the root of
// the log-signed checkpoint, enough observers cosigned that checkpoint, and the blockchain
// anchor (if the receipt names one) covers it. The twin of civic_observer/receipt.py
// (`check-receipt`) and civic_observer/anchors.py's offline anchor checks, same check names.
//
// Receipt object: GET /api/voting/elections/<slug>/ballots/<code> → "ledger_receipt"
// (docs/protocol.md §13.4). Pure: no DOM, no fetch; never throws on bad input.

import { sha256 } from "@noble/hashes/sha2.js";

import {
  NoteError,
  fromBase64,
  fromHex,
  leafHash,
  openCheckpoint,
  parseVerifierKey,
  splitNote,
  toHex,
  verifyConsistency,
  verifyCosignature,
  verifyInclusion,
  bytesEqual,
} from "./tlog.mjs";

const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function add(checks, name, ok, detail) {
  checks.push({ name, ok: Boolean(ok), detail });
  return Boolean(ok);
}

/** The receipt's fields, typed, or a string saying what is wrong (as parse_receipt). */
function parseReceipt(data) {
  if (!isObject(data)) return "a ledger receipt is a JSON object";
  if (data.version !== 1) return `unsupported ledger receipt version ${JSON.stringify(data.version)}`;
  const want = {
    log: "string",
    origin: "string",
    index: "number",
    entry: "string",
    leaf_hash: "string",
    tree_size: "number",
    checkpoint: "string",
    log_verifier_key: "string",
    witness_threshold: "number",
  };
  for (const [name, type] of Object.entries(want)) {
    if (!Object.hasOwn(data, name)) return `ledger receipt has no ${JSON.stringify(name)} field`;
    if (typeof data[name] !== type) return `ledger receipt field ${JSON.stringify(name)} has the wrong type`;
  }
  for (const name of ["index", "tree_size", "witness_threshold"]) {
    if (!Number.isSafeInteger(data[name])) return `ledger receipt field ${JSON.stringify(name)} is not an integer`;
  }
  for (const name of ["inclusion_proof", "observer_verifier_keys"]) {
    if (!Array.isArray(data[name]) || !data[name].every((x) => typeof x === "string")) {
      return "inclusion_proof and observer_verifier_keys must be string lists";
    }
  }
  const entry = fromBase64(data.entry);
  if (entry === null) return "ledger receipt field 'entry' is not base64";
  const leaf = fromHex(data.leaf_hash);
  const proof = data.inclusion_proof.map(fromHex);
  if (leaf === null || proof.some((p) => p === null)) return "leaf_hash and inclusion_proof must be hex";
  return { ...data, entryBytes: entry, leafHashBytes: leaf, proof };
}

/** The entry's JSON {kind, payload, v}, or null when the bytes are not one. */
export function decodeEntry(bytes) {
  try {
    const entry = JSON.parse(decoder.decode(bytes));
    return isObject(entry) && typeof entry.kind === "string" && isObject(entry.payload) ? entry : null;
  } catch {
    return null;
  }
}

function checkCosignatures(checks, receipt, body, trustedObserverKeys) {
  const keys = trustedObserverKeys?.length ? trustedObserverKeys : receipt.observer_verifier_keys;
  let lines;
  try {
    lines = splitNote(receipt.checkpoint).signatures;
  } catch (err) {
    return add(checks, "cosignatures", false, err.message);
  }
  const valid = new Set();
  const problems = [];
  for (const key of keys) {
    let verifier;
    try {
      verifier = parseVerifierKey(key);
    } catch (err) {
      problems.push(`unusable observer key ${JSON.stringify(key.slice(0, 40))}: ${err.message}`);
      continue;
    }
    const mine = lines.filter((s) => s.name === verifier.name && bytesEqual(s.keyId, verifier.keyId));
    for (const sig of mine) {
      try {
        verifyCosignature(body, sig.line, verifier);
        valid.add(verifier.name);
        break;
      } catch (err) {
        if (!(err instanceof NoteError)) throw err;
        problems.push(err.message);
      }
    }
  }
  const threshold = receipt.witness_threshold;
  if (threshold < 1) problems.push(`witness_threshold ${threshold} is below 1`);
  const enough = valid.size >= Math.max(threshold, 1);
  let detail = `${valid.size} valid of ${threshold} required (${[...valid].sort().join(", ") || "none"})`;
  if (problems.length) detail += "; " + problems.join("; ");
  return add(checks, "cosignatures", enough && problems.length === 0, detail);
}

/** The anchor's offline checks (hash, log signature, consistency); its chain coordinates. */
function checkAnchor(checks, receipt, logKey, own) {
  const anchor = receipt.anchor;
  const hash = fromHex(String(anchor.checkpoint_hash ?? ""));
  const proof = Array.isArray(anchor.consistency_proof) ? anchor.consistency_proof.map((h) => fromHex(String(h))) : [null];
  if (typeof anchor.checkpoint_note !== "string" || hash === null || !Number.isSafeInteger(anchor.tree_size) || proof.some((p) => p === null)) {
    add(checks, "anchor", false, "malformed anchor object");
    return null;
  }
  const computed = sha256(encoder.encode(anchor.checkpoint_note));
  if (!add(checks, "anchor hash", bytesEqual(computed, hash), `SHA-256(anchored note) = ${toHex(computed)}`)) return null;
  let anchored;
  try {
    anchored = openCheckpoint(anchor.checkpoint_note, logKey, receipt.origin).checkpoint;
  } catch (err) {
    add(checks, "anchored checkpoint", false, `not signed by the log: ${err.message}`);
    return null;
  }
  const sizesOk = anchored.size === BigInt(anchor.tree_size) && anchored.size >= own.size;
  if (!add(checks, "anchored checkpoint", sizesOk, `log-signed checkpoint of size ${anchored.size}`)) return null;
  const consistent =
    anchored.size === own.size
      ? bytesEqual(anchored.rootHash, own.rootHash)
      : verifyConsistency(own.size, anchored.size, proof, own.rootHash, anchored.rootHash);
  const detail = consistent
    ? `the receipt's tree ${own.size} is a prefix of the anchored tree ${anchored.size}`
    : "the anchored checkpoint is NOT consistent with the receipt's checkpoint";
  if (!add(checks, "anchor consistency", consistent, detail)) return null;
  return {
    chain_id: anchor.chain_id ?? null,
    transaction_hash: anchor.transaction_hash ?? null,
    block_number: anchor.block_number ?? null,
    contract: anchor.contract ?? null,
    tree_size: anchor.tree_size,
    final: anchor.final === true,
  };
}

/**
 * Verify a ledger receipt for one ballot. `expect` = {kind: "ballot.cast"|"ballot.spoiled",
 * trackingCode, ballotSha256, election?}; trusted keys, when given, replace the receipt's own.
 * → {ok, checks: [{name, ok, detail}], position, checkpoint: {origin, size, root_hash}|null, anchor|null}
 */
export function verifyBallotInclusion(ledgerReceipt, expect, { trustedLogKey = null, trustedObserverKeys = null } = {}) {
  const checks = [];
  const result = { ok: false, checks, position: null, checkpoint: null, anchor: null };
  const done = () => {
    result.ok = checks.length > 0 && checks.every((c) => c.ok);
    return result;
  };
  const receipt = parseReceipt(ledgerReceipt);
  if (typeof receipt === "string") {
    add(checks, "ledger receipt", false, receipt);
    return done();
  }
  result.position = receipt.index;

  const entry = decodeEntry(receipt.entryBytes);
  const kind = expect.kind ?? "ballot.cast";
  const payload = entry?.payload ?? {};
  const problems = [];
  if (entry === null) problems.push("the entry is not a ledger event");
  else if (entry.kind !== kind) problems.push(`the entry is a ${entry.kind} event, not ${kind}`);
  if (entry !== null && payload.tracking_code !== expect.trackingCode) problems.push(`its tracking code is ${payload.tracking_code}, not ${expect.trackingCode}`);
  if (entry !== null && payload.ballot_sha256 !== expect.ballotSha256) problems.push("its ballot_sha256 is not this ballot's");
  if (entry !== null && expect.election != null && payload.election !== expect.election) problems.push(`it is an entry of election ${payload.election}`);
  add(checks, "ledger entry", problems.length === 0, problems.length ? problems.join("; ") : `${kind} of ${expect.trackingCode} at index ${receipt.index}`);

  const computed = leafHash(receipt.entryBytes);
  const leafOk = bytesEqual(computed, receipt.leafHashBytes);
  add(checks, "leaf hash", leafOk, `SHA-256(0x00 || entry) = ${toHex(computed)}` + (leafOk ? "" : `, receipt says ${receipt.leaf_hash}`));

  const logKey = trustedLogKey ?? receipt.log_verifier_key;
  if (trustedLogKey && trustedLogKey.trim() !== receipt.log_verifier_key.trim()) {
    add(checks, "log key", false, "the receipt's log key is not the one this city publishes");
  }
  let opened = null;
  try {
    opened = openCheckpoint(receipt.checkpoint, logKey, receipt.origin);
    add(checks, "log signature", true, `checkpoint signed by ${parseVerifierKey(logKey).name}`);
  } catch (err) {
    if (!(err instanceof NoteError)) throw err;
    add(checks, "log signature", false, err.message);
  }
  if (opened === null) return done();
  const { checkpoint, body } = opened;
  result.checkpoint = { origin: checkpoint.origin, size: Number(checkpoint.size), root_hash: toHex(checkpoint.rootHash) };
  const sizeOk = checkpoint.size === BigInt(receipt.tree_size);
  add(checks, "tree size", sizeOk, `checkpoint size ${checkpoint.size}` + (sizeOk ? "" : ` != receipt ${receipt.tree_size}`));
  const included = verifyInclusion(computed, receipt.index, checkpoint.size, receipt.proof, checkpoint.rootHash);
  add(
    checks,
    "inclusion proof",
    included,
    included
      ? `entry ${receipt.index} is in the tree of size ${checkpoint.size}`
      : `the proof does not lead from entry ${receipt.index} to the checkpoint root`,
  );
  checkCosignatures(checks, receipt, body, trustedObserverKeys);
  if (isObject(receipt.anchor)) result.anchor = checkAnchor(checks, receipt, logKey, checkpoint);
  return done();
}
