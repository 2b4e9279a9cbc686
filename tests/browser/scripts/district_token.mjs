// A resident of one district gets a voting token for a city-wide election that has one key per
// district: the wallet page must blind under the key of its credential's district.
import * as keys from "../../../identity/static/identity/js/wallet_keys.mjs";
import { logIn, main, newSession, openWallet, restoreBackup, walletOutcome, walletRecords } from "./lib.mjs";

await main(async (browser, input, step) => {
  step("restore the resident's key from a backup");
  const secretKey = Uint8Array.from(Buffer.from(input.secretKey, "hex"));
  const record = { id: "did", did: input.did, secretKey, created: new Date().toISOString() };
  const backup = await keys.encryptBackup(keys.walletToPayload([record]), input.passphrase, { iterations: 100000 });
  const device = await newSession(browser, input);
  const { page } = device;
  await logIn(page, input.username, input.password);
  const texts = await openWallet(page);
  const file = { name: "civic-wallet-backup.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(backup)) };
  await restoreBackup(page, file, input.passphrase, texts.restored);

  step("get the voting token of the city-wide election");
  await page.getByRole("button", { name: `Get my voting token for ${input.title}` }).click();
  const issued = await walletOutcome(page, texts.tokenDone);
  return {
    texts,
    issued,
    records: await walletRecords(page),
    requests: device.log.requests,
    consoleErrors: device.log.consoleErrors,
  };
});
