// The booth page: read the voter's choices, have the worker encrypt them with all proofs, show
// the tracking code; then either check the encryption (Benaloh audit: reveal, verify, show, and
// publish the challenged ballot as spoiled) and encrypt afresh, or cast it (docs/protocol.md
// §13.2) with the wallet's ballot key and token, show the receipt, and verify in this browser
// that the public ledger includes it (inclusion.mjs) once the observers witnessed it.
import { startBoothEngine } from "./booth_client.mjs";
import { verifyBallotInclusion } from "./js/inclusion.mjs";
import { ballotSha256 } from "./js/receipt.mjs";
import { CAST_CONTEXT, SPOIL_CONTEXT, signWithBallotKey } from "../identity/js/wallet_keys.mjs";
import { makeApi } from "../identity/js/wallet_flows.mjs";
import { WalletTokenError, ensureEligibilityToken } from "../identity/js/wallet_tokens.mjs";

const form = document.getElementById("booth-form");
const context = JSON.parse(document.getElementById("election-context").textContent);
const text = JSON.parse(document.getElementById("booth-messages").textContent);
const config = JSON.parse(document.getElementById("booth-config").textContent);
const $ = (id) => document.getElementById(id);
const engine = startBoothEngine(form.dataset.worker, new URL("./js/booth_worker.mjs", import.meta.url).href);
// Inclusion polling: bounded, with backoff (the sequencer runs within seconds, witnessing after).
const POLL_DELAYS_MS = [0, 500, 1000, 2000, 4000, 8000, 15000, 30000];
let current = null; // the encrypted ballot on show: {ballot, seed, selections, trackingCode}
let castReceipt = null; // the receipt file after casting: {context, ballot, tracking_code, cast, ledger_receipt?}
let ballotKey = null; // the wallet's ballot record for this election, once fetched

engine.request({ type: "prepare", context }).catch(() => {
  /* preparing only warms tables; a real problem shows on encryption */
});

const fill = (template, values) => template.replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/** The wallet's token requests: same origin, session and CSRF, as on the wallet page. */
const walletApi = makeApi({ csrfToken });

/** The ballot box: anonymous by design, so no cookie goes along (credentials: "omit"); its
 * refusals come in the page's language (Accept-Language, as the language cookie stays home). */
async function box(url, body = undefined) {
  let response;
  try {
    response = await fetch(url, {
      method: body === undefined ? "GET" : "POST",
      credentials: "omit",
      headers: { "Content-Type": "application/json", Accept: "application/json", "Accept-Language": document.documentElement.lang },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new Error(text.unreachable);
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(typeof data.detail === "string" ? data.detail : (data.error ?? String(response.status)));
    error.status = response.status;
    error.code = data.error;
    throw error;
  }
  return data;
}

function randomBallotId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return "b-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function readSelections() {
  const selections = {};
  for (const fieldset of form.querySelectorAll("fieldset[data-contest-id]")) {
    const picks = {};
    for (const input of fieldset.querySelectorAll("input[data-option-id]")) {
      if (input.type === "radio" || input.type === "checkbox") {
        if (input.checked) picks[input.dataset.optionId] = 1;
      } else {
        const value = Number(input.value || "0");
        if (!Number.isInteger(value) || value < 0) throw new RangeError(text.whole_number);
        if (value > 0) picks[input.dataset.optionId] = value;
      }
    }
    selections[fieldset.dataset.contestId] = picks;
  }
  return selections;
}

const say = (message) => {
  $("booth-status").textContent = message;
};

function showError(message) {
  $("booth-error").textContent = message;
  $("booth-error").hidden = false;
}

function clearError() {
  $("booth-error").hidden = true;
  $("booth-error").textContent = "";
}

function setBusy(busy, { progress = false } = {}) {
  for (const button of document.querySelectorAll("main button")) button.disabled = busy;
  $("booth-progress").hidden = !(busy && progress);
  if (!busy) updateCastButton();
}

function updateCastButton() {
  $("cast-button").disabled = !config.open || config.token === null;
}

/** Show one section and move focus to its heading (keyboard and screen reader users land there). */
function reveal(sectionId, headingId) {
  $(sectionId).hidden = false;
  $(headingId).focus();
}

/** A translated sentence for why the wallet could not give a token. */
function tokenProblem(err) {
  if (err instanceof WalletTokenError) return text[err.code] ?? err.message;
  if (err.code === "token_already_issued") return text.already_issued;
  return err.message;
}

/** The wallet's ballot key and token for this election: held here, or fetched now. */
async function ballotRecord() {
  if (ballotKey !== null) return ballotKey;
  if (config.token === null) throw new Error(text.not_signed_in);
  say(text.getting_token);
  try {
    ballotKey = (await ensureEligibilityToken(walletApi, config.token, config.boundDid)).record;
  } catch (err) {
    throw new Error(tokenProblem(err));
  }
  return ballotKey;
}

function download(filename, data) {
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

// ---- encrypt ---------------------------------------------------------------------------------

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearError();
  $("audit-result").hidden = true;
  let selections;
  try {
    selections = readSelections();
  } catch (err) {
    showError(err.message);
    return;
  }
  setBusy(true, { progress: true });
  say(text.encrypting);
  const progress = (done, total) => {
    $("progress-bar").max = total;
    $("progress-bar").value = done;
  };
  try {
    const reply = await engine.request({ type: "encrypt", context, ballot_id: randomBallotId(), selections }, progress);
    current = { ballot: reply.ballot, seed: reply.seed, selections, trackingCode: reply.tracking_code };
    $("tracking-code").textContent = reply.tracking_code;
    form.hidden = true;
    setBusy(false);
    say(text.encrypted);
    reveal("booth-result", "result-heading");
  } catch (err) {
    setBusy(false);
    showError(`${text.not_encrypted} ${err.message}`);
    say("");
  }
});

