// Public checks of the trustees' work, in the browser (twin of the public half of dkg.py,
// decryption.py and dlog.py; docs/protocol-trustees.md §2 and §4): anyone can check the key
// ceremony's proofs, judge complaints, recompute the joint and verification keys, verify every
// partial decryption, combine shares with Lagrange coefficients and read the counts.
// Nothing here needs a secret; the trustee's own tools (share decryption with their key,
// the secret file) stay in Python.

import { G, IDENTITY, N, bytesEqual, concatBytes, decodeScalar, encodePoint, hexToBytes, pointFromHex } from "./encoding.mjs";
import { Ciphertext } from "./elgamal.mjs";
import { CryptoError, EncodingError, ProofError } from "./errors.mjs";
import { baseMul, mod, msm, normalized, sumPoints } from "./group.mjs";
import { H, encHash, encStr, encU32 } from "./hashing.mjs";
import { exactKeys, isJsonInteger, isPlainObject } from "./json.mjs";
import { EqualityProof, SchnorrProof, verifyEquality, verifySchnorr } from "./proofs.mjs";

export const TAG_SHARE_SECRET = 0x40;
export const TAG_SHARE_PAD = 0x41;
export const TAG_SHARE_MAC_KEY = 0x42;
export const TAG_SHARE_MAC = 0x43;
export const TAG_SHARES_DIGEST = 0x44;
export const LABEL_COMMUNICATION_KEY = 0x45;
export const LABEL_COEFFICIENT = 0x46;
export const LABEL_COMPLAINT = 0x47;
export const LABEL_PARTIAL_DECRYPTION = 0x48;

/** A ceremony or decryption rule was broken; `trustee` names who broke it (if known). */
export class TrusteeError extends CryptoError {
  constructor(message, trustee = null) {
    super(trustee === null ? message : `trustee ${trustee}: ${message}`);
    this.trustee = trustee;
  }
}

function intField(obj, key) {
  const value = obj[key];
  if (!isJsonInteger(value) || value < 0) throw new EncodingError(`${key} must be a non-negative integer`);
  return value;
}

function strField(obj, key) {
  if (typeof obj[key] !== "string") throw new EncodingError(`${key} must be a string`);
  return obj[key];
}

function listField(obj, key) {
  if (!Array.isArray(obj[key])) throw new EncodingError(`${key} must be a list`);
  return obj[key];
}

// -- round 1: announcements ------------------------------------------------------------------
export function announcementLabel(index, name) {
  return concatBytes(Uint8Array.of(LABEL_COMMUNICATION_KEY), encU32(index), encStr(name));
}

export function parseAnnouncement(obj) {
  const o = exactKeys(obj, ["index", "name", "communication_key", "proof"], "trustee announcement");
  return {
    index: intField(o, "index"),
    name: strField(o, "name"),
    communicationKey: pointFromHex(strField(o, "communication_key")),
    proof: SchnorrProof.fromJSON(o.proof),
  };
}

function checkIndex(params, index, what = "trustee index") {
  if (!(index >= 1 && index <= params.trustees)) throw new TrusteeError(`${what} ${index} outside 1..${params.trustees}`);
}

/** The Schnorr proof of a communication key (context H_B). */
export function verifyAnnouncement(params, ann) {
  checkIndex(params, ann.index);
  try {
    verifySchnorr(params.baseHash, ann.communicationKey, ann.proof, { label: announcementLabel(ann.index, ann.name) });
  } catch (err) {
    if (err instanceof ProofError) throw new TrusteeError(`communication key proof fails (${err.message})`, ann.index);
    throw err;
  }
}

// -- round 2: commitments and encrypted shares ----------------------------------------------------
export function parseShare(obj) {
  const o = exactKeys(obj, ["sender", "recipient", "ephemeral", "ciphertext", "mac"], "encrypted share");
  return {
    sender: intField(o, "sender"),
    recipient: intField(o, "recipient"),
    ephemeral: pointFromHex(strField(o, "ephemeral")),
    ciphertext: hexToBytes(strField(o, "ciphertext"), 32, "ciphertext"),
    mac: hexToBytes(strField(o, "mac"), 32, "mac"),
  };
}

export function parseCommitments(obj) {
  const o = exactKeys(obj, ["index", "commitments", "proofs", "shares"], "trustee commitments");
  return {
    index: intField(o, "index"),
    commitments: listField(o, "commitments").map((c) => {
      if (typeof c !== "string") throw new EncodingError("commitments must be point hex strings");
      return pointFromHex(c);
    }),
    proofs: listField(o, "proofs").map((p) => SchnorrProof.fromJSON(p)),
    shares: listField(o, "shares").map(parseShare),
  };
}

