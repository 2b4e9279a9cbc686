// Accessibility of every identity page, in English and then in Norwegian (switched with the
// site's language form): axe-core's WCAG 2.2 A/AA rules, and what axe does not check: exactly one
// h1, unique ids, the language the visitor chose, no console errors.
// In Norwegian the citizen also creates a DID and sends a claim, to show the pages still work.
import { audit, axeViolations, logIn, main, newSession, openWallet, walletOutcome } from "./lib.mjs";

async function visit(session, path, findings, { wallet = false } = {}) {
  const before = session.log.consoleErrors.length;
  if (wallet) await openWallet(session.page);
  else await session.page.goto(path);
  const found = await audit(session.page);
  const violations = await axeViolations(session.page);
  findings.push({ ...found, violations, consoleErrors: session.log.consoleErrors.slice(before) });
}

async function switchLanguage(page, code) {
  await page.locator("#language-select").selectOption(code);
  await Promise.all([page.waitForNavigation(), page.locator("form.lang-switch button[type=submit]").click()]);
  return page.evaluate(() => document.documentElement.lang);
}

await main(async (browser, input, step) => {
  const findings = { en: [], nb: [] };
  const official = await newSession(browser, input);
  const citizen = await newSession(browser, input);

  step("official pages in English");
  await logIn(official.page, input.official, input.password);
  for (const path of input.officialPages) await visit(official, path, findings.en);

  step("citizen pages in English");
  await logIn(citizen.page, input.citizen, input.password);
  await visit(citizen, "/identity/wallet/", findings.en, { wallet: true });
  await visit(citizen, "/identity/claim/", findings.en);

  step("official switches to Norwegian");
  const officialLang = await switchLanguage(official.page, "nb");
  for (const path of input.officialPages) await visit(official, path, findings.nb);

  step("citizen switches to Norwegian and creates a DID");
  await citizen.page.goto("/identity/wallet/");
  const citizenLang = await switchLanguage(citizen.page, "nb");
  await visit(citizen, "/identity/wallet/", findings.nb, { wallet: true });
  const page = citizen.page;
  await page.locator("#create-did").click();
  await page.waitForFunction(() => document.getElementById("wallet").dataset.boundDid
    || document.getElementById("wallet-status").classList.contains("error"));
  const boundDid = await page.locator("#wallet").getAttribute("data-bound-did");
  await visit(citizen, "/identity/wallet/", findings.nb, { wallet: true });
  const localDid = await page.locator("#local-did").textContent();

  step("citizen sends a claim in Norwegian");
  await visit(citizen, "/identity/claim/", findings.nb);
  await page.locator("#id_legal_name").fill(input.claim.legal_name);
  await page.locator("#id_address").fill(input.claim.address);
  await page.locator("#id_district").fill(input.claim.district);
  await Promise.all([page.waitForURL("**/identity/wallet/"), page.locator("main form button[type=submit]").click()]);
  const afterClaim = { lang: await page.evaluate(() => document.documentElement.lang), message: await page.locator("main .messages").textContent() };

  step("wallet backup export works in Norwegian");
  const texts = await openWallet(page);
  await page.locator("#export-passphrase").fill("lang passord 2026");
  const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#export-form button").click()]);
  const exported = await walletOutcome(page, texts.exported);

  return {
    findings,
    officialLang,
    citizenLang,
    boundDid,
    localDid,
    afterClaim,
    exported,
    backupName: download.suggestedFilename(),
    texts,
  };
});