// ---- check this encryption (Benaloh audit) -----------------------------------------------------

async function publishSpoiled(challenged) {
  if (config.token === null || !config.open) return text.no_token;
  try {
    const record = await ballotRecord();
    say(text.spoiling);
    const answer = await box(config.spoiledUrl, {
      challenged,
      ballot_key: record.publicKey,
      token: record.token,
      signature: signWithBallotKey(record.secretKey, SPOIL_CONTEXT, config.slug, challenged),
    });
    return `${text.spoiled} ${answer.tracking_code}`;
  } catch (err) {
    showError(`${text.not_spoiled} ${err.message}`);
    return "";
  }
}

$("audit-button").addEventListener("click", async () => {
  if (current === null) return;
  clearError();
  setBusy(true);
  say(text.auditing);
  try {
    const reply = await engine.request({ type: "challenge", context, ballot: current.ballot, seed: current.seed, selections: current.selections });
    current = null; // the seed is revealed: this ballot can never be cast
    const rows = $("audit-rows");
    rows.replaceChildren();
    const opened = reply.opened ?? {};
    for (const contest of context.manifest.contests) {
      for (const option of contest.options) {
        const row = rows.insertRow();
        row.insertCell().textContent = contest.title;
        row.insertCell().textContent = option.title;
        row.insertCell().textContent = String(opened[contest.id]?.[option.id] ?? 0);
      }
    }
    $("audit-verdict").textContent = reply.matches ? text.audit_ok : `${text.audit_bad} ${reply.problem}`;
    $("audit-verdict").className = reply.matches ? "message success" : "message error";
    $("spoil-outcome").textContent = await publishSpoiled(reply.challenged);
    $("booth-result").hidden = true;
    form.hidden = false;
    setBusy(false);
    say(text.audited);
    reveal("audit-result", "audit-heading");
  } catch (err) {
    setBusy(false);
    showError(err.message);
  }
});

// ---- cast ------------------------------------------------------------------------------------

$("cast-button").addEventListener("click", async () => {
  if (current === null) return;
  clearError();
  setBusy(true);
  try {
    const record = await ballotRecord();
    say(text.casting);
    const { ballot, trackingCode } = current;
    const cast = await box(config.ballotsUrl, {
      ballot,
      ballot_key: record.publicKey,
      token: record.token,
      signature: signWithBallotKey(record.secretKey, CAST_CONTEXT, config.slug, ballot),
    });
    if (cast.tracking_code !== trackingCode || cast.ballot_sha256 !== ballotSha256(ballot)) throw new Error(text.mismatch);
    castReceipt = { context, ballot, tracking_code: trackingCode, cast };
    current = null;
    showCast(cast);
    setBusy(false);
    say(text.cast);
    reveal("cast-result", "cast-heading");
    followInclusion();
  } catch (err) {
    setBusy(false);
    say("");
    showError(`${text.not_cast} ${err.message}`);
  }
});