/** D = H(H_B; 0x44, u32(i), u32(count), (u32(j) ‖ R_j ‖ c_j ‖ mac_j)...). */
export function sharesDigest(baseHash, sender, shares) {
  return H(
    baseHash,
    TAG_SHARES_DIGEST,
    encU32(sender),
    encU32(shares.length),
    ...shares.map((s) => concatBytes(encU32(s.recipient), encodePoint(s.ephemeral), s.ciphertext, s.mac)),
  );
}

export function coefficientLabel(sender, k, digest) {
  return concatBytes(Uint8Array.of(LABEL_COEFFICIENT), encU32(sender), encU32(k), encHash(digest));
}

/** Shape (t commitments and proofs, shares to every other trustee in order) and every proof. */
export function verifyCommitments(params, msg) {
  checkIndex(params, msg.index);
  if (msg.commitments.length !== params.threshold || msg.proofs.length !== params.threshold) {
    throw new TrusteeError(`must publish exactly t=${params.threshold} commitments and proofs`, msg.index);
  }
  const expected = [];
  for (let j = 1; j <= params.trustees; j++) if (j !== msg.index) expected.push(j);
  if (msg.shares.length !== expected.length || msg.shares.some((s, i) => s.recipient !== expected[i] || s.sender !== msg.index)) {
    throw new TrusteeError("encrypted shares must go to every other trustee, in index order", msg.index);
  }
  const digest = sharesDigest(params.baseHash, msg.index, msg.shares);
  msg.commitments.forEach((commitment, k) => {
    try {
      verifySchnorr(params.baseHash, commitment, msg.proofs[k], { label: coefficientLabel(msg.index, k, digest) });
    } catch (err) {
      if (err instanceof ProofError) throw new TrusteeError(`proof of knowledge of coefficient ${k} fails`, msg.index);
      throw err;
    }
  });
}

/** k = H(H_B; 0x40, i, j, R, D_j, S); pad = H(k; 0x41); mac_key = H(k; 0x42). */
export function shareKeys(baseHash, sender, recipient, ephemeral, recipientKey, shared) {
  const encryptionKey = H(baseHash, TAG_SHARE_SECRET, encU32(sender), encU32(recipient), encodePoint(ephemeral), encodePoint(recipientKey), encodePoint(shared));
  return { encryptionKey, pad: H(encryptionKey, TAG_SHARE_PAD), macKey: H(encryptionKey, TAG_SHARE_MAC_KEY) };
}

export function shareMac(macKey, sender, recipient, ephemeral, ciphertext) {
  return H(macKey, TAG_SHARE_MAC, encU32(sender), encU32(recipient), encodePoint(ephemeral), ciphertext);
}

const xor = (a, b) => a.map((byte, i) => byte ^ b[i]);

/** Open a share with the revealed ECDH point S (complaint judging); throws TrusteeError. */
export function openShare(baseHash, share, recipientKey, shared) {
  const { pad, macKey } = shareKeys(baseHash, share.sender, share.recipient, share.ephemeral, recipientKey, shared);
  if (!bytesEqual(shareMac(macKey, share.sender, share.recipient, share.ephemeral, share.ciphertext), share.mac)) {
    throw new TrusteeError("share MAC does not verify", share.sender);
  }
  try {
    return decodeScalar(xor(share.ciphertext, pad));
  } catch {
    throw new TrusteeError("decrypted share is not a scalar below n", share.sender);
  }
}

/** Σ_k x^k·C_k = P(x)·G: what the share for trustee x must match. */
export function evaluateCommitments(commitments, x) {
  const powers = commitments.map((_, k) => mod(BigInt(x) ** BigInt(k)));
  return msm(powers, commitments);
}

// -- round 3: complaints -----------------------------------------------------------------------
export function complaintLabel(accuser, accused) {
  return concatBytes(Uint8Array.of(LABEL_COMPLAINT), encU32(accuser), encU32(accused));
}

export function parseComplaint(obj) {
  const o = exactKeys(obj, ["accuser", "accused", "shared_point", "proof"], "complaint");
  return {
    accuser: intField(o, "accuser"),
    accused: intField(o, "accused"),
    sharedPoint: pointFromHex(strField(o, "shared_point")),
    proof: EqualityProof.fromJSON(o.proof),
  };
}

/**
 * Decide a complaint from public data (protocol-trustees §2, round 3): {guilty, upheld, reason}.
 * `announcements` and `commitments` map trustee index -> parsed message.
 */
