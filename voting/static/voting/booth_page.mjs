// The booth page: read the voter's choices, have the worker encrypt them with all proofs, show
// the tracking code, and let the voter audit (Benaloh challenge) or download the receipt.
import { startBoothEngine } from "./booth_client.mjs";

const form = document.getElementById("booth-form");
const context = JSON.parse(document.getElementById("election-context").textContent);
const text = JSON.parse(document.getElementById("booth-messages").textContent);
const $ = (id) => document.getElementById(id);
const engine = startBoothEngine(form.dataset.worker, new URL("./js/booth_worker.mjs", import.meta.url).href);
let current = null;

engine.request({ type: "prepare", context }).catch(() => {
  /* preparing only warms tables; a real problem shows on encryption */
});

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

function showError(message) {
  $("booth-error").textContent = message;
  $("booth-error").hidden = false;
}

function setBusy(busy) {
  for (const button of document.querySelectorAll("button")) button.disabled = busy;
  $("booth-progress").hidden = !busy;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  $("booth-error").hidden = true;
  $("audit-result").hidden = true;
  let selections;
  try {
    selections = readSelections();
  } catch (err) {
    showError(err.message);
    return;
  }
  setBusy(true);
  $("booth-status").textContent = text.encrypting;
  const progress = (done, total) => {
    $("progress-bar").max = total;
    $("progress-bar").value = done;
  };
  try {
    const reply = await engine.request(
      { type: "encrypt", context, ballot_id: randomBallotId(), selections },
      progress,
    );
    current = { ballot: reply.ballot, seed: reply.seed, selections, trackingCode: reply.tracking_code };
    $("tracking-code").textContent = reply.tracking_code;
    form.hidden = true;
    $("booth-result").hidden = false;
    $("booth-status").textContent = text.encrypted;
    $("result-heading").focus();
  } catch (err) {
    showError(`${text.not_encrypted} ${err.message}`);
    $("booth-status").textContent = "";
  } finally {
    setBusy(false);
  }
});

$("audit-button").addEventListener("click", async () => {
  if (current === null) return;
  setBusy(true);
  $("booth-status").textContent = text.auditing;
  try {
    const reply = await engine.request({ type: "challenge", context, ballot: current.ballot, seed: current.seed, selections: current.selections });
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
    $("audit-result").hidden = false;
    $("booth-result").hidden = true;
    form.hidden = false;
    current = null; // the seed is revealed: this ballot can never be cast
    $("booth-status").textContent = text.audited;
    $("audit-heading").focus();
  } catch (err) {
    showError(err.message);
  } finally {
    setBusy(false);
  }
});

$("download-button").addEventListener("click", () => {
  if (current === null) return;
  const receipt = { context, ballot: current.ballot, tracking_code: current.trackingCode };
  const blob = new Blob([JSON.stringify(receipt, null, 2)], { type: "application/json" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `ballot-receipt-${form.dataset.election}.json`;
  link.click();
  URL.revokeObjectURL(link.href);
});

$("restart-button").addEventListener("click", () => {
  current = null;
  $("booth-result").hidden = true;
  form.hidden = false;
  $("booth-status").textContent = "";
});
