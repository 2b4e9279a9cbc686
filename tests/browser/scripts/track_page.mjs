// The public tracking page: an anonymous visitor goes from the election list to the tracking page,
// mistypes a code (the refusal is next to the field and announced), then finds a counting ballot
// and a superseded one, using only the keyboard to submit.
import { main, newSession } from "./lib.mjs";

await main(async (browser, input, step) => {
  const { page, log } = await newSession(browser, input);

  step("election list links to the tracking page");
  await page.goto("/voting/");
  const listTurnout = (await page.locator(`tr[data-slug="${input.slug}"] td.turnout`).innerText()).trim();
  await page.locator(`tr[data-slug="${input.slug}"]`).getByRole("link", { name: "Track a ballot" }).click();
  await page.waitForLoadState("load");
  const turnout = (await page.locator("#turnout").innerText()).trim();

  step("a mistyped code");
  await page.getByLabel("Tracking code").fill("not a code");
  await Promise.all([page.waitForNavigation(), page.getByLabel("Tracking code").press("Enter")]);
  const refusal = (await page.locator("#tracking-code_errors").innerText()).trim();
  const invalid = await page.getByLabel("Tracking code").getAttribute("aria-invalid");
  const describedBy = await page.getByLabel("Tracking code").getAttribute("aria-describedby");

  step("the counting ballot, typed in lower case without dashes");
  await page.getByLabel("Tracking code").fill(input.current.toLowerCase().replaceAll("-", ""));
  await Promise.all([page.waitForNavigation(), page.getByLabel("Tracking code").press("Enter")]);
  const current = {
    status: await page.locator("#track-result").getAttribute("data-status"),
    heading: (await page.locator("#result-heading").innerText()).trim(),
    text: (await page.locator("#track-result [role=status]").innerText()).trim(),
    position: (await page.locator("#track-position").innerText()).trim(),
    checkpoint: (await page.locator("#track-checkpoint").innerText()).trim(),
  };

  step("the superseded ballot");
  await page.getByLabel("Tracking code").fill(input.superseded);
  await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Find the ballot" }).click()]);
  const superseded = {
    status: await page.locator("#track-result").getAttribute("data-status"),
    replacedBy: (await page.locator("#track-result dl").innerText()).includes(input.current),
  };
  return { listTurnout, turnout, refusal, invalid, describedBy, current, superseded, consoleErrors: log.consoleErrors };
});