export function judgeComplaint(params, announcements, commitments, complaint) {
  checkIndex(params, complaint.accuser, "accuser");
  checkIndex(params, complaint.accused, "accused");
  if (complaint.accuser === complaint.accused) throw new TrusteeError("a trustee cannot accuse itself", complaint.accuser);
  const verdict = (guilty, reason) => ({ guilty, upheld: guilty === complaint.accused, reason });
  const accuserKey = announcements.get(complaint.accuser).communicationKey;
  const sent = commitments.get(complaint.accused);
  const encrypted = sent.shares.find((s) => s.recipient === complaint.accuser);
  try {
    verifyEquality(params.baseHash, accuserKey, encrypted.ephemeral, complaint.sharedPoint, complaint.proof, {
      label: complaintLabel(complaint.accuser, complaint.accused),
    });
  } catch (err) {
    if (!(err instanceof ProofError)) throw err;
    return verdict(complaint.accuser, "complaint does not prove the revealed decryption point");
  }
  let share;
  try {
    share = openShare(params.baseHash, encrypted, accuserKey, complaint.sharedPoint);
  } catch (err) {
    if (!(err instanceof TrusteeError)) throw err;
    return verdict(complaint.accused, `share to trustee ${complaint.accuser}: ${err.message}`);
  }
  if (!baseMul(share).equals(evaluateCommitments(sent.commitments, complaint.accuser))) {
    return verdict(complaint.accused, `share to trustee ${complaint.accuser} does not match the sender's commitments`);
  }
  return verdict(complaint.accuser, "false accusation: the share is valid");
}

// -- round 4: public keys ------------------------------------------------------------------------
/** K = Σ_{i in QUAL} C_i0. */
export function jointKey(commitments, qualified) {
  return normalized(sumPoints(qualified.map((i) => commitments.get(i).commitments[0])));
}

/** Y_j = Σ_{i in QUAL} Σ_k j^k·C_ik. */
export function verificationKey(commitments, qualified, index) {
  const scalars = [];
  const points = [];
  for (const i of qualified) {
    commitments.get(i).commitments.forEach((c, k) => {
      scalars.push(mod(BigInt(index) ** BigInt(k)));
      points.push(c);
    });
  }
  return normalized(msm(scalars, points));
}

/** The commitments H_E binds: every qualified trustee's, in index order. */
export function electionCommitments(commitments, qualified) {
  return qualified.flatMap((i) => commitments.get(i).commitments);
}

// -- tally and partial decryptions ------------------------------------------------------------------
/** Decode {contest: {option: X}} listing exactly the manifest's contests and options. */
function perSelection(obj, manifest, decode, what) {
  const contestIds = manifest.contests.map((c) => c.id);
  if (!isPlainObject(obj) || Object.keys(obj).length !== contestIds.length || !contestIds.every((id) => Object.hasOwn(obj, id))) {
    throw new EncodingError(`${what}: contests must be exactly those of the manifest`);
  }
  const out = new Map();
  for (const contest of manifest.contests) {
    const options = obj[contest.id];
    const ids = contest.options.map((o) => o.id);
    if (!isPlainObject(options) || Object.keys(options).length !== ids.length || !ids.every((id) => Object.hasOwn(options, id))) {
      throw new EncodingError(`${what}: contest ${contest.id} must list exactly its options`);
    }
    for (const id of ids) out.set(`${contest.id}/${id}`, { contestId: contest.id, optionId: id, value: decode(options[id]) });
  }
  return out;
}

/** {ballot_count, contests: {c: {o: {alpha, beta}}}} -> {ballotCount, ciphertexts: Map("c/o" -> {contestId, optionId, value})}. */
export function parseTally(obj, manifest) {
  const o = exactKeys(obj, ["ballot_count", "contests"], "tally");
  return { ballotCount: intField(o, "ballot_count"), ciphertexts: perSelection(o.contests, manifest, (x) => Ciphertext.fromJSON(x), "tally") };
}

function parsePartial(obj) {
  const o = exactKeys(obj, ["share", "proof"], "partial decryption");
  return { share: pointFromHex(strField(o, "share")), proof: EqualityProof.fromJSON(o.proof) };
}

export function parseTallyShare(obj, manifest) {
  const o = exactKeys(obj, ["trustee", "contests"], "tally share");
  const trustee = intField(o, "trustee");
  if (trustee < 1) throw new EncodingError("trustee must be a positive integer");
  return { trustee, partials: perSelection(o.contests, manifest, parsePartial, "tally share") };
}

