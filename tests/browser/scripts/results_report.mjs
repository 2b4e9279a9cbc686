// The results page once an observer has reported: the record's hash and download links (JSON and
// zip, both answering), the observers' table (observer, verdict, time, link to the signed report
// JSON, which opens), the "verified" status, and the accessibility audit.
import { audit, main, newSession } from "./lib.mjs";

await main(async (browser, input, step) => {
  const { page, log } = await newSession(browser, input);

  step("the results page");
  await page.goto(`/voting/${input.slug}/results/`);
  const recordSha256 = (await page.locator("#record-sha256").innerText()).trim();
  const downloads = {};
  for (const id of ["record-json", "record-zip"]) {
    const link = page.locator(`#${id}`);
    const href = await link.getAttribute("href");
    const answer = await page.request.get(href);
    downloads[id] = { href, name: (await link.innerText()).trim(), status: answer.status(), type: answer.headers()["content-type"] };
  }

  step("the observers' reports");
  const verified = (await page.locator("#verified-status").innerText()).trim();
  const reports = [];
  for (const row of await page.locator("#observer-reports table tbody tr").all()) {
    reports.push({
      observer: (await row.locator("th").innerText()).trim(),
      verdict: (await row.locator("td").nth(0).innerText()).trim(),
      time: await row.locator("time").getAttribute("datetime"),
      link: await row.getByRole("link").getAttribute("href"),
    });
  }
  const findings = [await audit(page)];

  const consoleErrors = [...log.consoleErrors]; // the raw JSON page has no favicon: not counted

  step("the signed report opens as JSON");
  await page.locator("#observer-reports table tbody tr").first().getByRole("link").click();
  await page.waitForLoadState("load");
  const report = JSON.parse(await page.locator("body").innerText());
  return {
    recordSha256, downloads, verified, reports, findings,
    reportResult: report.result, reportRecord: report.record_sha256,
    consoleErrors,
  };
});
