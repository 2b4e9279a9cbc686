// Median time for the browser's check of a ballot's ledger receipt (inclusion.mjs): entry, leaf
// hash, the log's Ed25519 signed note, an RFC 9162 inclusion proof in a tree of 2^20 entries
// (20 hashes), three observer cosignatures, and an anchor with a consistency proof. What the
// booth and the receipt page spend after the poll answers. Prints one JSON object:
//   {"js_inclusion_ms": <median CPU ms>, "js_inclusion_wall_ms": <median wall ms>,
//    "tree_size": N, "proof_hashes": k, "cosignatures": c, "runs": R}
// Run: node bench/js_inclusion.mjs [--runs N]
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";

import { verifyBallotInclusion } from "../voting/static/voting/js/inclusion.mjs";
import * as tlog from "../voting/static/voting/js/tlog.mjs";

const runsArg = process.argv.indexOf("--runs");
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 51;
const encoder = new TextEncoder();
const SIZE = 2 ** 20;
const INDEX = 777_777;
const ORIGIN = "bench.civic.example/ledger/election-1";

function key(name, alg) {
  const seed = sha256(encoder.encode(name));
  const publicKey = ed25519.getPublicKey(seed);
  const keyId = tlog.keyId(name, alg, publicKey);
  return { name, seed, keyId, vkey: `${name}+${tlog.toHex(keyId)}+${tlog.toBase64(Uint8Array.of(alg, ...publicKey))}` };
}
const line = (k, payload) => `\u2014 ${k.name} ${tlog.toBase64(Uint8Array.of(...k.keyId, ...payload))}\n`;

const log = key(ORIGIN, tlog.ALG_ED25519);
const observers = [1, 2, 3].map((i) => key(`observer-${i}.bench`, tlog.ALG_COSIGNATURE_V1));
const entry = encoder.encode(JSON.stringify({ kind: "ballot.cast", payload: { election: "e1", tracking_code: "ABCD-EFGH-IJKL-MNOP-QRST-UVWX", ballot_sha256: "ab".repeat(32), supersedes: null }, v: 1 }));
// A proof of the right length for (INDEX, SIZE); the root is what it implies.
const proof = Array.from({ length: 20 }, (_, i) => sha256(encoder.encode(`node ${i}`)));
const root = tlog.rootFromInclusionProof(tlog.leafHash(entry), INDEX, SIZE, proof);
const body = `${ORIGIN}\n${SIZE}\n${tlog.toBase64(root)}\n`;
let note = `${body}\n${line(log, ed25519.sign(encoder.encode(body), log.seed))}`;
for (const o of observers) {
  const time = new Uint8Array(8);
  new DataView(time.buffer).setBigUint64(0, 1_790_000_000n);
  note += line(o, Uint8Array.of(...time, ...ed25519.sign(tlog.cosignatureMessage(body, 1_790_000_000), o.seed)));
}
const receipt = {
  version: 1, log: "election-1", origin: ORIGIN, index: INDEX, entry: Buffer.from(entry).toString("base64"),
  leaf_hash: tlog.toHex(tlog.leafHash(entry)), tree_size: SIZE, inclusion_proof: proof.map(tlog.toHex),
  checkpoint: note, log_verifier_key: log.vkey, observer_verifier_keys: observers.map((o) => o.vkey),
  witness_threshold: 3,
  anchor: { tree_size: SIZE, checkpoint_note: note, checkpoint_hash: tlog.toHex(sha256(encoder.encode(note))), consistency_proof: [], chain_id: 1, transaction_hash: "0x00", block_number: 1 },
};
const expect = { kind: "ballot.cast", trackingCode: "ABCD-EFGH-IJKL-MNOP-QRST-UVWX", ballotSha256: "ab".repeat(32), election: "e1" };

const cpu = [];
const wall = [];
for (let i = 0; i < runs; i++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const report = verifyBallotInclusion(receipt, expect);
  wall.push(performance.now() - t0);
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / 1000);
  if (!report.ok) throw new Error(JSON.stringify(report.checks));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x) => Math.round(x * 100) / 100;
console.log(JSON.stringify({ js_inclusion_ms: round(median(cpu)), js_inclusion_wall_ms: round(median(wall)), tree_size: SIZE, proof_hashes: proof.length, cosignatures: observers.length, runs }));
