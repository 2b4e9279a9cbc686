// The wallet page: create and bind a DID, back it up, and fetch eligibility tokens.
// Cryptography is in wallet_keys.mjs (Ed25519, JCS proofs, backup) and blind_rsa.mjs (RFC 9474),
// the server conversations in wallet_flows.mjs; this module only wires them to the page.

import * as keys from "./wallet_keys.mjs";
import { createAndBindDid, makeApi } from "./wallet_flows.mjs";
import { allRecords, getRecord, putRecord, putRecords } from "./wallet_store.mjs";
import { WalletTokenError, ensureEligibilityToken } from "./wallet_tokens.mjs";

const root = document.getElementById("wallet");
const statusBox = document.getElementById("wallet-status");
const text = JSON.parse(document.getElementById("wallet-messages").textContent);

function say(message, isError = false) {
  statusBox.hidden = false;
  statusBox.textContent = message;
  statusBox.classList.toggle("error", isError);
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

const api = makeApi({ csrfToken });

async function guarded(button, action) {
  if (button) button.disabled = true;
  say(text.working);
  try {
    await action();
  } catch (err) {
    say(`${text.error} ${err.message}`, true);
  } finally {
    if (button) button.disabled = false;
  }
}

async function showLocalDid() {
  const record = await getRecord("did");
  const bound = root.dataset.boundDid;
  document.getElementById("local-did").textContent = record ? record.did : text.none;
  if (!record && bound) say(text.noLocalKey, true);
  else if (record && bound && record.did !== bound) say(text.mismatch, true);
}

async function createAndBind(button) {
  if (root.dataset.boundDid && !window.confirm(text.confirmReplace)) return;
  await guarded(button, async () => {
    const previous = await getRecord("did");
    const saveKeepingOld = async (record) => {
      if (previous) await putRecord({ ...previous, id: `replaced:${previous.did}` });
      await putRecord(record);
    };
    await createAndBindDid(api, { challengeUrl: root.dataset.challengeUrl, bindUrl: root.dataset.bindUrl }, saveKeepingOld);
    say(text.bound);
    window.location.reload();
  });
}

function download(filename, data) {
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

async function exportBackup(event) {
  event.preventDefault();
  const passphrase = document.getElementById("export-passphrase").value;
  await guarded(event.submitter, async () => {
    const backup = await keys.encryptBackup(keys.walletToPayload(await allRecords()), passphrase);
    download("civic-wallet-backup.json", backup);
    event.target.reset();
    say(text.exported);
  });
}

async function importBackup(event) {
  event.preventDefault();
  const file = document.getElementById("import-file").files[0];
  const passphrase = document.getElementById("import-passphrase").value;
  await guarded(event.submitter, async () => {
    let records;
    try {
      if (!file || file.size > 1024 * 1024) throw new keys.WalletError("backup file missing or too large");
      records = keys.payloadToWallet(await keys.decryptBackup(JSON.parse(await file.text()), passphrase));
    } catch (err) {
      if (err instanceof SyntaxError || err instanceof keys.WalletError) throw new Error(`${text.badBackup} (${err.message})`);
      throw err;
    }
    // Restoring never destroys a key: a different DID key held here is kept as replaced, and
    // a ballot key that already carries its token is not swapped for the backup's older copy.
    const held = await getRecord("did");
    const incoming = records.find((record) => record.id === "did");
    if (held && incoming && held.did !== incoming.did) records.push({ ...held, id: `replaced:${held.did}` });
    await putRecords(records, (existing, record) => Boolean(existing?.token) && !record.token);
    event.target.reset();
    say(text.restored);
    await showLocalDid();
  });
}

async function getToken(button) {
  await guarded(button, async () => {
    try {
      await ensureEligibilityToken(api, { ...button.dataset }, root.dataset.boundDid);
    } catch (err) {
      if (err instanceof WalletTokenError) {
        throw new Error(err.code === "no_credential" ? text.noCredential : text.mismatch);
      }
      if (err.code === "no_district_key") throw new Error(text.noDistrictKey);
      if (err.code === "token_already_issued") throw new Error(text.alreadyIssued);
      throw err;
    }
    button.replaceWith(document.createTextNode(text.tokenDone));
    say(text.tokenDone);
  });
}

document.getElementById("create-did").addEventListener("click", (event) => createAndBind(event.currentTarget));
document.getElementById("export-form").addEventListener("submit", exportBackup);
document.getElementById("import-form").addEventListener("submit", importBackup);
for (const button of document.querySelectorAll("button.get-token")) {
  button.addEventListener("click", () => getToken(button));
}
showLocalDid().catch((err) => say(`${text.error} ${err.message}`, true));
