// A resident restores their DID key from a backup file, asks the wallet page for a voting
// token (ballot key, blinding and finalization all in the page), then asks again from a tab
// that still offers the button, and from a second device restored from the same backup (409).
import * as keys from "../../../identity/static/identity/js/wallet_keys.mjs";
import { downloadText, logIn, main, newSession, openWallet, restoreBackup, walletOutcome, walletRecords } from "./lib.mjs";

const BACKUP_ITERATIONS = 100000; // the lowest the wallet accepts: keeps the test quick

async function restore(page, texts, backup, passphrase) {
  const file = {
    name: "civic-wallet-backup.json",
    mimeType: "application/json",
    buffer: Buffer.from(JSON.stringify(backup)),
  };
  return restoreBackup(page, file, passphrase, texts.restored);
}

await main(async (browser, input, step) => {
  step("make the backup file of the resident's key");
  const secretKey = Uint8Array.from(Buffer.from(input.secretKey, "hex"));
  const record = { id: "did", did: input.did, secretKey, created: new Date().toISOString() };
  const backup = await keys.encryptBackup(keys.walletToPayload([record]), input.passphrase, {
    iterations: BACKUP_ITERATIONS,
  });
  const tokenButton = (page) => page.getByRole("button", { name: `Get my voting token for ${input.title}` });

  step("restore the key on two devices");
  const device = await newSession(browser, input);
  const { page } = device;
  await logIn(page, input.username, input.password);
  const texts = await openWallet(page);
  const restored = await restore(page, texts, backup, input.passphrase);
  const staleTab = await device.context.newPage();
  await openWallet(staleTab);
  const otherDevice = await newSession(browser, input);
  const other = otherDevice.page;
  await logIn(other, input.username, input.password);
  await openWallet(other);
  const restoredOther = await restore(other, texts, backup, input.passphrase);

  step("get the voting token");
  await tokenButton(page).click();
  const issued = await walletOutcome(page, texts.tokenDone);
  const buttonsLeft = await page.locator("button.get-token").count();
  const recordsAfterToken = await walletRecords(page);

  step("ask again from a tab of the same browser opened before");
  await tokenButton(staleTab).click();
  const again = await walletOutcome(staleTab, texts.tokenDone);
  const recordsAfterAgain = await walletRecords(staleTab);

  step("ask again from the other device");
  await tokenButton(other).click();
  const refused = await walletOutcome(other, texts.tokenDone);
  const otherButtons = await other.locator("button.get-token").count();

  step("back up the refused device (its ballot key has no token) and restore it here");
  const otherRecords = await walletRecords(other);
  await other.locator("#export-passphrase").fill(input.passphrase);
  const [otherBackup] = await Promise.all([other.waitForEvent("download"), other.locator("#export-form button").click()]);
  const restoredOld = await restore(page, texts, JSON.parse(await downloadText(otherBackup)), input.passphrase);
  const recordsAfterOldBackup = await walletRecords(page);

  step("reload: the page knows the token was received");
  await openWallet(page);
  const tokensSection = await page.locator("#tokens-heading ~ ul").innerText();

  return {
    texts,
    restored,
    restoredOther,
    issued,
    buttonsLeft,
    recordsAfterToken,
    again,
    recordsAfterAgain,
    refused,
    otherRecords,
    restoredOld,
    recordsAfterOldBackup,
    otherButtons,
    tokensSection,
    requests: [...device.log.requests, ...otherDevice.log.requests],
    responses: [...device.log.responses, ...otherDevice.log.responses],
    consoleErrors: [...device.log.consoleErrors, ...otherDevice.log.consoleErrors],
  };
});
