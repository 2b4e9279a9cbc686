// A ledger receipt built the way the server builds one (ledger.selectors.receipt plus the
// anchor of ledger.anchoring): real Merkle paths from the RFC 9162 definitions, a log-signed
// checkpoint with one observer cosignature, and an anchored later checkpoint. Not a test file.
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";

import * as tlog from "../../../voting/static/voting/js/tlog.mjs";

const encoder = new TextEncoder();


export function signer(name, alg) {
  const seed = sha256(encoder.encode(`seed of ${name}`));
  const publicKey = ed25519.getPublicKey(seed);
  const keyId = tlog.keyId(name, alg, publicKey);
  const vkey = `${name}+${tlog.toHex(keyId)}+${tlog.toBase64(Uint8Array.of(alg, ...publicKey))}`;
  return { name, seed, keyId, vkey };
}

function signNote(text, key) {
  const sig = ed25519.sign(encoder.encode(text), key.seed);
  return `${text}\n\u2014 ${key.name} ${tlog.toBase64(Uint8Array.of(...key.keyId, ...sig))}\n`;
}

function cosignLine(body, key, timestamp) {
  const sig = ed25519.sign(tlog.cosignatureMessage(body, timestamp), key.seed);
  const time = Buffer.alloc(8);
  time.writeBigUInt64BE(BigInt(timestamp));
  return `\u2014 ${key.name} ${tlog.toBase64(Uint8Array.of(...key.keyId, ...time, ...sig))}`;
}

/** RFC 9162 MTH and PATH, straight from the definitions (independent of the verifier). */
function mth(hashes) {
  if (hashes.length === 1) return hashes[0];
  let k = 1;
  while (k * 2 < hashes.length) k *= 2;
  return tlog.nodeHash(mth(hashes.slice(0, k)), mth(hashes.slice(k)));
}
function path(m, hashes) {
  if (hashes.length === 1) return [];
  let k = 1;
  while (k * 2 < hashes.length) k *= 2;
  return m < k ? [...path(m, hashes.slice(0, k)), mth(hashes.slice(k))] : [...path(m - k, hashes.slice(k)), mth(hashes.slice(0, k))];
}
function subproof(m, hashes, complete) {
  const n = hashes.length;
  if (m === n) return complete ? [] : [mth(hashes)];
  let k = 1;
  while (k * 2 < n) k *= 2;
  return m <= k ? [...subproof(m, hashes.slice(0, k), complete), mth(hashes.slice(k))] : [...subproof(m - k, hashes.slice(k), false), mth(hashes.slice(0, k))];
}

export const ORIGIN = "test.civic.example/ledger/election-1";
export const LOG = signer(ORIGIN, tlog.ALG_ED25519);
export const OBSERVER = signer("observer.test", tlog.ALG_COSIGNATURE_V1);
export const TRACKING = "ABCD-EFGH-IJKL-MNOP-QRST-UVWX";
export const BALLOT_SHA = "ab".repeat(32);

function entryBytes(kind, payload) {
  return encoder.encode(JSON.stringify({ kind, payload, v: 1 }));
}

/** A receipt for entry `index` (a ballot.cast of `ballot`) proven to a checkpoint of `size`. */
export function buildReceipt({ size = 7, index = 4, anchoredSize = 11, ballot = {} } = {}) {
  const { election = "e1", trackingCode = TRACKING, sha = BALLOT_SHA } = ballot;
  const entries = Array.from({ length: anchoredSize }, (_, i) => entryBytes("election.note", { i }));
  entries[index] = entryBytes("ballot.cast", { election, tracking_code: trackingCode, ballot_sha256: sha, supersedes: null });
  const hashes = entries.map(tlog.leafHash);
  const body = (n) => `${ORIGIN}\n${n}\n${tlog.toBase64(mth(hashes.slice(0, n)))}\n`;
  const checkpoint = signNote(body(size), LOG) + cosignLine(body(size), OBSERVER, 1_700_000_000) + "\n";
  const anchorNote = signNote(body(anchoredSize), LOG);
  return {
    version: 1,
    log: "election-1",
    origin: ORIGIN,
    index,
    entry: Buffer.from(entries[index]).toString("base64"),
    leaf_hash: tlog.toHex(hashes[index]),
    tree_size: size,
    inclusion_proof: path(index, hashes.slice(0, size)).map(tlog.toHex),
    checkpoint,
    log_verifier_key: LOG.vkey,
    observer_verifier_keys: [OBSERVER.vkey],
    witness_threshold: 1,
    anchor: {
      log: "election-1",
      origin: ORIGIN,
      tree_size: anchoredSize,
      checkpoint_hash: tlog.toHex(sha256(encoder.encode(anchorNote))),
      checkpoint_note: anchorNote,
      chain_id: 31337,
      contract: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      transaction_hash: "0x" + "12".repeat(32),
      block_number: 42,
      final: true,
      consistency_proof: subproof(size, hashes, true).map(tlog.toHex),
    },
  };
}

