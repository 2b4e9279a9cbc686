// Transparency-log verification in the browser: RFC 9162 Merkle proofs (inclusion and
// consistency), C2SP signed notes with Ed25519 signatures, tlog-checkpoint bodies and
// tlog-cosignature/v1 cosignatures. The JavaScript twin of civic_tlog/merkle.py and
// civic_tlog/note.py: the same strict parsing, so a note one side accepts the other accepts too.
//
// Pure: no DOM, no fetch. Sizes and indexes are handled as BigInt (a tree may hold 2^64 - 1
// entries); a verifier answers false (Merkle) or throws NoteError (notes), never anything else.
// Tested against the same public vectors as the Python code (tests/js/tlog.test.mjs).

import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";

export const HASH_SIZE = 32;
export const ALG_ED25519 = 0x01;
export const ALG_COSIGNATURE_V1 = 0x04;
export const SIGNATURE_PREFIX = "\u2014 "; // EM DASH + space starts every signature line
export const MAX_NOTE_BYTES = 1 << 20;
export const MAX_SIGNATURES = 100;
const COSIGNATURE_HEADER = "cosignature/v1\n";
const MAX_TIMESTAMP = (1n << 63n) - 1n;
const MAX_SIZE = (1n << 64n) - 1n;
const encoder = new TextEncoder();

export class NoteError extends Error {
  constructor(message) {
    super(message);
    this.name = "NoteError";
  }
}

// ---- bytes ---------------------------------------------------------------------------------

