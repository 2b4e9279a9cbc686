// The booth's whole cast flow in Chromium. A citizen restores their wallet key, encrypts, checks
// the encryption (the challenged ballot is published as spoiled), encrypts again, casts (the
// booth gets the voting token from the wallet module on the way), downloads the receipt, sees
// the inclusion verified, and checks the complete receipt on the receipt page; on another device
// the token is refused (part "pointer"). A second citizen casts with the keyboard only ("keyboard").
import * as keys from "../../../identity/static/identity/js/wallet_keys.mjs";
import { downloadText, logIn, main, newSession, openWallet, restoreBackup, walletOutcome, walletRecords, walletTexts } from "./lib.mjs";

const BACKUP_ITERATIONS = 100000; // the lowest the wallet accepts: keeps the test quick

async function restoreKey(page, citizen, passphrase) {
  const secretKey = Uint8Array.from(Buffer.from(citizen.secretKey, "hex"));
  const record = { id: "did", did: citizen.did, secretKey, created: new Date().toISOString() };
  const backup = await keys.encryptBackup(keys.walletToPayload([record]), passphrase, { iterations: BACKUP_ITERATIONS });
  const texts = await openWallet(page);
  const file = { name: "civic-wallet-backup.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(backup)) };
  return restoreBackup(page, file, passphrase, texts.restored);
}

const activeId = (page) => page.evaluate(() => document.activeElement?.id ?? "");

/** Press Tab until `selector` has the focus (at most 60 presses): keyboard-only navigation. */
async function tabTo(page, selector) {
  for (let i = 0; i < 60; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
    await page.keyboard.press("Tab");
  }
  throw new Error(`Tab never reached ${selector}`);
}

async function inclusionOutcome(page) {
  try {
    await page.waitForSelector("#inclusion-result[data-verified]", { timeout: 30000 });
  } catch (err) {
    const shown = await page.locator("main").innerText();
    throw new Error(`${err.message}\npage: ${shown}`);
  }
  return {
    verified: await page.locator("#inclusion-result").getAttribute("data-verified"),
    verdict: (await page.locator("#inclusion-verdict").innerText()).trim(),
    position: (await page.locator("#inclusion-position").innerText()).trim(),
    checkpoint: (await page.locator("#inclusion-checkpoint").innerText()).trim(),
    anchor: (await page.locator("#inclusion-anchor").innerText()).trim(),
    checks: await page.locator("#inclusion-checks li").allTextContents(),
    focus: await activeId(page),
    status: (await page.locator("#booth-status").innerText()).trim(),
  };
}

/** Record whether a cookie went along with each ballot box request (it must not). */
function watchBoxCookies(context, into) {
  context.on("request", async (request) => {
    if (!new URL(request.url()).pathname.includes("/ballots")) return;
    const headers = await request.allHeaders();
    into.push({ method: request.method(), url: request.url(), cookie: headers.cookie ?? null });
  });
}

/** The citizen with the mouse: check, cast, verify, receipt page, another device. */
async function pointerFlow(browser, input, step) {
  const texts = input.texts;
  const statusLog = [];
  const boxRequests = [];

  step("the first citizen restores their wallet key");
  const first = await newSession(browser, input);
  watchBoxCookies(first.context, boxRequests);
  const { page } = first;
  await logIn(page, input.first.username, input.password);
  const restored = await restoreKey(page, input.first, input.passphrase);
  const recordsBefore = await walletRecords(page);

  step("encrypt, then check the encryption");
  await page.goto(`/voting/${input.slug}/booth/`);
  await page.exposeFunction("recordStatus", (text) => statusLog.push(text));
  await page.evaluate(() => {
    const box = document.getElementById("booth-status");
    new MutationObserver(() => window.recordStatus(box.textContent)).observe(box, { childList: true, characterData: true, subtree: true });
  });
  await page.getByLabel("Option 1").check();
  await page.getByRole("button", { name: "Encrypt my ballot" }).click();
  await page.locator("#booth-result").waitFor({ state: "visible" });
  const checkedCode = (await page.locator("#tracking-code").textContent()).trim();
  const focusAfterEncrypt = await activeId(page);
  await page.getByRole("button", { name: "Check this encryption" }).click();
  await page.locator("#audit-result").waitFor({ state: "visible" });
  const audit = {
    verdict: (await page.locator("#audit-verdict").innerText()).trim(),
    spoiled: (await page.locator("#spoil-outcome").innerText()).trim(),
    focus: await activeId(page),
    formBack: await page.locator("#booth-form").isVisible(),
    error: await page.locator("#booth-error").isVisible(),
  };

  step("encrypt afresh and cast");
  await page.getByLabel("Option 3").check();
  await page.getByRole("button", { name: "Encrypt my ballot" }).click();
  await page.locator("#booth-result").waitFor({ state: "visible" });
  const castCode = (await page.locator("#tracking-code").textContent()).trim();
  await page.getByRole("button", { name: "Cast this ballot" }).click();
  await page.locator("#cast-result").waitFor({ state: "visible" });
  const cast = {
    code: (await page.locator("#cast-code").innerText()).trim(),
    status: (await page.locator("#cast-status").innerText()).trim(),
    focus: await activeId(page),
  };
  const [castDownload] = await Promise.all([page.waitForEvent("download"), page.locator("#cast-download").click()]);
  const castReceipt = await downloadText(castDownload);

  step("the inclusion is verified in the browser");
  const inclusion = await inclusionOutcome(page);
  const [fullDownload] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download the complete receipt" }).click()]);
  const fullReceipt = await downloadText(fullDownload);
  const recordsAfter = await walletRecords(page);

  step("the receipt page verifies the saved receipt, inclusion included");
  await page.goto("/voting/verify/");
  await page.getByLabel("Or paste the receipt").fill(fullReceipt);
  await page.getByRole("button", { name: "Check the receipt" }).click();
  await page.waitForFunction(
    ({ valid, invalid }) => {
      const shown = document.getElementById("receipt-status").textContent;
      return shown.startsWith(valid) || shown === invalid;
    },
    { valid: texts.valid, invalid: texts.invalid },
  );
  const verifyPage = {
    status: (await page.locator("#receipt-status").innerText()).trim(),
    checks: await page.locator("#receipt-checks li").allTextContents(),
    ledgerChecks: await page.locator("#ledger-checks li").allTextContents(),
    ledgerStatus: await page.locator("#receipt-ledger").getAttribute("data-status"),
    position: (await page.locator("#ledger-position").innerText()).trim(),
    checkpoint: (await page.locator("#ledger-checkpoint").innerText()).trim(),
    anchor: (await page.locator("#ledger-anchor").innerText()).trim(),
    focus: await activeId(page),
  };
  step("a receipt whose cast answer names another ballot fails");
  const forged = JSON.parse(fullReceipt);
  forged.cast.ballot_sha256 = "00".repeat(32);
  await page.getByLabel("Or paste the receipt").fill(JSON.stringify(forged));
  await page.getByRole("button", { name: "Check the receipt" }).click();
  await page.waitForFunction((invalid) => document.getElementById("receipt-status").textContent === invalid, texts.invalid);
  const forgedChecks = await page.locator("#receipt-checks li").allTextContents();
  const forgedAlert = (await page.locator("#receipt-error").innerText()).trim();

  step("the first citizen on another device: the token went to the first one");
  const device = await newSession(browser, input);
  await logIn(device.page, input.first.username, input.password);
  await restoreKey(device.page, input.first, input.passphrase);
  await device.page.goto(`/voting/${input.slug}/booth/`);
  await device.page.getByLabel("Option 2").check();
  await device.page.getByRole("button", { name: "Encrypt my ballot" }).click();
  await device.page.locator("#booth-result").waitFor({ state: "visible" });
  await device.page.getByRole("button", { name: "Cast this ballot" }).click();
  await device.page.locator("#booth-error").waitFor({ state: "visible" });
  const refused = {
    alert: (await device.page.locator("#booth-error").innerText()).trim(),
    role: await device.page.locator("#booth-error").getAttribute("role"),
    castHidden: await device.page.locator("#cast-result").isHidden(),
    consoleErrors: device.log.consoleErrors,
  };
  await device.context.close();

  return {
    restored,
    recordsBefore: recordsBefore.map((r) => r.id),
    recordsAfter,
    checkedCode,
    focusAfterEncrypt,
    audit,
    castCode,
    cast,
    castReceipt,
    inclusion,
    fullReceipt,
    verifyPage,
    forgedChecks,
    forgedAlert,
    refused,
    statusLog,
    boxRequests,
    requests: first.log.requests.map((r) => ({ method: r.method, url: r.url, body: r.body })),
    consoleErrors: first.log.consoleErrors,
  };
}

/** The second citizen, keyboard only: pick, encrypt, cast, see it verified, download. */
async function keyboardFlow(browser, input, step) {
  const boxRequests = [];
  step("the second citizen casts with the keyboard only");
  const second = await newSession(browser, input);
  watchBoxCookies(second.context, boxRequests);
  const kb = second.page;
  await logIn(kb, input.second.username, input.password);
  await restoreKey(kb, input.second, input.passphrase);
  // This citizen got the token on the wallet page beforehand: the booth must use that one.
  const walletText = await walletTexts(kb);
  await kb.getByRole("button", { name: `Get my voting token for ${input.title}` }).press("Enter");
  const tokenOutcome = await walletOutcome(kb, walletText.tokenDone);
  const heldRecords = await walletRecords(kb);
  const tokenPostsBefore = second.log.requests.filter((r) => r.url.endsWith("/tokens")).length;
  await kb.goto(`/voting/${input.slug}/booth/`);
  await tabTo(kb, "#c-q-o0");
  for (let i = 0; i < 4; i++) await kb.keyboard.press("ArrowDown");
  const picked = await kb.evaluate(() => document.querySelector("input[name=c-q]:checked")?.id);
  await tabTo(kb, "#encrypt-button");
  await kb.keyboard.press("Enter");
  await kb.locator("#booth-result").waitFor({ state: "visible" });
  const kbEncryptFocus = await activeId(kb);
  const kbCode = (await kb.locator("#tracking-code").textContent()).trim();
  await tabTo(kb, "#cast-button");
  await kb.keyboard.press("Enter");
  await kb.locator("#cast-result").waitFor({ state: "visible" });
  const kbCastFocus = await activeId(kb);
  const kbInclusion = await inclusionOutcome(kb);
  await tabTo(kb, "#full-download");
  const [kbDownload] = await Promise.all([kb.waitForEvent("download"), kb.keyboard.press("Enter")]);
  const kbReceipt = await downloadText(kbDownload);

  return {
    tokenOutcome,
    heldRecords,
    tokenPostsBefore,
    tokenPostsAfter: second.log.requests.filter((r) => r.url.endsWith("/tokens")).length,
    picked,
    encryptFocus: kbEncryptFocus,
    code: kbCode,
    castFocus: kbCastFocus,
    inclusion: kbInclusion,
    receipt: kbReceipt,
    boxRequests,
    consoleErrors: second.log.consoleErrors,
  };
}

await main((browser, input, step) => (input.part === "keyboard" ? keyboardFlow : pointerFlow)(browser, input, step));
