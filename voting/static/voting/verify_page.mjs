// Receipt check: every proof of a ballot receipt re-verified in this browser, plus whether the
// receipt's election context is one this city published.
import { verifyReceipt } from "./js/receipt.mjs";

const published = JSON.parse(document.getElementById("published-contexts").textContent);
const text = JSON.parse(document.getElementById("receipt-messages").textContent);
const form = document.getElementById("receipt-form");
const status = document.getElementById("receipt-status");
const list = document.getElementById("receipt-checks");

function addCheck(name, ok, detail) {
  const item = document.createElement("li");
  item.className = ok ? "check-ok" : "check-failed";
  item.textContent = `${ok ? "✔" : "✘"} ${name}: ${detail}`;
  list.append(item);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  list.replaceChildren();
  const file = document.getElementById("receipt-file").files[0];
  const raw = file ? await file.text() : document.getElementById("receipt-text").value;
  let receipt;
  try {
    receipt = JSON.parse(raw);
  } catch (err) {
    status.textContent = `${text.not_json} ${err.message}`;
    return;
  }
  const report = verifyReceipt(receipt);
  for (const check of report.checks) addCheck(check.name, check.ok, check.detail);
  const hash = receipt?.context?.extended_hash;
  const title = typeof hash === "string" ? published[hash] : undefined;
  addCheck(text.published_check, title !== undefined, title ?? text.not_published);
  status.textContent = report.ok && title !== undefined ? `${text.valid} ${report.trackingCode}` : text.invalid;
});
