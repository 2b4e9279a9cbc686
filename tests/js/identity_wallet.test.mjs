// The browser wallet's key and backup module (run: node --test tests/js/).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

import {
  WalletError,
  base58btcDecode,
  base58btcEncode,
  bindingMessage,
  canonicalize,
  decryptBackup,
  didFromPublicKey,
  encryptBackup,
  generateDidKey,
  payloadToWallet,
  publicKeyFromDid,
  signBinding,
  signPresentation,
  tokenMessage,
  walletToPayload,
  base64urlToBytes,
} from "../../identity/static/identity/js/wallet_keys.mjs";
import { ed25519 } from "@noble/curves/ed25519.js";
import { conformanceRoot } from "./tools/crypto_support.mjs";

const FAST = { iterations: 100000 };

test("backup round trip restores the exact keys", async () => {
  const key = generateDidKey();
  const records = [{ id: "did", did: key.did, secretKey: key.secretKey }, { id: "ballot:budget", secretKey: generateDidKey().secretKey, token: { key_id: "ab" } }];
  const backup = await encryptBackup(walletToPayload(records), "correct horse battery", FAST);
  assert.equal(backup.format, "civic-wallet-backup/v1");
  assert.ok(!JSON.stringify(backup).includes(walletToPayload(records)[0].secretKey), "secret key must not appear in clear");
  const restored = payloadToWallet(await decryptBackup(JSON.parse(JSON.stringify(backup)), "correct horse battery"));
  assert.deepEqual(restored[0].secretKey, key.secretKey);
  assert.equal(restored[0].did, key.did);
  assert.deepEqual(restored[1].token, { key_id: "ab" });
});

test("wrong passphrase, altered ciphertext or altered header is rejected", async () => {
  const backup = await encryptBackup([{ id: "did", secretKey: generateDidKey().secretKey }], "correct horse battery", FAST);
  await assert.rejects(decryptBackup(backup, "wrong horse battery"), WalletError);
  const bytes = base64urlToBytes(backup.ciphertext);
  bytes[0] ^= 1;
  const { bytesToBase64url } = await import("../../identity/static/identity/js/wallet_keys.mjs");
  await assert.rejects(decryptBackup({ ...backup, ciphertext: bytesToBase64url(bytes) }, "correct horse battery"), WalletError);
  const altered = { ...backup, kdf: { ...backup.kdf, iterations: backup.kdf.iterations + 1 } };
  await assert.rejects(decryptBackup(altered, "correct horse battery"), WalletError);
  await assert.rejects(decryptBackup({ format: "other" }, "x"), WalletError);
  await assert.rejects(encryptBackup([], "short"), WalletError);
});

test("did:key encoding matches the published did:key vectors", () => {
  const vectors = JSON.parse(readFileSync(join(conformanceRoot(), "did_key", "test-vectors", "ed25519-x25519.json"), "utf8"));
  const dids = Object.keys(vectors);
  assert.ok(dids.length > 0);
  for (const did of dids) {
    const seed = Uint8Array.from(Buffer.from(vectors[did].seed, "hex"));
    assert.equal(didFromPublicKey(ed25519.getPublicKey(seed)), did);
    assert.deepEqual(publicKeyFromDid(did), ed25519.getPublicKey(seed));
  }
  assert.throws(() => publicKeyFromDid("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme"), WalletError);
  assert.deepEqual(base58btcDecode(base58btcEncode(Uint8Array.of(0, 0, 1, 2))), Uint8Array.of(0, 0, 1, 2));
});

test("canonicalize matches the RFC 8785 test data", () => {
  const dir = join(conformanceRoot(), "jcs_rfc8785", "testdata");
  const names = readdirSync(join(dir, "input"));
  assert.ok(names.length > 0);
  for (const name of names) {
    const input = JSON.parse(readFileSync(join(dir, "input", name), "utf8"));
    const expected = readFileSync(join(dir, "output", name), "utf8").replace(/\n$/, "");
    assert.equal(canonicalize(input), expected, name);
  }
  assert.throws(() => canonicalize({ a: NaN }), WalletError);
});

test("binding signature and presentation proof verify; a flipped bit does not", () => {
  const key = generateDidKey();
  const sig = base64urlToBytes(signBinding(key.secretKey, key.did, "nonce", "localhost:8000"));
  assert.ok(ed25519.verify(sig, bindingMessage(key.did, "nonce", "localhost:8000"), key.publicKey));
  assert.ok(!ed25519.verify(sig, bindingMessage(key.did, "nonce2", "localhost:8000"), key.publicKey));
  const vp = signPresentation([{ id: "urn:x" }], key.secretKey, key.did, { challenge: "c", domain: "d" });
  assert.equal(vp.proof.proofPurpose, "authentication");
  assert.equal(vp.proof.verificationMethod, `${key.did}#${key.did.slice(8)}`);
  assert.throws(() => signPresentation([], key.secretKey, key.did, {}), WalletError);
});

test("token message binds the election and the ballot key", () => {
  const k = generateDidKey().publicKey;
  assert.equal(tokenMessage("a", k).length, 32);
  assert.notDeepEqual(tokenMessage("a", k), tokenMessage("b", k));
  assert.notDeepEqual(tokenMessage("a", k), tokenMessage("a", generateDidKey().publicKey));
});

test("the ballot key signs context || 0x00 || slug || 0x00 || RFC8785(document) (protocol §13.2)", async () => {
  const { CAST_CONTEXT, SPOIL_CONTEXT, ballotKeyMessage, signWithBallotKey, generateBallotKey } = await import(
    "../../identity/static/identity/js/wallet_keys.mjs"
  );
  const message = ballotKeyMessage(CAST_CONTEXT, "park-vote", { b: [1, "x"], a: null });
  assert.equal(new TextDecoder().decode(message), 'civic/cast/v1\u0000park-vote\u0000{"a":null,"b":[1,"x"]}');
  const key = generateBallotKey();
  const signature = base64urlToBytes(signWithBallotKey(key.secretKey, SPOIL_CONTEXT, "park-vote", { a: 1 }));
  assert.ok(ed25519.verify(signature, ballotKeyMessage(SPOIL_CONTEXT, "park-vote", { a: 1 }), key.publicKey));
  assert.ok(!ed25519.verify(signature, ballotKeyMessage(CAST_CONTEXT, "park-vote", { a: 1 }), key.publicKey));
  assert.ok(!ed25519.verify(signature, ballotKeyMessage(SPOIL_CONTEXT, "other-vote", { a: 1 }), key.publicKey));
});
