// The citizen wallet's cryptography: did:key generation, signed challenges, eddsa-jcs-2022
// presentations, eligibility token messages and the encrypted backup file.
//
// No DOM here, so Node's test runner imports it as it is. Ed25519 comes from @noble/curves,
// SHA-256 from @noble/hashes; the backup uses the platform's WebCrypto (PBKDF2 + AES-GCM).
// The private key only ever leaves this module encrypted, inside a backup file.

import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";

import { concatBytes } from "./bytes.mjs";

const subtle = globalThis.crypto.subtle;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const BIND_CONTEXT = "civic-did-binding/v1";
export const TOKEN_CONTEXT = "civic/eligibility-token/v1";
export const BACKUP_FORMAT = "civic-wallet-backup/v1";
export const DEFAULT_PBKDF2_ITERATIONS = 600000; // OWASP 2023 guidance for PBKDF2-HMAC-SHA256
const ED25519_PUB_CODEC = Uint8Array.of(0xed, 0x01);
const BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

export class WalletError extends Error {
  constructor(message) {
    super(message);
    this.name = "WalletError";
  }
}

// ---- encodings -----------------------------------------------------------------------------

export { concatBytes };

export function base58btcEncode(bytes) {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  let out = "";
  while (value > 0n) {
    out = BASE58_ALPHABET[Number(value % 58n)] + out;
    value /= 58n;
  }
  return "1".repeat(zeros) + out;
}

export function base58btcDecode(text) {
  let zeros = 0;
  while (zeros < text.length && text[zeros] === "1") zeros++;
  let value = 0n;
  for (const ch of text) {
    const digit = BASE58_ALPHABET.indexOf(ch);
    if (digit < 0) throw new WalletError("invalid base58 character");
    value = value * 58n + BigInt(digit);
  }
  const body = [];
  while (value > 0n) {
    body.unshift(Number(value & 0xffn));
    value >>= 8n;
  }
  return Uint8Array.from([...new Array(zeros).fill(0), ...body]);
}