function showCast(cast) {
  $("booth-result").hidden = true;
  $("audit-result").hidden = true;
  $("cast-code").textContent = cast.tracking_code;
  $("cast-status").textContent = text[`status_${cast.status}`] ?? cast.status;
  $("cast-position").textContent = cast.position ? String(cast.position.index) : "—";
}

// ---- inclusion in the ledger -----------------------------------------------------------------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll GET /ballots/<code> until a witnessed checkpoint covers the ballot (or give up). */
async function followInclusion() {
  const code = castReceipt.tracking_code;
  $("inclusion-result").hidden = false;
  $("recheck-button").hidden = true;
  $("inclusion-verdict").textContent = text.waiting;
  let tracked = null;
  for (const delay of POLL_DELAYS_MS) {
    await sleep(delay);
    try {
      tracked = await box(`${config.ballotsUrl}/${encodeURIComponent(code)}`);
    } catch (err) {
      tracked = null;
      if (err.status === undefined || err.status >= 500) continue; // unreachable: try again
      showError(`${text.fetch_failed} ${err.message}`);
      break;
    }
    if (tracked.position) $("cast-position").textContent = String(tracked.position.index);
    $("cast-status").textContent = text[`status_${tracked.status}`] ?? tracked.status;
    if (tracked.witnessed && tracked.ledger_receipt) break;
    // Said once the first look found no witnessed checkpoint ("cast" stays audible until then).
    if ($("booth-status").textContent !== text.waiting) say(text.waiting);
  }
  if (!tracked?.witnessed || !tracked.ledger_receipt) {
    $("inclusion-verdict").textContent = text.not_yet;
    $("recheck-button").hidden = false;
    say(text.not_yet);
    return;
  }
  await showInclusion(tracked);
}

async function showInclusion(tracked) {
  say(text.verifying);
  await sleep(0); // let the announcement and the page update before the checks take the thread
  const report = verifyBallotInclusion(tracked.ledger_receipt, {
    kind: "ballot.cast",
    trackingCode: castReceipt.tracking_code,
    ballotSha256: castReceipt.cast.ballot_sha256,
    election: config.slug,
  });
  const list = $("inclusion-checks");
  list.replaceChildren();
  for (const check of report.checks) {
    const item = document.createElement("li");
    item.className = check.ok ? "check-ok" : "check-failed";
    item.textContent = `${check.ok ? "✔" : "✘"} ${text.checks?.[check.name] ?? check.name}: ${check.detail}`;
    list.append(item);
  }
  $("inclusion-result").dataset.verified = String(report.ok);
  $("inclusion-verdict").textContent = report.ok ? text.verified : text.not_verified;
  $("inclusion-verdict").className = report.ok ? "message success" : "message error";
  $("inclusion-position").textContent = fill(text.position, { index: report.position, log: tracked.log });
  $("inclusion-checkpoint").textContent = report.checkpoint ? fill(text.checkpoint, { size: report.checkpoint.size, root: report.checkpoint.root_hash }) : "";
  const anchor = report.anchor;
  $("inclusion-anchor").textContent = anchor
    ? fill(text.anchor, { chain: anchor.chain_id, tx: anchor.transaction_hash, block: anchor.block_number })
    : text.no_anchor;
  if (report.ok) {
    castReceipt = { ...castReceipt, ledger_receipt: tracked.ledger_receipt };
    $("full-download").hidden = false;
  } else {
    showError(text.not_verified);
  }
  say(report.ok ? text.verified : text.not_verified);
  $("inclusion-heading").focus();
}

// ---- downloads and restart -------------------------------------------------------------------

$("download-button").addEventListener("click", () => {
  if (current === null) return;
  download(`ballot-receipt-${config.slug}.json`, { context, ballot: current.ballot, tracking_code: current.trackingCode });
});

$("cast-download").addEventListener("click", () => {
  if (castReceipt === null) return;
  download(`ballot-receipt-${config.slug}.json`, castReceipt);
});

$("full-download").addEventListener("click", () => {
  if (castReceipt?.ledger_receipt === undefined) return;
  download(`ballot-receipt-${config.slug}.json`, castReceipt);
});

$("recheck-button").addEventListener("click", () => {
  if (castReceipt !== null) followInclusion();
});

$("restart-button").addEventListener("click", () => {
  current = null;
  $("booth-result").hidden = true;
  form.hidden = false;
  say("");
  form.querySelector("input, select, textarea")?.focus();
});

updateCastButton();
