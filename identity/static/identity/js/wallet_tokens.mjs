// The wallet's voting tokens, one module for every page that needs one (the wallet page and the
// booth): the ballot key and token this browser already holds for an election, or a fresh pair
// fetched through wallet_flows.requestEligibilityToken, the one place that picks the election's
// eligibility key. No DOM here; records live in IndexedDB (wallet_store.mjs).

import { requestEligibilityToken } from "./wallet_flows.mjs";
import { getRecord, putRecordUnless } from "./wallet_store.mjs";

/** Why no token could be had, as a code each page turns into its own translated sentence. */
export class WalletTokenError extends Error {
  constructor(code) {
    super(code);
    this.name = "WalletTokenError";
    this.code = code; // "no_local_did" | "did_mismatch" | "no_credential"
  }
}

/** Raised by saveBallot when this browser already holds the election's token. */
export class TokenAlreadyHeld extends Error {}

/**
 * Keep a ballot record, but never overwrite one that carries a token: another tab (or a page
 * loaded before the token came) would otherwise replace the voter's only token with a bare key.
 */
export async function saveBallot(record) {
  if (!(await putRecordUnless(record, (held) => Boolean(held?.token)))) {
    throw new TokenAlreadyHeld();
  }
}

/** The record "ballot:<slug>" when it carries its token (ready to cast), else null. */
export async function heldToken(slug) {
  const record = await getRecord(`ballot:${slug}`);
  return record?.token ? record : null;
}

/**
 * The election's ballot key and token: {record, fetched}. The one this browser holds if any;
 * otherwise the DID key held here (it must be the DID bound to the account, `boundDid`)
 * presents the residency credential at `urls.credentialUrl` and a fresh pair is fetched.
 * `urls` = {slug, keyUrl, challengeUrl, tokenUrl, credentialUrl}. A server refusal is thrown
 * as it came (err.code "token_already_issued" when another device got this election's token).
 */
export async function ensureEligibilityToken(api, urls, boundDid) {
  const held = await heldToken(urls.slug);
  if (held) return { record: held, fetched: false };
  const didRecord = await getRecord("did");
  if (!didRecord) throw new WalletTokenError("no_local_did");
  if (!boundDid || didRecord.did !== boundDid) throw new WalletTokenError("did_mismatch");
  if (!urls.credentialUrl) throw new WalletTokenError("no_credential");
  try {
    return { record: await requestEligibilityToken(api, urls, didRecord, saveBallot), fetched: true };
  } catch (err) {
    if (!(err instanceof TokenAlreadyHeld)) throw err;
    // Another tab got the token meanwhile; nothing was sent from here.
    return { record: await heldToken(urls.slug), fetched: false };
  }
}
