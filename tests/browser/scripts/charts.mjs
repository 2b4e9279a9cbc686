// The charts in Chromium: the turnout over time on the booth and on the results page, and each
// log's growth on the ledger page. For each chart: one image whose accessible name comes from
// its title and description, a drawn line, markers, and the table alternative behind its
// disclosure (opened by keyboard); axe-core (WCAG 2.2 A/AA rules) finds nothing in the charts'
// regions, and no chart carries an inline style.
import { readFile } from "node:fs/promises";
import { main, newSession } from "./lib.mjs";

const AXE = await readFile(new URL("../../../node_modules/axe-core/axe.min.js", import.meta.url), "utf8");
const WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

async function axeViolations(page, selector) {
  await page.evaluate(AXE); // evaluated over the DevTools protocol: no script tag, any CSP
  return page.evaluate(
    async ({ selector, tags }) => {
      const found = await window.axe.run({ include: [selector] }, { runOnly: { type: "tag", values: tags } });
      return found.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
    },
    { selector, tags: WCAG },
  );
}

/** One chart figure (its svg) and the table in the <details> that follows it. */
async function readChart(page, figure, details) {
  const svg = figure.locator("svg[role=img]");
  const name = await svg.evaluate((el) =>
    el
      .getAttribute("aria-labelledby")
      .split(" ")
      .map((id) => document.getElementById(id)?.textContent.trim() ?? "")
      .join(" | "),
  );
  const summary = details.locator("summary");
  await summary.focus();
  await page.keyboard.press("Enter"); // the table alternative, opened by keyboard
  const open = await details.evaluate((el) => el.open);
  const rows = await details.locator("tbody tr").evaluateAll((trs) =>
    trs.map((tr) => ({
      cells: Array.from(tr.querySelectorAll("td"), (td) => td.textContent.trim()),
      times: Array.from(tr.querySelectorAll("time"), (t) => t.getAttribute("datetime")),
      data: { ...tr.dataset },
    })),
  );
  return {
    images: await figure.getByRole("img").count(),
    name,
    path: await svg.locator("path.chart-line").getAttribute("d"),
    circles: await svg.locator("circle.chart-mark-witnessed").count(),
    squares: await svg.locator("rect.chart-mark-anchored").count(),
    xLabels: await svg.locator("text.chart-x-label").allTextContents(),
    yLabels: await svg.locator("text.chart-y-label").allTextContents(),
    styled: await figure.evaluate((el) => el.querySelectorAll("[style]").length),
    lineStroke: await svg.locator("path.chart-line").evaluate((el) => getComputedStyle(el).stroke),
    open,
    caption: (await details.locator("caption").innerText()).trim(),
    rows,
  };
}

await main(async (browser, input, step) => {
  const { page, log } = await newSession(browser, input);
  const out = {};

  step("the booth's turnout over time");
  await page.goto(`/voting/${input.openSlug}/booth/`);
  const booth = page.locator("#booth-turnout");
  out.booth = await readChart(page, booth.locator("figure"), booth.locator("details"));
  out.booth.counting = await booth.locator("figure").getAttribute("data-counting");
  out.booth.caption = `${(await booth.locator("figcaption").innerText()).trim()} || ${out.booth.caption}`;
  out.booth.axe = await axeViolations(page, "#booth-turnout");

  step("the results page's turnout over time");
  await page.goto(`/voting/${input.publishedSlug}/results/`);
  const results = page.locator("section[aria-labelledby=turnout-heading]");
  out.results = await readChart(page, results.locator("figure"), results.locator("details"));
  out.results.axe = await axeViolations(page, "section[aria-labelledby=turnout-heading]");

  step("the ledger page: each log's growth");
  await page.goto("/ledger/");
  out.legend = await page.locator("#growth-legend li").allTextContents();
  out.logs = {};
  for (const section of await page.locator("section.log-growth").all()) {
    const name = await section.getAttribute("data-log");
    out.logs[name] = {
      ...(await readChart(page, section.locator("figure"), section.locator("details"))),
      counts: await section.evaluate((el) => ({ ...el.dataset })),
      summary: (await section.locator(".growth-summary").innerText()).trim(),
    };
  }
  out.ledgerAxe = await axeViolations(page, "#ledger-growth");
  out.consoleErrors = log.consoleErrors;
  return out;
});
