// The public results page: an anonymous visitor follows the election list's "Results" link, reads
// each question's totals in the table beside its chart (the chart is one image with a text
// alternative), the turnout and the empty observer reports; the page passes the accessibility
// audit (one h1, labelled controls, unique ids) in English and in Norwegian, as does the
// decryption page.
import { audit, main, newSession } from "./lib.mjs";

await main(async (browser, input, step) => {
  const { page, log } = await newSession(browser, input);

  step("the election list links to the results");
  await page.goto("/voting/");
  await page.locator(`tr[data-slug="${input.slug}"]`).getByRole("link", { name: "Results" }).click();
  await page.waitForLoadState("load");
  const path = new URL(page.url()).pathname;

  step("every question: a chart image with its name, and the table of totals");
  const questions = [];
  for (const section of await page.locator("section.results-question").all()) {
    const heading = (await section.locator("h2").innerText()).trim();
    const charts = await section.getByRole("img").count();
    const chartName = await section.locator("svg").evaluate((svg) => {
      const id = svg.getAttribute("aria-labelledby");
      return document.getElementById(id)?.textContent.trim() ?? "";
    });
    const bars = await section.locator("svg rect").count();
    const caption = (await section.locator("table caption").innerText()).trim();
    const rows = [];
    for (const row of await section.locator("table tbody tr").all()) {
      rows.push({
        option: (await row.locator("th").innerText()).trim(),
        count: Number((await row.locator("td.count").innerText()).trim()),
        scope: await row.locator("th").getAttribute("scope"),
      });
    }
    questions.push({ contest: await section.getAttribute("data-contest"), heading, charts, chartName, bars, caption, rows });
  }
  const turnout = (await page.locator("#turnout").innerText()).trim();
  const reports = (await page.locator("#observer-reports").innerText()).trim();
  const anchor = (await page.locator("#results-anchor").innerText()).trim();
  const findings = { en: [await audit(page)], nb: [] };

  step("the decryption page");
  await page.goto(`/voting/${input.slug}/decryption/`);
  findings.en.push(await audit(page));

  step("both pages in Norwegian");
  await page.locator("#language-select").selectOption("nb");
  await Promise.all([page.waitForNavigation(), page.locator("form.lang-switch button[type=submit]").click()]);
  findings.nb.push(await audit(page));
  await page.goto(`/voting/${input.slug}/results/`);
  findings.nb.push(await audit(page));
  return { path, questions, turnout, reports, anchor, findings, consoleErrors: log.consoleErrors };
});
