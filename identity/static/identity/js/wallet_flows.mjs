// The wallet's conversations with the server, free of any DOM so Node can run them against a
// live Django server in the tests: bind a fresh DID, and get an eligibility token.
//
// `api(url, body?, method?)` does the HTTP (same-origin fetch with the CSRF header in the
// browser); `save(record)` keeps a record (IndexedDB in the browser).

import * as keys from "./wallet_keys.mjs";
import * as blindRsa from "./blind_rsa.mjs";

/** A JSON fetcher that throws Error(detail) on any non-2xx answer. */
export function makeApi({ baseUrl = "", fetchImpl = globalThis.fetch, csrfToken = () => "", headers = {} } = {}) {
  return async function api(url, body = undefined, method = body === undefined ? "GET" : "POST") {
    const response = await fetchImpl(baseUrl + url, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), Accept: "application/json", ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const detail = typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail ?? data);
      const error = new Error(detail);
      error.status = response.status;
      error.code = data.error;
      throw error;
    }
    return data;
  };
}

/** Make a key pair here, prove possession over the server's challenge, and keep the key. */
export async function createAndBindDid(api, { challengeUrl, bindUrl }, save) {
  const key = keys.generateDidKey();
  const challenge = await api(challengeUrl, {});
  const signature = keys.signBinding(key.secretKey, key.did, challenge.challenge, challenge.domain);
  await api(bindUrl, { did: key.did, challenge: challenge.challenge, signature });
  const record = { id: "did", did: key.did, secretKey: key.secretKey, created: new Date().toISOString() };
  await save(record);
  return record;
}

/**
 * RFC 9474 eligibility token: fresh ballot key, blinded token message, presentation of the
 * residency credential bound to the server's challenge, then unblind and check the signature.
 * The ballot key is saved before the request, so a lost answer never loses the key.
 */
/**
 * The published key this wallet blinds under: the election's one key, or (a city-wide election
 * with one key per district) the key of the credential's district.
 */
export function pickEligibilityKey(published, credential) {
  const list = Array.isArray(published.keys) && published.keys.length
    ? published.keys
    : [{ district: null, key_id: published.key_id, variant: published.variant, public_key_pem: published.public_key_pem }];
  if (list.length === 1) return list[0];
  const district = credential?.credentialSubject?.district;
  const found = list.find((k) => k.district === district);
  if (!found) {
    const error = new Error(`no eligibility key for the district ${district}`);
    error.code = "no_district_key"; // the page shows its translated text for this code
    throw error;
  }
  return found;
}

export async function requestEligibilityToken(api, { slug, keyUrl, challengeUrl, tokenUrl, credentialUrl }, didRecord, save) {
  const credential = await api(credentialUrl);
  const published = pickEligibilityKey(await api(keyUrl), credential);
  const variant = blindRsa.VARIANTS[published.variant];
  if (!variant) throw new Error(`unknown blind signature variant ${published.variant}`);
  const publicKey = await blindRsa.importPublicKey(published.public_key_pem, variant);

  const ballot = keys.generateBallotKey();
  const inputMsg = blindRsa.prepare(keys.tokenMessage(slug, ballot.publicKey), variant);
  const { blindedMsg, inv } = await blindRsa.blind(publicKey, inputMsg);
  const record = { id: `ballot:${slug}`, election: slug, secretKey: ballot.secretKey, publicKey: keys.bytesToBase64url(ballot.publicKey) };
  await save(record);

  const challenge = await api(challengeUrl, {});
  const presentation = keys.signPresentation([credential], didRecord.secretKey, didRecord.did, challenge);
  const answer = await api(tokenUrl, { blinded_message: keys.bytesToBase64url(blindedMsg), presentation, key_id: published.key_id });
  const signature = await blindRsa.finalize(publicKey, inputMsg, keys.base64urlToBytes(answer.blind_signature), inv);
  const done = {
    ...record,
    token: { key_id: answer.key_id, prefix: keys.bytesToBase64url(inputMsg.slice(0, 32)), signature: keys.bytesToBase64url(signature) },
  };
  await save(done);
  return done;
}
