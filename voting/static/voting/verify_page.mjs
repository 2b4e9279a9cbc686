// Receipt check: every proof of a ballot receipt re-verified in this browser, plus whether the
// receipt's election context is one this city published. For a cast ballot (the receipt has
// "cast") the ballot's current inclusion proof is fetched from GET /ballots/<code> and verified
// here the same way as the one the receipt carries (inclusion.mjs).
import { verifyBallotInclusion } from "./js/inclusion.mjs";
import { ballotSha256, verifyReceipt } from "./js/receipt.mjs";

const published = JSON.parse(document.getElementById("published-contexts").textContent);
const text = JSON.parse(document.getElementById("receipt-messages").textContent);
const form = document.getElementById("receipt-form");
const $ = (id) => document.getElementById(id);
const status = $("receipt-status");
const fill = (template, values) => template.replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));

function addCheck(list, name, ok, detail) {
  const item = document.createElement("li");
  item.className = ok ? "check-ok" : "check-failed";
  item.textContent = `${ok ? "✔" : "✘"} ${text.checks?.[name] ?? name}: ${detail}`;
  list.append(item);
}

function showError(message) {
  $("receipt-error").textContent = message;
  $("receipt-error").hidden = false;
}

/** The ballot box's current answer for this code (anonymous: no cookie goes along). */
async function fetchTracked(slug, code) {
  const url = `${form.dataset.ballotsUrl.replace("__slug__", encodeURIComponent(slug))}/${encodeURIComponent(code)}`;
  let response;
  try {
    response = await fetch(url, { credentials: "omit", headers: { Accept: "application/json", "Accept-Language": document.documentElement.lang } });
  } catch (err) {
    throw new Error(err.message);
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(typeof data.detail === "string" ? data.detail : String(data.error ?? response.status));
  return data;
}

/** Show the ballot's status today and verify the ledger's current proof: "ok", "pending" (no
 * witnessed checkpoint holds it yet: nothing is wrong) or "failed". */
async function checkCurrentInclusion(receipt, trackingCode) {
  $("receipt-ledger").hidden = false;
  const list = $("ledger-checks");
  status.textContent = text.verifying;
  let tracked;
  try {
    tracked = await fetchTracked(receipt.cast.election, trackingCode);
  } catch (err) {
    showError(`${text.fetch_failed} ${err.message}`);
    addCheck(list, text.current_proof, false, err.message);
    return "failed";
  }
  $("ledger-status").textContent = text[`status_${tracked.status}`] ?? tracked.status;
  $("receipt-ledger").dataset.status = tracked.status;
  $("ledger-position").textContent = tracked.position ? fill(text.position, { index: tracked.position.index, log: tracked.log }) : "—";
  if (!tracked.ledger_receipt || !tracked.witnessed) {
    $("ledger-checkpoint").textContent = text.not_yet;
    $("ledger-anchor").textContent = text.no_anchor;
    return "pending";
  }
  const report = verifyBallotInclusion(tracked.ledger_receipt, {
    kind: "ballot.cast",
    trackingCode,
    ballotSha256: ballotSha256(receipt.ballot),
    election: receipt.cast.election,
  });
  for (const check of report.checks) addCheck(list, check.name, check.ok, check.detail);
  $("ledger-checkpoint").textContent = report.checkpoint ? fill(text.checkpoint, { size: report.checkpoint.size, root: report.checkpoint.root_hash }) : "—";
  const anchor = report.anchor;
  $("ledger-anchor").textContent = anchor
    ? fill(text.anchor, { chain: anchor.chain_id, tx: anchor.transaction_hash, block: anchor.block_number })
    : text.no_anchor;
  if (!report.ok) showError(text.not_verified);
  return report.ok ? "ok" : "failed";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  $("receipt-error").hidden = true;
  $("receipt-ledger").hidden = true;
  $("receipt-checks").replaceChildren();
  $("ledger-checks").replaceChildren();
  const file = $("receipt-file").files[0];
  const raw = file ? await file.text() : $("receipt-text").value;
  let receipt;
  try {
    receipt = JSON.parse(raw);
  } catch (err) {
    status.textContent = `${text.not_json} ${err.message}`;
    showError(`${text.not_json} ${err.message}`);
    return;
  }
  status.textContent = text.checking;
  $("receipt-result").hidden = false;
  $("receipt-heading").focus();
  // Let the status and the heading render before the proofs keep the main thread busy.
  await new Promise((resolve) => setTimeout(resolve, 0));
  const report = verifyReceipt(receipt);
  const list = $("receipt-checks");
  for (const check of report.checks) addCheck(list, check.name, check.ok, check.detail);
  const hash = receipt?.context?.extended_hash;
  const title = typeof hash === "string" ? published[hash] : undefined;
  addCheck(list, text.published_check, title !== undefined, title ?? text.not_published);
  let ok = report.ok && title !== undefined;
  let inclusion = "ok";
  if (ok && Object.hasOwn(receipt, "cast")) inclusion = await checkCurrentInclusion(receipt, report.trackingCode);
  ok = ok && inclusion !== "failed";
  status.textContent = ok ? `${text.valid} ${report.trackingCode}${inclusion === "pending" ? ` ${text.not_yet}` : ""}` : text.invalid;
  if (!ok && $("receipt-error").hidden) showError(text.invalid);
});