/** 0x48 ‖ u32(trustee) ‖ str(contest) ‖ str(option). */
export function partialLabel(trustee, contestId, optionId) {
  return concatBytes(Uint8Array.of(LABEL_PARTIAL_DECRYPTION), encU32(trustee), encStr(contestId), encStr(optionId));
}

/** Every Chaum–Pedersen proof of one trustee's share (context H_E); names the bad options. */
export function verifyTallyShare(extendedHash, verificationKey_, tally, share) {
  const keys = [...tally.ciphertexts.keys()];
  if (JSON.stringify([...share.partials.keys()]) !== JSON.stringify(keys)) {
    throw new TrusteeError("share does not cover exactly the tally's options", share.trustee);
  }
  const bad = [];
  for (const key of keys) {
    const { contestId, optionId, value: ct } = tally.ciphertexts.get(key);
    const partial = share.partials.get(key).value;
    try {
      verifyEquality(extendedHash, verificationKey_, ct.alpha, partial.share, partial.proof, {
        label: partialLabel(share.trustee, contestId, optionId),
      });
    } catch (err) {
      if (!(err instanceof ProofError)) throw err;
      bad.push(key);
    }
  }
  if (bad.length) throw new TrusteeError(`decryption proof fails for ${bad.join(", ")}`, share.trustee);
}

/** λ_index at x = 0 over the present trustee indices. */
export function lagrangeCoefficient(index, present) {
  if (!present.includes(index) || new Set(present).size !== present.length) {
    throw new RangeError("index must be one of distinct present indices");
  }
  let num = 1n;
  let den = 1n;
  for (const k of present) {
    if (k !== index) {
      num = mod(num * BigInt(k));
      den = mod(den * BigInt(k - index));
    }
  }
  return mod(num * modInverse(den));
}

function modInverse(a) {
  // Fermat: a^(n-2) mod n (n prime)
  let result = 1n;
  let base = mod(a);
  let e = N - 2n;
  while (e > 0n) {
    if (e & 1n) result = (result * base) % N;
    base = (base * base) % N;
    e >>= 1n;
  }
  return result;
}

/** m·G = B − Σ λ_j·M_j over the trustees in `shares` (Map index -> M_j). */
export function combine(ciphertext, shares) {
  const present = [...shares.keys()].sort((a, b) => a - b);
  const scalars = present.map((j) => lagrangeCoefficient(j, present));
  return normalized(ciphertext.beta.subtract(msm(scalars, present.map((j) => shares.get(j)))));
}

// -- baby-step giant-step -----------------------------------------------------------------------------
const tables = new Map();

function isqrt(n) {
  let x = BigInt(Math.floor(Math.sqrt(n)));
  while (x * x > BigInt(n)) x -= 1n;
  while ((x + 1n) * (x + 1n) <= BigInt(n)) x += 1n;
  return Number(x);
}

/** Baby steps M = min(2^17, max(1024, 4·isqrt(bound))), as dlog.py. */
export function babySteps(bound) {
  return Math.min(2 ** 17, Math.max(1024, 4 * isqrt(bound)));
}

/** x(j·G) -> ±j (sign = parity of y: + when odd), for j = 1..M. */
export function babyTable(steps) {
  let table = tables.get(steps);
  if (table === undefined) {
    table = new Map();
    let acc = IDENTITY;
    for (let j = 1; j <= steps; j++) {
      acc = normalized(acc.add(G));
      const { x, y } = acc.toAffine();
      table.set(x, y & 1n ? j : -j);
    }
    tables.set(steps, table);
  }
  return table;
}

/** m in [0, bound] with m·G = point (null for none): baby-step giant-step. */
export function discreteLog(point, bound) {
  if (point.is0()) return 0;
  const steps = babySteps(bound);
  const table = babyTable(steps);
  const stride = 2 * steps + 1;
  let q = normalized(point.subtract(baseMul(BigInt(steps))));
  const giant = baseMul(BigInt(stride));
  for (let i = 0; i * stride <= bound; i++) {
    const base = steps + i * stride;
    let m = null;
    if (q.is0()) m = base;
    else {
      const { x, y } = q.toAffine();
      const entry = table.get(x);
      if (entry !== undefined) {
        const j = Math.abs(entry);
        const sameParity = (y & 1n ? 1 : -1) === Math.sign(entry);
        m = sameParity ? base + j : base - j;
      }
    }
    if (m !== null) return m <= bound ? m : null;
    q = normalized(q.subtract(giant));
  }
  return null;
}