export function bytesToBase64url(bytes) {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function base64urlToBytes(text) {
  if (typeof text !== "string" || /[^A-Za-z0-9_-]/.test(text)) throw new WalletError("invalid base64url");
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

// ---- did:key -------------------------------------------------------------------------------

/** did:key of a 32-byte Ed25519 public key: "did:key:z" + base58btc(0xed01 || key). */
export function didFromPublicKey(publicKey) {
  if (publicKey.length !== 32) throw new WalletError("Ed25519 public key must be 32 bytes");
  return "did:key:z" + base58btcEncode(concatBytes(ED25519_PUB_CODEC, publicKey));
}

export function publicKeyFromDid(did) {
  if (typeof did !== "string" || !did.startsWith("did:key:z")) throw new WalletError("not a did:key");
  const raw = base58btcDecode(did.slice("did:key:z".length));
  if (raw.length !== 34 || raw[0] !== 0xed || raw[1] !== 0x01) throw new WalletError("not an Ed25519 did:key");
  return raw.slice(2);
}

/** A fresh key pair; the secret key is 32 random bytes from the platform's CSPRNG. */
export function generateDidKey() {
  const secretKey = ed25519.utils.randomSecretKey();
  const publicKey = ed25519.getPublicKey(secretKey);
  return { secretKey, publicKey, did: didFromPublicKey(publicKey) };
}

export function keyFromSecret(secretKey) {
  const publicKey = ed25519.getPublicKey(secretKey);
  return { secretKey, publicKey, did: didFromPublicKey(publicKey) };
}

export function verificationMethod(did) {
  return `${did}#${did.slice("did:key:".length)}`;
}

/** What the server checks when binding: context, domain, DID and nonce, one per line. */
export function bindingMessage(did, nonce, domain) {
  return encoder.encode([BIND_CONTEXT, domain, did, nonce].join("\n"));
}

export function signBinding(secretKey, did, nonce, domain) {
  return bytesToBase64url(ed25519.sign(bindingMessage(did, nonce, domain), secretKey));
}

// ---- RFC 8785 JSON canonicalization and eddsa-jcs-2022 ---------------------------------------

/**
 * RFC 8785: JSON.stringify already serializes strings and numbers the way JCS requires
 * (the RFC defines them by ECMAScript); objects need their keys sorted by UTF-16 code units,
 * which is the default Array.prototype.sort order.
 */
export function canonicalize(value) {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new WalletError("NaN and Infinity are not JSON");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return "[" + value.map(canonicalize).join(",") + "]";
  if (typeof value === "object") {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    return "{" + keys.map((k) => JSON.stringify(k) + ":" + canonicalize(value[k])).join(",") + "}";
  }
  throw new WalletError(`cannot canonicalize a ${typeof value}`);
}

function utcStamp(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A copy of `document` with an eddsa-jcs-2022 DataIntegrityProof (vc-di-eddsa §3.3). */
export function addProof(document, secretKey, did, options = {}) {
  const unsecured = { ...document };
  delete unsecured.proof;
  const proof = {
    type: "DataIntegrityProof",
    cryptosuite: "eddsa-jcs-2022",
    created: options.created ?? utcStamp(new Date()),
    verificationMethod: verificationMethod(did),
    proofPurpose: options.proofPurpose ?? "assertionMethod",
  };
  if (options.challenge !== undefined) proof.challenge = options.challenge;
  if (options.domain !== undefined) proof.domain = options.domain;
  if (unsecured["@context"] !== undefined) proof["@context"] = unsecured["@context"];
  const hashData = concatBytes(
    sha256(encoder.encode(canonicalize(proof))),
    sha256(encoder.encode(canonicalize(unsecured))),
  );
  proof.proofValue = "z" + base58btcEncode(ed25519.sign(hashData, secretKey));
  return { ...unsecured, proof };
}

/** A Verifiable Presentation of `credentials`, signed by the holder for one challenge + domain. */
export function signPresentation(credentials, secretKey, did, { challenge, domain, created } = {}) {
  if (!challenge || !domain) throw new WalletError("a presentation needs the verifier's challenge and domain");
  const vp = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    type: ["VerifiablePresentation"],
    holder: did,
    verifiableCredential: credentials,
  };
  return addProof(vp, secretKey, did, { proofPurpose: "authentication", challenge, domain, created });
}

// ---- eligibility tokens --------------------------------------------------------------------

/** SHA-256(context || 0x00 || election slug || 0x00 || ballot public key): what gets blindly signed. */
export function tokenMessage(electionSlug, ballotPublicKey) {
  const zero = Uint8Array.of(0);
  return sha256(concatBytes(encoder.encode(TOKEN_CONTEXT), zero, encoder.encode(electionSlug), zero, ballotPublicKey));
}

/** A fresh per-election ballot key (Ed25519), unrelated to the DID key. */
export function generateBallotKey() {
  const secretKey = ed25519.utils.randomSecretKey();
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

/** What a ballot key signs at the ballot box (docs/protocol.md §13.2, §13.3). */
export const CAST_CONTEXT = "civic/cast/v1";
export const SPOIL_CONTEXT = "civic/spoil/v1";

/** `context || 0x00 || UTF-8(slug) || 0x00 || RFC8785(document)`: the ballot box's signed message. */
export function ballotKeyMessage(context, electionSlug, document) {
  const zero = Uint8Array.of(0);
  return concatBytes(encoder.encode(context), zero, encoder.encode(electionSlug), zero, encoder.encode(canonicalize(document)));
}

/** base64url Ed25519 signature of the ballot key over a cast (or spoil) message. */
export function signWithBallotKey(secretKey, context, electionSlug, document) {
  return bytesToBase64url(ed25519.sign(ballotKeyMessage(context, electionSlug, document), secretKey));
}

// ---- encrypted backup ----------------------------------------------------------------------

async function deriveKey(passphrase, salt, iterations) {
  const material = await subtle.importKey("raw", encoder.encode(passphrase), "PBKDF2", false, ["deriveKey"]);
  return subtle.deriveKey(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/**
 * Encrypt the wallet's contents under a passphrase: PBKDF2-HMAC-SHA256 -> AES-256-GCM.
 * The header (format, KDF parameters, IV) is bound as additional authenticated data.
 */
export async function encryptBackup(contents, passphrase, { iterations = DEFAULT_PBKDF2_ITERATIONS } = {}) {
  if (typeof passphrase !== "string" || passphrase.length < 8) {
    throw new WalletError("the passphrase must be at least 8 characters");
  }
  const salt = globalThis.crypto.getRandomValues(new Uint8Array(16));
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(12));
  const header = {
    format: BACKUP_FORMAT,
    kdf: { name: "PBKDF2", hash: "SHA-256", iterations, salt: bytesToBase64url(salt) },
    cipher: { name: "AES-GCM", iv: bytesToBase64url(iv) },
  };
  const key = await deriveKey(passphrase, salt, iterations);
  const ciphertext = await subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(canonicalize(header)) },
    key,
    encoder.encode(JSON.stringify(contents)),
  );
  return { ...header, ciphertext: bytesToBase64url(new Uint8Array(ciphertext)) };
}

/** Decrypt a backup; a wrong passphrase or any altered byte is refused with WalletError. */
export async function decryptBackup(backup, passphrase) {
  if (!backup || backup.format !== BACKUP_FORMAT) throw new WalletError("not a Civic wallet backup file");
  const { kdf, cipher } = backup;
  if (!kdf || kdf.name !== "PBKDF2" || kdf.hash !== "SHA-256" || !Number.isInteger(kdf.iterations)
      || kdf.iterations < 100000 || kdf.iterations > 10000000 || !cipher || cipher.name !== "AES-GCM") {
    throw new WalletError("unsupported backup parameters");
  }
  const header = { format: backup.format, kdf, cipher };
  const key = await deriveKey(passphrase, base64urlToBytes(kdf.salt), kdf.iterations);
  let plaintext;
  try {
    plaintext = await subtle.decrypt(
      { name: "AES-GCM", iv: base64urlToBytes(cipher.iv), additionalData: encoder.encode(canonicalize(header)) },
      key,
      base64urlToBytes(backup.ciphertext),
    );
  } catch {
    throw new WalletError("wrong passphrase, or the backup file was damaged");
  }
  return JSON.parse(decoder.decode(plaintext));
}

/** The wallet as a backup payload: the DID key plus any ballot keys and tokens. */
export function walletToPayload(records) {
  return records.map((r) => ({ ...r, secretKey: r.secretKey ? bytesToBase64url(r.secretKey) : undefined }));
}

export function payloadToWallet(payload) {
  if (!Array.isArray(payload)) throw new WalletError("backup payload must be a list of records");
  return payload.map((r) => {
    if (!r || typeof r.id !== "string") throw new WalletError("backup record without id");
    const record = { ...r };
    if (r.secretKey !== undefined) {
      record.secretKey = base64urlToBytes(r.secretKey);
      if (record.secretKey.length !== 32) throw new WalletError("backup holds a malformed key");
    }
    return record;
  });
}
