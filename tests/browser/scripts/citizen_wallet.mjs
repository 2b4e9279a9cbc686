// A citizen signs up, creates and binds a DID in the wallet page, downloads the encrypted
// backup, then on a "new device" (fresh context, empty IndexedDB) logs in and restores it:
// first with a wrong passphrase, then with the right one.
import { downloadText, logIn, main, newSession, openWallet, restoreBackup, signUp, walletOutcome, walletRecords } from "./lib.mjs";

await main(async (browser, input, step) => {
  const first = await newSession(browser, input);
  const { page } = first;

  step("sign up");
  await signUp(page, input.citizen);

  step("open the empty wallet");
  const texts = await openWallet(page);
  const localBefore = await page.locator("#local-did").textContent();

  step("create and bind a DID");
  await page.getByRole("button", { name: "Create my DID" }).click();
  // The page reloads once the server accepted the binding; the reload shows the bound DID.
  await page.waitForFunction(() => {
    const status = document.getElementById("wallet-status");
    return document.getElementById("wallet").dataset.boundDid || status.classList.contains("error");
  });
  const boundDid = await page.locator("#wallet").getAttribute("data-bound-did");
  if (!boundDid) throw new Error(`binding failed: ${await page.locator("#wallet-status").textContent()}`);
  await openWallet(page);
  const boundShown = await page.locator("#wallet p code").first().textContent();
  const localAfter = await page.locator("#local-did").textContent();
  const recordsFirst = await walletRecords(page);

  step("export the encrypted backup");
  await page.getByLabel("Passphrase for the backup").fill(input.passphrase);
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Download encrypted backup" }).click(),
  ]);
  const exported = await walletOutcome(page, texts.exported);
  const backupText = await downloadText(download);

  step("log in on a new device");
  const second = await newSession(browser, input);
  const other = second.page;
  await logIn(other, input.citizen.username, input.citizen.password);
  await openWallet(other);
  const localOnNewDevice = await other.locator("#local-did").textContent();
  const recordsBeforeRestore = await walletRecords(other);
  const warning = await walletOutcome(other, texts.noLocalKey);

  step("restore with a wrong passphrase");
  const file = { name: download.suggestedFilename(), mimeType: "application/json", buffer: Buffer.from(backupText) };
  const wrong = await restoreBackup(other, file, `${input.passphrase}-wrong`, texts.restored);
  const recordsAfterWrong = await walletRecords(other);

  step("restore with the right passphrase");
  const restored = await restoreBackup(other, file, input.passphrase, texts.restored);
  const localRestored = await other.locator("#local-did").textContent();
  const recordsRestored = await walletRecords(other);

  step("reload the restored wallet");
  await openWallet(other);
  const statusAfterReload = await other.locator("#wallet-status").evaluate((el) => (el.hidden ? "" : el.textContent));

  step("rotate to a new DID on the restored device");
  let confirmation = "";
  other.once("dialog", async (dialog) => {
    confirmation = dialog.message();
    await dialog.accept();
  });
  await other.getByRole("button", { name: "Replace my DID with a new one" }).click();
  await other.waitForFunction(
    (old) => {
      const bound = document.getElementById("wallet").dataset.boundDid;
      return (bound && bound !== old) || document.getElementById("wallet-status").classList.contains("error");
    },
    boundDid,
  );
  await openWallet(other);
  const rotatedDid = await other.locator("#wallet").getAttribute("data-bound-did");
  const localRotated = await other.locator("#local-did").textContent();
  const earlierDids = await other.locator("#wallet details li").allTextContents();
  const recordsRotated = await walletRecords(other);

  step("restore the old backup over the rotated key");
  const oldRestored = await restoreBackup(other, file, input.passphrase, texts.mismatch);
  const recordsOldRestored = await walletRecords(other);

  return {
    texts,
    oldRestored,
    recordsOldRestored,
    confirmation,
    rotatedDid,
    localRotated,
    earlierDids,
    recordsRotated,
    localBefore,
    boundDid,
    boundShown,
    localAfter,
    recordsFirst,
    exported,
    backupFilename: download.suggestedFilename(),
    backupText,
    localOnNewDevice,
    recordsBeforeRestore,
    warning,
    wrong,
    recordsAfterWrong,
    restored,
    localRestored,
    recordsRestored,
    statusAfterReload,
    requests: [...first.log.requests, ...second.log.requests],
    consoleErrors: [...first.log.consoleErrors, ...second.log.consoleErrors],
  };
});
