// An official revokes a citizen's credential at the credential desk; the citizen's wallet,
// opened in another browser context, then shows it revoked.
import { logIn, main, newSession, openWallet } from "./lib.mjs";

const walletStatus = (page) => page.locator("main table tbody tr").first().locator("td").nth(2).textContent();

await main(async (browser, input, step) => {
  const citizen = await newSession(browser, input);
  const official = await newSession(browser, input);

  step("citizen's wallet before");
  await logIn(citizen.page, input.citizen.username, input.password);
  await openWallet(citizen.page);
  const statusBefore = (await walletStatus(citizen.page)).trim();

  step("official revokes at the desk");
  const desk = official.page;
  await logIn(desk, input.official.username, input.password);
  await desk.goto("/identity/official/credentials/");
  const row = desk.locator("main table tbody tr").filter({ hasText: input.citizen.username });
  await row.getByLabel("Action").selectOption({ label: "Revoke (final)" });
  await row.getByLabel("Reason").fill(input.reason);
  await Promise.all([
    desk.waitForNavigation(),
    row.getByRole("button", { name: "Apply" }).click(),
  ]);
  const message = await desk.locator("main .messages").textContent();
  const deskRow = desk.locator("main table tbody tr").filter({ hasText: input.citizen.username });
  const deskStatus = (await deskRow.locator("td").nth(2).textContent()).trim();
  const formsLeft = await deskRow.locator("form").count();

  step("citizen's wallet after");
  await openWallet(citizen.page);
  const statusAfter = (await walletStatus(citizen.page)).trim();

  return {
    statusBefore,
    message,
    deskStatus,
    formsLeft,
    statusAfter,
    consoleErrors: [...citizen.log.consoleErrors, ...official.log.consoleErrors],
  };
});
