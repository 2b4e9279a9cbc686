// Motion and prefers-reduced-motion: a page that gets something moving (a spinning, transitioning
// box, as a chart or a progress flourish might add) moves for a visitor who did not ask for less
// motion, and not for one who did (the site's stylesheet stops it).
import { main, motion, newSession } from "./lib.mjs";

async function withMover(browser, input, reducedMotion) {
  const { page, context } = await newSession(browser, input, { reducedMotion });
  await page.goto(input.path);
  await page.evaluate(() => {
    // a constructed style sheet (CSSOM): the pages' CSP refuses <style> elements, as it should
    const sheet = new CSSStyleSheet();
    sheet.replaceSync("@keyframes civic-test-spin { to { transform: rotate(360deg); } } #mover { animation: civic-test-spin 2s linear infinite; transition: opacity 1s; }");
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
    const box = document.createElement("div");
    box.id = "mover";
    box.textContent = "moving";
    document.querySelector("main").append(box);
  });
  // let frames pass: a 0.01 ms animation (the reduced-motion rule) finishes within a few; an
  // animation that still runs after half a second is motion (the 2 s spin never finishes)
  await page.evaluate(() => new Promise((done) => {
    const started = performance.now();
    const tick = () => {
      const running = document.getAnimations().some((a) => a.playState === "running");
      if (!running || performance.now() - started > 500) done();
      else requestAnimationFrame(tick);
    };
    requestAnimationFrame(() => requestAnimationFrame(tick));
  }));
  const seen = await motion(page);
  const reduced = await page.evaluate(() => matchMedia("(prefers-reduced-motion: reduce)").matches);
  await context.close();
  return { ...seen, reduced };
}

await main(async (browser, input, step) => {
  step("no preference: it moves");
  const moving = await withMover(browser, input, "no-preference");
  step("reduced motion asked for: it does not");
  const still = await withMover(browser, input, "reduce");
  return { moving, still };
});
