// The booth in Chromium: pick choices, encrypt in the Web Worker (with progress), download the
// receipt, audit (Benaloh challenge) the ballot, check the receipt on the receipt page; an
// over-budget choice is refused without a ballot.
import { downloadText, main, newSession } from "./lib.mjs";

await main(async (browser, input, step) => {
  const { page, log } = await newSession(browser, input);

  step("open the booth");
  await page.goto(`/voting/${input.slug}/booth/`);
  const headings = await page.locator("h1").count();

  step("refuse an over-budget ballot");
  await page.getByLabel(input.answer, { exact: true }).check();
  for (const label of input.overBudget) await page.getByLabel(label).check();
  await page.getByRole("button", { name: "Encrypt my ballot" }).click();
  await page.locator("#booth-error").waitFor({ state: "visible" });
  const overBudgetError = await page.locator("#booth-error").textContent();
  const resultHiddenAfterError = await page.locator("#booth-result").isHidden();
  for (const label of input.overBudget) await page.getByLabel(label).uncheck();

  step("encrypt the chosen ballot");
  for (const label of input.choose) await page.getByLabel(label).check();
  await page.getByRole("button", { name: "Encrypt my ballot" }).click();
  await page.locator("#booth-result").waitFor({ state: "visible" });
  const trackingCode = await page.locator("#tracking-code").textContent();
  const progress = { value: await page.locator("#progress-bar").getAttribute("value"), max: await page.locator("#progress-bar").getAttribute("max") };
  const workerLoaded = log.requests.some((r) => r.url.includes("/static/voting/build/booth_worker.js"));
  const choicesSent = log.requests.filter((r) => r.method === "POST").length;

  step("download the receipt");
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download the receipt" }).click()]);
  const receipt = await downloadText(download);

  step("audit the ballot");
  await page.getByRole("button", { name: "Check this encryption" }).click();
  await page.locator("#audit-result").waitFor({ state: "visible" });
  const auditVerdict = await page.locator("#audit-verdict").textContent();
  const auditRows = await page.locator("#audit-rows tr").evaluateAll((rows) => rows.map((row) => Array.from(row.cells, (c) => c.textContent)));
  const formBack = await page.locator("#booth-form").isVisible();

  step("check the receipt on the receipt page");
  await page.goto("/voting/verify/");
  await page.getByLabel("Or paste the receipt").fill(receipt);
  await page.getByRole("button", { name: "Check the receipt" }).click();
  await page.locator("#receipt-checks li").first().waitFor();
  const receiptStatus = await page.locator("#receipt-status").textContent();
  const receiptChecks = await page.locator("#receipt-checks li").allTextContents();

  step("a tampered receipt fails");
  const tampered = JSON.parse(receipt);
  tampered.tracking_code = "0000-0000";
  await page.getByLabel("Or paste the receipt").fill(JSON.stringify(tampered));
  await page.getByRole("button", { name: "Check the receipt" }).click();
  await page.waitForFunction(() => document.querySelector("#receipt-status").textContent.includes("NOT"));
  const tamperedStatus = await page.locator("#receipt-status").textContent();

  return {
    headings, overBudgetError, resultHiddenAfterError, trackingCode, progress, workerLoaded, choicesSent,
    receipt, auditVerdict, auditRows, formBack, receiptStatus, receiptChecks, tamperedStatus,
    consoleErrors: log.consoleErrors,
  };
});
