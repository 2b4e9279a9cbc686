// RFC 9474 vectors for the browser-side blind RSA module (run: node --test tests/js/).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createPublicKey } from "node:crypto";
import { join } from "node:path";

import {
  BlindRSAError,
  DEFAULT_VARIANT,
  VARIANTS,
  bigIntToBytes,
  blind,
  bytesToBigInt,
  bytesToHex,
  emsaPssEncode,
  finalize,
  hexToBytes,
  importPublicKey,
  modInverse,
  modPow,
  prepare,
  verify,
} from "../../identity/static/identity/js/blind_rsa.mjs";
import { conformanceRoot } from "./tools/crypto_support.mjs";

const vectors = JSON.parse(
  readFileSync(join(conformanceRoot(), "rfc9474_rsa_blind_signatures", "test_vectors_rfc9474.json"), "utf8"),
);
const big = (hex) => BigInt(hex.startsWith("0x") ? hex : "0x" + hex);
const b64url = (bytes) => Buffer.from(bytes).toString("base64url");

function jwkOf(v) {
  const n = big(v.n);
  const e = big(v.e);
  return { kty: "RSA", n: b64url(bigIntToBytes(n, Math.ceil(n.toString(2).length / 8))), e: b64url(bigIntToBytes(e, 3)) };
}

// The signer's side, only for round trips in this test (the server signs in Python).
function blindSign(v, blindedMsg) {
  const n = big(v.n);
  const s = modPow(bytesToBigInt(blindedMsg), big(v.d), n);
  return bigIntToBytes(s, blindedMsg.length);
}

function flip(bytes, index) {
  const out = Uint8Array.from(bytes);
  out[(index + out.length) % out.length] ^= 1;
  return out;
}

test("the vector file holds all four variants", () => {
  assert.deepEqual(vectors.map((v) => v.name).sort(), Object.keys(VARIANTS).sort());
  for (const v of vectors) {
    assert.equal(VARIANTS[v.name].saltLength, Number(big(v.sLen)));
    assert.equal(VARIANTS[v.name].randomized, big(v.is_randomized) === 1n);
  }
});

for (const v of vectors) {
  const variant = VARIANTS[v.name];

  test(`${v.name}: prepare, blind, finalize reproduce the vector`, async () => {
    const key = await importPublicKey(jwkOf(v), variant);
    const inputMsg = prepare(hexToBytes(v.msg), variant, v.msg_prefix ? hexToBytes(v.msg_prefix) : undefined);
    assert.equal(bytesToHex(inputMsg), v.input_msg);
    if (v.encoded_msg) {
      const encoded = await emsaPssEncode(inputMsg, big(v.n).toString(2).length - 1, hexToBytes(v.salt));
      assert.equal(bytesToHex(encoded), v.encoded_msg);
    }
    const n = big(v.n);
    const inv = big(v.inv);
    const { blindedMsg, inv: gotInv } = await blind(key, inputMsg, variant, {
      salt: hexToBytes(v.salt),
      r: modInverse(inv, n), // the vectors publish inv = r^-1 mod n (checked against blinded_msg)
    });
    assert.equal(bytesToHex(blindedMsg), v.blinded_msg);
    assert.equal(gotInv, inv);
    const sig = await finalize(key, inputMsg, hexToBytes(v.blind_sig), gotInv, variant);
    assert.equal(bytesToHex(sig), v.sig);
    assert.equal(await verify(key, inputMsg, sig, variant), true);
  });

  test(`${v.name}: flipped bits, wrong message, wrong prefix are rejected`, async () => {
    const key = await importPublicKey(jwkOf(v), variant);
    const inputMsg = hexToBytes(v.input_msg);
    const sig = hexToBytes(v.sig);
    for (const index of [0, sig.length >> 1, -1]) {
      assert.equal(await verify(key, inputMsg, flip(sig, index), variant), false);
    }
    assert.equal(await verify(key, flip(inputMsg, -1), sig, variant), false);
    assert.equal(await verify(key, inputMsg, sig.slice(1), variant), false);
    if (variant.randomized) {
      assert.equal(await verify(key, hexToBytes(v.msg), sig, variant), false);
      assert.equal(await verify(key, prepare(hexToBytes(v.msg), variant, new Uint8Array(32)), sig, variant), false);
    }
    await assert.rejects(
      finalize(key, inputMsg, flip(hexToBytes(v.blind_sig), -1), big(v.inv), variant),
      BlindRSAError,
    );
  });
}

test("random round trip with the default variant, key imported from SPKI PEM", async () => {
  const v = vectors[0];
  const pem = createPublicKey({ key: jwkOf(v), format: "jwk" }).export({ type: "spki", format: "pem" });
  const key = await importPublicKey(pem, DEFAULT_VARIANT);
  const inputMsg = prepare(new TextEncoder().encode("ballot public key"));
  assert.equal(inputMsg.length, 32 + 17);
  const first = await blind(key, inputMsg);
  const second = await blind(key, inputMsg);
  assert.notEqual(bytesToHex(first.blindedMsg), bytesToHex(second.blindedMsg));
  const sig = await finalize(key, inputMsg, blindSign(v, first.blindedMsg), first.inv);
  assert.equal(await verify(key, inputMsg, sig), true);
  await assert.rejects(finalize(key, inputMsg, blindSign(v, first.blindedMsg), second.inv), /invalid signature/);
});

test("a signature under another key does not verify", async () => {
  const v = vectors[0];
  const other = await globalThis.crypto.subtle.generateKey(
    { name: "RSA-PSS", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-384" },
    true,
    ["sign", "verify"],
  );
  const otherJwk = await globalThis.crypto.subtle.exportKey("jwk", other.publicKey);
  const otherKey = await importPublicKey(otherJwk);
  assert.equal(await verify(otherKey, hexToBytes(v.input_msg), hexToBytes(v.sig)), false);
});

test("bad inputs raise clear errors", async () => {
  const v = vectors[0];
  const key = await importPublicKey(jwkOf(v));
  assert.throws(() => prepare(new Uint8Array(1), DEFAULT_VARIANT, new Uint8Array(5)), /prefix must be 32 bytes/);
  assert.throws(() => prepare(new Uint8Array(1), VARIANTS["RSABSSA-SHA384-PSS-Deterministic"], new Uint8Array(32)), /no message prefix/);
  await assert.rejects(blind(key, new Uint8Array(1), DEFAULT_VARIANT, { salt: new Uint8Array(3) }), /salt must be 48 bytes/);
  await assert.rejects(blind(key, new Uint8Array(1), DEFAULT_VARIANT, { r: big(v.p) }), /not invertible/);
  await assert.rejects(finalize(key, new Uint8Array(1), new Uint8Array(10), 1n), /blind signature must be 512 bytes/);
  await assert.rejects(importPublicKey("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"), BlindRSAError);
  const small = { kty: "RSA", n: b64url(bigIntToBytes((1n << 1023n) + 1n, 128)), e: "AQAB" };
  await assert.rejects(importPublicKey(small), /at least 2048 bits/);
});
