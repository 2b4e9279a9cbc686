// The booth and receipt pages (and the other public pages) under the strict Content-Security-
// Policy: every `securitypolicyviolation` event any page fires, and every console message that
// names the policy, is recorded while a citizen restores the wallet key, encrypts, checks the
// encryption, encrypts again, casts, sees the inclusion verified and re-checks the receipt.
import * as keys from "../../../identity/static/identity/js/wallet_keys.mjs";
import { logIn, main, openWallet, restoreBackup } from "./lib.mjs";

const BACKUP_ITERATIONS = 100000;

async function watchedContext(browser, input, violations, documents) {
  const context = await browser.newContext({ baseURL: input.base, locale: "en-GB", acceptDownloads: true });
  context.setDefaultTimeout(20000);
  await context.exposeBinding("reportCspViolation", ({ page }, v) => violations.push({ page: page.url(), ...v }));
  await context.addInitScript(() => {
    const report = (e) =>
      window.reportCspViolation({
        directive: e.effectiveDirective,
        blocked: e.blockedURI,
        source: e.sourceFile,
        line: e.lineNumber,
        sample: e.sample,
      });
    document.addEventListener("securitypolicyviolation", report);
  });
  context.on("console", (message) => {
    if (/Content.Security.Policy|Refused to (execute|load|apply|evaluate|connect|create)/i.test(message.text())) {
      violations.push({ page: message.location().url, console: message.text() });
    }
  });
  context.on("response", (response) => {
    if (response.request().resourceType() === "document") {
      documents.push({ url: response.url(), status: response.status(), csp: response.headers()["content-security-policy"] ?? null });
    }
  });
  return context;
}

async function restoreKey(page, citizen, passphrase) {
  const secretKey = Uint8Array.from(Buffer.from(citizen.secretKey, "hex"));
  const record = { id: "did", did: citizen.did, secretKey, created: new Date().toISOString() };
  const backup = await keys.encryptBackup(keys.walletToPayload([record]), passphrase, { iterations: BACKUP_ITERATIONS });
  const texts = await openWallet(page);
  const file = { name: "civic-wallet-backup.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(backup)) };
  return restoreBackup(page, file, passphrase, texts.restored);
}

await main(async (browser, input, step) => {
  const violations = [];
  const documents = [];
  const context = await watchedContext(browser, input, violations, documents);
  const page = await context.newPage();

  step("public pages");
  for (const path of ["/", "/voting/", "/ledger/", `/voting/${input.slug}/track/`, "/voting/verify/", "/api/docs/"]) {
    await page.goto(path, { waitUntil: "networkidle" });
  }
  step("log in and restore the wallet key");
  await logIn(page, input.citizen.username, input.password);
  const restored = await restoreKey(page, input.citizen, input.passphrase);

  step("booth: encrypt and check the encryption");
  await page.goto(`/voting/${input.slug}/booth/`);
  const importMapNonce = await page.evaluate(() => document.querySelector('script[type="importmap"]')?.nonce ?? null);
  await page.getByLabel("Option 1").check();
  await page.getByRole("button", { name: "Encrypt my ballot" }).click();
  await page.locator("#booth-result").waitFor({ state: "visible" });
  await page.getByRole("button", { name: "Check this encryption" }).click();
  await page.locator("#audit-result").waitFor({ state: "visible" });

  step("booth: encrypt afresh, cast, see the inclusion verified");
  await page.getByLabel("Option 3").check();
  await page.getByRole("button", { name: "Encrypt my ballot" }).click();
  await page.locator("#booth-result").waitFor({ state: "visible" });
  const code = (await page.locator("#tracking-code").textContent()).trim();
  await page.getByRole("button", { name: "Cast this ballot" }).click();
  await page.locator("#cast-result").waitFor({ state: "visible" });
  await page.waitForSelector("#inclusion-result[data-verified]", { timeout: 30000 });
  const verified = await page.locator("#inclusion-result").getAttribute("data-verified");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Download the complete receipt" }).click(),
  ]);
  const stream = await download.createReadStream();
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  const receipt = Buffer.concat(chunks).toString("utf8");

  step("receipt page: check the saved receipt");
  await page.goto("/voting/verify/");
  await page.getByLabel("Or paste the receipt").fill(receipt);
  await page.getByRole("button", { name: "Check the receipt" }).click();
  await page.waitForFunction(
    (valid) => document.getElementById("receipt-status").textContent.startsWith(valid),
    input.valid,
  );
  await page.waitForLoadState("networkidle");
  const receiptStatus = (await page.locator("#receipt-status").innerText()).trim();
  await page.goto(`/voting/${input.slug}/track/`, { waitUntil: "networkidle" });
  await context.close();
  return { restored, importMapNonce, code, verified, receiptStatus, violations, documents };
});
