// axe-core under a strict Content-Security-Policy (as the booth and receipt pages get one): the
// page's own answer gets `script-src 'self'`; a script tag with inline content is then refused,
// while axe evaluated over the DevTools protocol (lib.mjs axeViolations) still runs.
import { axeViolations, main, newSession } from "./lib.mjs";

const POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'";

await main(async (browser, input, step) => {
  const { page, log } = await newSession(browser, input);
  step("serve the page with a strict CSP");
  await page.route("**/*", async (route) => {
    const response = await route.fetch();
    if (route.request().resourceType() !== "document") return route.fulfill({ response });
    return route.fulfill({ response, headers: { ...response.headers(), "content-security-policy": POLICY } });
  });
  await page.goto(input.path);
  step("an inline script tag is refused");
  await page.addScriptTag({ content: "window.inlineRan = true;" }).catch(() => {});
  const inlineRan = await page.evaluate(() => window.inlineRan === true);
  step("axe runs all the same");
  const violations = await axeViolations(page);
  const axeLoaded = await page.evaluate(() => typeof window.axe?.run === "function" && window.axe.version);
  return { inlineRan, axeLoaded, violations, consoleErrors: log.consoleErrors };
});
