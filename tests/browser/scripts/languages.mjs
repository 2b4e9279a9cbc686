// Languages in a real browser: a Spanish browser gets the receipt check in Spanish, including the
// messages its script shows and the names of the verifier's checks; the switcher (a plain form)
// then turns the same page Norwegian, and the script's messages follow.
import { main, newSession } from "./lib.mjs";

await main(async (browser, input, step) => {
  const { page, log } = await newSession(browser, input, { locale: "es-ES" });

  step("a Spanish browser");
  await page.goto("/voting/verify/");
  const first = {
    lang: await page.locator("html").getAttribute("lang"),
    skip: (await page.locator(".skip-link").innerText()).trim(),
  };
  await page.getByLabel(input.es.paste).fill("{}");
  await page.getByRole("button", { name: input.es.check }).click();
  await page.locator("#receipt-checks li").first().waitFor();
  first.checks = await page.locator("#receipt-checks li").allInnerTexts();
  first.status = (await page.locator("#receipt-status").innerText()).trim();

  step("switch to Norwegian with the form");
  await page.getByLabel(input.es.language).selectOption("nb");
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.getByRole("button", { name: input.es.change }).click()]);
  const second = {
    path: new URL(page.url()).pathname,
    lang: await page.locator("html").getAttribute("lang"),
    skip: (await page.locator(".skip-link").innerText()).trim(),
    selected: await page.getByLabel(input.nb.language).inputValue(),
  };
  await page.getByLabel(input.nb.paste).fill("not json");
  await page.getByRole("button", { name: input.nb.check }).click();
  await page.locator("#receipt-error").waitFor();
  second.error = (await page.locator("#receipt-error").innerText()).trim();
  return { first, second, consoleErrors: log.consoleErrors };
});