export function bytesEqual(a, b) {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Lowercase or uppercase hex of any even length to bytes; null if it is not hex. */
export function fromHex(text) {
  if (typeof text !== "string" || text.length % 2 !== 0 || /[^0-9a-fA-F]/.test(text)) return null;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Standard base64 (RFC 4648 §4, padded); null unless the text is exactly canonical. */
export function fromBase64(text) {
  if (typeof text !== "string" || text.length % 4 !== 0 || /[^A-Za-z0-9+/=]/.test(text)) return null;
  let binary;
  try {
    binary = atob(text);
  } catch {
    return null;
  }
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return toBase64(bytes) === text ? bytes : null;
}

export function toBase64(bytes) {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function strictBase64(text) {
  const raw = fromBase64(text);
  if (raw === null) throw new NoteError(`invalid or non-canonical base64: ${JSON.stringify(String(text).slice(0, 40))}`);
  return raw;
}

// ---- RFC 9162 Merkle tree ------------------------------------------------------------------

/** SHA-256(0x00 || entry): the leaf hash of an entry (RFC 9162 §2.1.1). */
export function leafHash(entry) {
  return sha256(concat(Uint8Array.of(0), entry));
}

/** SHA-256(0x01 || left || right). */
export function nodeHash(left, right) {
  return sha256(concat(Uint8Array.of(1), left, right));
}

function isHash(value) {
  return value instanceof Uint8Array && value.length === HASH_SIZE;
}

/** A non-negative integer below 2^64 as BigInt (numbers must be safe integers), else null. */
function asIndex(value) {
  if (typeof value === "bigint") return value >= 0n && value <= MAX_SIZE ? value : null;
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  return null;
}

/** The root an inclusion proof implies (RFC 9162 §2.1.3.2), or null if its shape is wrong. */
export function rootFromInclusionProof(leaf, index, treeSize, proof) {
  let fn = asIndex(index);
  let sn = asIndex(treeSize);
  if (fn === null || sn === null || fn >= sn || !isHash(leaf) || !Array.isArray(proof)) return null;
  if (!proof.every(isHash)) return null;
  sn -= 1n;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) return null; // proof longer than the path
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n ? r : null; // else: proof shorter than the path
}

/** True iff `proof` shows `leaf` (a leaf hash) at `index` in the tree of `treeSize` with `root`. */
export function verifyInclusion(leaf, index, treeSize, proof, root) {
  if (!isHash(root)) return false;
  const computed = rootFromInclusionProof(leaf, index, treeSize, proof);
  return computed !== null && bytesEqual(computed, root);
}

/** True iff `proof` shows the tree (size1, root1) is a prefix of (size2, root2) (§2.1.4.2). */
export function verifyConsistency(size1, size2, proof, root1, root2) {
  const s1 = asIndex(size1);
  const s2 = asIndex(size2);
  if (s1 === null || s2 === null || s1 === 0n || s1 > s2 || !Array.isArray(proof)) return false;
  if (s1 === s2) return proof.length === 0 && bytesEqual(root1, root2);
  if (!isHash(root1) || !isHash(root2) || proof.length === 0 || !proof.every(isHash)) return false;
  const path = [...proof];
  if ((s1 & (s1 - 1n)) === 0n) path.unshift(root1); // size1 a power of two: its root is the first node
  let fn = s1 - 1n;
  let sn = s2 - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return bytesEqual(fr, root1) && bytesEqual(sr, root2) && sn === 0n;
}

// ---- signed-note keys ----------------------------------------------------------------------

function isValidName(name) {
  return typeof name === "string" && name.length > 0 && !name.includes("+") && !/[\s\x1c-\x1f\x85]/u.test(name);
}

/** SHA-256(name || 0x0A || alg || public key)[:4]. */
export function keyId(name, alg, publicKey) {
  return sha256(concat(encoder.encode(name), Uint8Array.of(0x0a, alg), publicKey)).slice(0, 4);
}

/** Parse `<name>+<keyid hex>+<base64(alg || key)>`; the key id must match the name and key. */
export function parseVerifierKey(vkey) {
  if (typeof vkey !== "string") throw new NoteError("a verifier key is a string");
  const text = vkey.trim();
  const first = text.indexOf("+");
  const second = first < 0 ? -1 : text.indexOf("+", first + 1);
  if (second < 0) throw new NoteError(`verifier key must be name+keyid+key, got ${JSON.stringify(text.slice(0, 60))}`);
  const name = text.slice(0, first);
  const hexId = text.slice(first + 1, second);
  if (!isValidName(name)) throw new NoteError(`verifier key: invalid key name ${JSON.stringify(name)}`);
  if (!/^[0-9a-f]{8}$/.test(hexId)) throw new NoteError(`verifier key: key id must be 8 lowercase hex digits`);
  const material = strictBase64(text.slice(second + 1));
  if (material.length !== 33 || (material[0] !== ALG_ED25519 && material[0] !== ALG_COSIGNATURE_V1)) {
    throw new NoteError("verifier key: expected an Ed25519 key (type 0x01 or 0x04, 32 bytes)");
  }
  const alg = material[0];
  const publicKey = material.slice(1);
  const kid = fromHex(hexId);
  if (!bytesEqual(keyId(name, alg, publicKey), kid)) {
    throw new NoteError(`verifier key ${name}: key id ${hexId} does not match the key`);
  }
  return { name, keyId: kid, alg, publicKey };
}

function ed25519Verify(publicKey, message, signature) {
  try {
    // zip215: false is RFC 8032's strict rule, as OpenSSL (the Python side) applies it.
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

// ---- notes ---------------------------------------------------------------------------------

function checkText(text) {
  if (!text.endsWith("\n")) throw new NoteError("note text must end with a newline");
  const control = text.match(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/u);
  if (control) {
    const code = control[0].codePointAt(0).toString(16).toUpperCase().padStart(4, "0");
    throw new NoteError(`note text contains control character U+${code}`);
  }
}

/** Parse `— <name> <base64(keyid || payload)>` (no trailing newline). */
export function parseSignatureLine(line) {
  if (!line.startsWith(SIGNATURE_PREFIX)) throw new NoteError("signature line must start with an em dash and a space");
  const rest = line.slice(SIGNATURE_PREFIX.length);
  const space = rest.indexOf(" ");
  const name = space < 0 ? "" : rest.slice(0, space);
  const b64 = space < 0 ? "" : rest.slice(space + 1);
  if (space < 0 || !isValidName(name) || b64.includes(" ")) {
    throw new NoteError(`malformed signature line: ${JSON.stringify(line.slice(0, 60))}`);
  }
  const raw = strictBase64(b64);
  if (raw.length < 5) throw new NoteError("signature payload too short");
  return { name, keyId: raw.slice(0, 4), payload: raw.slice(4), line };
}

/** Split a signed note into its text and parsed signature lines (nothing verified). */
export function splitNote(note) {
  if (typeof note !== "string") throw new NoteError("a note is a string");
  if (encoder.encode(note).length > MAX_NOTE_BYTES) throw new NoteError("note too large");
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw new NoteError("note has no blank line before its signatures");
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  checkText(text);
  if (!block.endsWith("\n")) throw new NoteError("signature block must end with a newline");
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > MAX_SIGNATURES) throw new NoteError("too many signatures");
  return { text, signatures: lines.map(parseSignatureLine) };
}

function sameKey(sig, verifier) {
  return sig.name === verifier.name && bytesEqual(sig.keyId, verifier.keyId);
}

function asVerifier(key) {
  return typeof key === "string" ? parseVerifierKey(key) : key;
}

/** The exact bytes an Ed25519 cosignature/v1 signs. */
export function cosignatureMessage(checkpointBody, timestamp) {
  const t = BigInt(timestamp);
  if (t < 0n || t > MAX_TIMESTAMP) throw new NoteError("cosignature timestamp out of range");
  checkText(checkpointBody);
  return encoder.encode(`${COSIGNATURE_HEADER}time ${t}\n${checkpointBody}`);
}

function verifyCosignaturePayload(text, sig, verifier) {
  if (sig.payload.length !== 72) throw new NoteError(`cosignature from ${verifier.name} has the wrong length`);
  let timestamp = 0n;
  for (const b of sig.payload.slice(0, 8)) timestamp = (timestamp << 8n) | BigInt(b);
  if (timestamp > MAX_TIMESTAMP || !ed25519Verify(verifier.publicKey, cosignatureMessage(text, timestamp), sig.payload.slice(8))) {
    throw new NoteError(`invalid cosignature from ${verifier.name}+${toHex(verifier.keyId)}`);
  }
  return timestamp;
}

function verifyOne(text, sig, verifier) {
  if (verifier.alg === ALG_ED25519) {
    if (sig.payload.length !== 64 || !ed25519Verify(verifier.publicKey, encoder.encode(text), sig.payload)) {
      throw new NoteError(`invalid signature from ${verifier.name}+${toHex(verifier.keyId)}`);
    }
    return { name: sig.name, keyId: sig.keyId, alg: verifier.alg, timestamp: null, line: sig.line };
  }
  const timestamp = verifyCosignaturePayload(text, sig, verifier);
  return { name: sig.name, keyId: sig.keyId, alg: verifier.alg, timestamp, line: sig.line };
}

/**
 * Verify a note against known keys; {text, verified}. As Go's note.Open and civic_tlog.note:
 * lines of unknown keys are ignored, a line claiming a known key that does not verify is an
 * error, so are duplicate signatures by one key and a note no known key signed.
 */
export function openNote(note, verifiers) {
  const { text, signatures } = splitNote(note);
  const known = verifiers.map(asVerifier);
  const verified = [];
  const seen = new Set();
  for (const sig of signatures) {
    const verifier = known.find((v) => sameKey(sig, v));
    if (verifier === undefined) continue;
    const id = `${sig.name}+${toHex(sig.keyId)}`;
    if (seen.has(id)) throw new NoteError(`duplicate signature from ${sig.name}`);
    seen.add(id);
    verified.push(verifyOne(text, sig, verifier));
  }
  if (verified.length === 0) throw new NoteError("note has no signature from a known key");
  return { text, verified };
}

// ---- checkpoints ---------------------------------------------------------------------------

/** Parse a tlog-checkpoint body strictly: {origin, size (BigInt), rootHash, extensions}. */
export function parseCheckpoint(body) {
  checkText(body);
  const lines = body.slice(0, -1).split("\n");
  if (lines.length < 3) throw new NoteError("checkpoint needs origin, size and root hash lines");
  const [origin, sizeText, rootText, ...extensions] = lines;
  if (!origin) throw new NoteError("checkpoint origin is empty");
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText) || sizeText.length > 20 || BigInt(sizeText) > MAX_SIZE) {
    throw new NoteError(`checkpoint size ${JSON.stringify(sizeText)} is not a canonical decimal`);
  }
  const rootHash = strictBase64(rootText);
  if (rootHash.length !== HASH_SIZE) throw new NoteError("checkpoint root hash is not 32 bytes");
  if (extensions.some((ext) => !ext)) throw new NoteError("checkpoint has an empty extension line");
  return { origin, size: BigInt(sizeText), rootHash, extensions };
}

/** Verify a checkpoint note's log signature: {checkpoint, body}. The origin must match if given. */
export function openCheckpoint(note, logKey, origin = null) {
  const verifier = asVerifier(logKey);
  if (verifier.alg !== ALG_ED25519) throw new NoteError("a log verifier key must be a signed-note Ed25519 key (type 0x01)");
  const { text } = openNote(note, [verifier]);
  const checkpoint = parseCheckpoint(text);
  if (origin !== null && checkpoint.origin !== origin) {
    throw new NoteError(`checkpoint origin ${JSON.stringify(checkpoint.origin)} is not ${JSON.stringify(origin)}`);
  }
  return { checkpoint, body: text };
}

/** Check one cosignature line over a checkpoint body under a cosigner key; its timestamp (BigInt). */
export function verifyCosignature(checkpointBody, signatureLine, cosigner) {
  const verifier = asVerifier(cosigner);
  if (verifier.alg !== ALG_COSIGNATURE_V1) throw new NoteError("cosigner verifier key must have type 0x04 (cosignature/v1)");
  const sig = parseSignatureLine(signatureLine);
  if (sig.payload.length !== 72) throw new NoteError("cosignature payload must be an 8-byte timestamp and a 64-byte signature");
  if (!sameKey(sig, verifier)) throw new NoteError(`cosignature is from ${sig.name}, not ${verifier.name}`);
  parseCheckpoint(checkpointBody);
  return verifyCosignaturePayload(checkpointBody, sig, verifier);
}
