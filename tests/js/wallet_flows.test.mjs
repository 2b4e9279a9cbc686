// The wallet picks the eligibility key it blinds under (run: node --test tests/js/).
import { test } from "node:test";
import assert from "node:assert/strict";

import { pickEligibilityKey } from "../../identity/static/identity/js/wallet_flows.mjs";

const credential = (district) => ({ credentialSubject: { id: "did:key:z6Mk", district } });
const key = (district, keyId) => ({ district, key_id: keyId, variant: "RSABSSA-SHA384-PSS-Randomized", public_key_pem: `PEM ${keyId}` });

test("a one-key election: its key, whatever the credential's district", () => {
  const only = key(null, "aa");
  assert.deepEqual(pickEligibilityKey({ keys: [only], ...only }, credential("north")), only);
});

test("the old single-key shape without a list still works", () => {
  const old = { key_id: "aa", variant: "RSABSSA-SHA384-PSS-Randomized", public_key_pem: "PEM aa" };
  assert.equal(pickEligibilityKey(old, credential("north")).key_id, "aa");
});

test("a city-wide election: the key of the credential's district", () => {
  const published = { keys: [key("north", "n1"), key("south", "s1")] };
  assert.equal(pickEligibilityKey(published, credential("south")).key_id, "s1");
  assert.equal(pickEligibilityKey(published, credential("north")).key_id, "n1");
  assert.throws(() => pickEligibilityKey(published, credential("east")), (err) => err.code === "no_district_key" && /district east/.test(err.message));
});
