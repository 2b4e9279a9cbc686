// Shared by the browser test scripts: read the JSON input pytest sends on stdin, connect to the
// session's Chromium (see browser_server.mjs), drive pages like a person would, and print one
// JSON result on stdout. A failed step prints {"error", "step", ...} and exits 1.
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const TIMEOUT_MS = 15000;

// stdin carries one JSON line (the input), then, for a journey, one JSON line per resumed pause.
const stdinLines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

async function readLine(what) {
  const { value, done } = await stdinLines.next();
  if (done) throw new Error(`stdin ended before ${what}`);
  return JSON.parse(value);
}

/**
 * Hand over to the test: print {"pause": name, ...data} as one line and wait for the test to
 * answer with one JSON line (after it did server-side work: a CLI run, a tally, a clock step).
 */
export async function pause(name, data = {}) {
  await new Promise((resolve) => process.stdout.write(JSON.stringify({ pause: name, ...data }) + "\n", resolve));
  return readLine(`the answer to pause ${name}`);
}

/** Run `scenario(browser, input, step)`; `step(name)` labels what a failure was doing. */
export async function main(scenario) {
  const input = await readLine("the input");
  let current = "connect";
  const step = (name) => {
    current = name;
  };
  const browser = await chromium.connect(input.wsEndpoint);
  let exitCode = 0;
  let output;
  try {
    output = JSON.stringify(await scenario(browser, input, step));
  } catch (err) {
    exitCode = 1;
    output = JSON.stringify({ error: String(err?.stack ?? err), step: current });
  } finally {
    await browser.close().catch(() => {});
  }
  // A pipe takes 64 KiB at once: wait until all of it is written before exiting.
  await new Promise((resolve) => process.stdout.write(output, resolve));
  process.exit(exitCode);
}

/**
 * A fresh browser context (its own cookies and IndexedDB, like another device) whose every
 * request body, API answer, console error and uncaught page error is recorded.
 */
export async function newSession(browser, input, { locale = "en-GB", viewport, reducedMotion, hasTouch } = {}) {
  const options = { baseURL: input.base, locale, acceptDownloads: true };
  if (viewport) options.viewport = viewport;
  if (reducedMotion) options.reducedMotion = reducedMotion;
  if (hasTouch) options.hasTouch = hasTouch;
  const context = await browser.newContext(options);
  context.setDefaultTimeout(TIMEOUT_MS);
  const log = { requests: [], responses: [], consoleErrors: [] };
  context.on("request", (request) => {
    const body = request.postDataBuffer();
    log.requests.push({ method: request.method(), url: request.url(), body: body ? body.toString("latin1") : "" });
  });
  context.on("response", (response) => {
    if (new URL(response.url()).pathname.startsWith("/api/")) {
      log.responses.push({ method: response.request().method(), url: response.url(), status: response.status() });
    }
  });
  context.on("console", (message) => {
    if (message.type() === "error") log.consoleErrors.push(`${message.location().url}: ${message.text()}`);
  });
  context.on("weberror", (webError) => log.consoleErrors.push(`uncaught: ${webError.error().message}`));
  const page = await context.newPage();
  return { context, page, log };
}

/** Submit the page's main form by its submit button and wait for the next page to load. */
export async function submitMainForm(page, buttonName) {
  await Promise.all([
    page.waitForNavigation({ waitUntil: "load" }),
    page.locator("main").getByRole("button", { name: buttonName }).click(),
  ]);
}

export async function logIn(page, username, password) {
  await page.goto("/accounts/login/");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await submitMainForm(page, "Log in");
  if (new URL(page.url()).pathname.startsWith("/accounts/login")) {
    throw new Error(`log-in as ${username} failed: ${await page.locator("main").innerText()}`);
  }
}

export async function signUp(page, { username, email, password }) {
  await page.goto("/accounts/signup/");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("E-mail address").fill(email);
  // Django labels the two password fields "Password" and "Password confirmation".
  await page.locator("#id_password1").fill(password);
  await page.locator("#id_password2").fill(password);
  await submitMainForm(page, "Create account");
  if (new URL(page.url()).pathname.startsWith("/accounts/signup")) {
    throw new Error(`sign-up failed: ${await page.locator("main").innerText()}`);
  }
}

/** The wallet page's translated script messages (json_script "wallet-messages"). */
export async function walletTexts(page) {
  return JSON.parse(await page.locator("#wallet-messages").textContent());
}

/** Open the wallet and wait until its module has looked at IndexedDB ("none" or a DID shown). */
export async function openWallet(page) {
  await page.goto("/identity/wallet/");
  const texts = await walletTexts(page);
  await page.waitForFunction(
    (none) => {
      const shown = document.getElementById("local-did").textContent;
      return shown === none || shown.startsWith("did:key:");
    },
    texts.none,
  );
  return texts;
}

/**
 * Wait for the wallet's status line to settle on `expected` or on an error, and return it.
 * The status line says "Working…" while an action runs.
 */
export async function walletOutcome(page, expected) {
  const texts = await walletTexts(page);
  await page.waitForFunction(
    ({ want, errorPrefix }) => {
      const box = document.getElementById("wallet-status");
      return !box.hidden && (box.textContent === want || box.textContent.startsWith(errorPrefix));
    },
    { want: expected, errorPrefix: texts.error },
  );
  const box = page.locator("#wallet-status");
  return { text: await box.textContent(), isError: await box.evaluate((el) => el.classList.contains("error")) };
}

/**
 * Restore the wallet from a backup file ({ name, mimeType, buffer }) with `passphrase`, and
 * return the status line it settles on (`expected`, or an error).
 */
export async function restoreBackup(page, file, passphrase, expected) {
  await page.getByLabel("Backup file").setInputFiles(file);
  await page.getByLabel("Passphrase", { exact: true }).fill(passphrase);
  await page.getByRole("button", { name: "Restore from backup" }).click();
  return walletOutcome(page, expected);
}

/** Everything the wallet keeps in this context's IndexedDB, keys as hex (read in the page). */
export async function walletRecords(page) {
  return page.evaluate(async () => {
    const store = await import("/static/identity/js/wallet_store.mjs");
    const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return (await store.allRecords()).map((record) => ({
      ...record,
      secretKey: record.secretKey instanceof Uint8Array ? hex(record.secretKey) : record.secretKey,
    }));
  });
}

/** Read a download's bytes (works over a remote browser connection, unlike download.path()). */
export async function downloadText(download) {
  const stream = await download.createReadStream();
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Accessibility smoke check of the current page: one h1, every visible form control has an
 * accessible name from a label (or aria-label/labelledby), ids are unique, and the language.
 */
export async function audit(page) {
  return page.evaluate(() => {
    const controls = Array.from(document.querySelectorAll("input, select, textarea")).filter(
      (el) => !["hidden", "submit", "button", "reset"].includes(el.type),
    );
    const unlabelled = controls
      .filter((el) => !(el.labels?.length || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby")))
      .map((el) => el.outerHTML.slice(0, 120));
    const ids = Array.from(document.querySelectorAll("[id]"), (el) => el.id);
    return {
      path: location.pathname,
      duplicateIds: ids.filter((id, i) => ids.indexOf(id) !== i),
      lang: document.documentElement.lang,
      h1: Array.from(document.querySelectorAll("h1"), (h) => h.textContent.trim()),
      controls: controls.length,
      unlabelled,
    };
  });
}

// --- Accessibility: axe-core on every page, in every language, at 200 % zoom ---------------------

/** axe-core from node_modules (npm package axe-core), injected by evaluation: a page's CSP does
 * not apply to what the test evaluates over the DevTools protocol, unlike an added script tag. */
const AXE_SOURCE = readFileSync(new URL("../../../node_modules/axe-core/axe.min.js", import.meta.url), "utf8");
/** WCAG 2.2 A and AA as axe tags its rules (axe has no separate wcag22a tag). */
export const WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

/** axe's violations on the page as it is now (short: rule, impact, help and the first nodes). */
export async function axeViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async (tags) => {
    const results = await window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
    return results.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 4).map((n) => ({ target: n.target.join(" "), html: n.html.slice(0, 160), summary: n.failureSummary })),
    }));
  }, WCAG_TAGS);
}

/**
 * Layout at the page's width: does the page scroll sideways, does a control (button, field,
 * link) sit off screen outside a scrolling box, do two controls overlap? (WCAG 1.4.10 reflow
 * and 1.4.4 resize text, which axe cannot see.)
 */
export async function layoutProblems(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const problems = [];
    const scrolling = document.documentElement.scrollWidth;
    const name = (el) => `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${el.classList.length ? "." + Array.from(el.classList).join(".") : ""} "${(el.textContent || el.value || "").trim().slice(0, 40)}"`;
    const inScroller = (el) => {
      for (let a = el.parentElement; a; a = a.parentElement) {
        if (["auto", "scroll"].includes(getComputedStyle(a).overflowX)) return true;
      }
      return false;
    };
    if (scrolling > width + 1) {
      // Name the innermost elements that stick out, outside any scrolling box: what to fix.
      const out = Array.from(document.body.querySelectorAll("*")).filter(
        (el) => (el.getBoundingClientRect().right > width + 1 || el.scrollWidth > el.clientWidth + 1) && !inScroller(el) && getComputedStyle(el).overflowX === "visible",
      );
      const innermost = out.filter((el) => !out.some((other) => other !== el && el.contains(other)));
      problems.push(`the page scrolls sideways: ${scrolling} > ${width} px (${innermost.slice(0, 3).map(name).join("; ")})`);
    }
    const shown = (el) => {
      const r = el.getBoundingClientRect();
      return r.width > 1 && r.height > 1 && getComputedStyle(el).visibility !== "hidden" && !el.closest(".skip-link, .visually-hidden");
    };
    const controls = Array.from(document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea")).filter(shown);
    for (const el of controls) {
      const r = el.getBoundingClientRect();
      if ((r.right > width + 1 || r.left < -1) && !inScroller(el)) problems.push(`${name(el)} is off screen (${Math.round(r.left)}..${Math.round(r.right)} of ${width} px)`);
    }
    const boxes = controls.filter((el) => el.tagName !== "A").map((el) => [el, el.getBoundingClientRect()]);
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, ra] = boxes[i];
        const [b, rb] = boxes[j];
        if (a.contains(b) || b.contains(a)) continue;
        const w = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
        const h = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
        if (w > 2 && h > 2) problems.push(`${name(a)} overlaps ${name(b)}`);
      }
    }
    return problems;
  });
}

/** What moves on the page: running animations, CSS animations or transitions, smooth scrolling. */
export async function motion(page) {
  return page.evaluate(() => {
    const seconds = (list) => Math.max(0, ...list.split(",").map((t) => parseFloat(t) * (t.trim().endsWith("ms") ? 0.001 : 1)));
    const moving = [];
    for (const el of document.querySelectorAll("*")) {
      const style = getComputedStyle(el);
      const what = `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}`;
      if (style.animationName !== "none" && seconds(style.animationDuration) > 0.01) moving.push(`${what}: animation ${style.animationName}`);
      if (seconds(style.transitionDuration) > 0.01 && style.transitionProperty !== "none") moving.push(`${what}: transition ${style.transitionProperty}`);
      if (style.scrollBehavior === "smooth") moving.push(`${what}: smooth scrolling`);
    }
    const running = document.getAnimations().filter((a) => a.playState === "running").length;
    return { moving: moving.slice(0, 10), running };
  });
}

/** Is the focused element's focus visible (it matches :focus-visible and draws an outline of at
 * least 2 px or a box shadow)? */
export async function focusShown(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { id: "", visible: false };
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
    const drawn = outline || style.boxShadow !== "none";
    return { id: el.id, visible: el.matches(":focus-visible") && drawn };
  });
}

/**
 * Check the page a journey is on. As it is now (its live state, after its scripts ran): axe, the
 * layout at its width and at `input.zoomWidth` (a 1280 px screen at 200 % zoom is 640 CSS px),
 * and with `input.reducedMotion` what still moves. Then the same address opened afresh in every
 * other language of `input.languages` (a new context with that browser language and the same
 * cookies: the server negotiates) at the zoom width: axe, the page's lang, the layout. An address
 * already opened in the other languages is not opened again unless `again` (its server-rendered
 * content changed). With `input.axeEveryLanguage` false (the phone run: the desktop run did it),
 * the other languages get the layout check only. Appends one finding to `findings`.
 */
export async function checkPage(session, input, findings, label, { again = false } = {}) {
  const { page, context } = session;
  const url = page.url();
  const viewport = page.viewportSize();
  const finding = {
    label,
    path: new URL(url).pathname,
    lang: await page.evaluate(() => document.documentElement.lang),
    violations: await axeViolations(page),
    layout: await layoutProblems(page),
    motion: input.reducedMotion ? await motion(page) : null,
    languages: {},
  };
  if (viewport.width > input.zoomWidth) {
    await page.setViewportSize({ width: input.zoomWidth, height: viewport.height });
    finding.layout.push(...(await layoutProblems(page)).map((p) => `at ${input.zoomWidth} px: ${p}`));
    await page.setViewportSize(viewport);
  }
  const opened = (input.openedInEveryLanguage ??= new Set());
  if (again || !opened.has(url)) {
    opened.add(url);
    const storageState = await context.storageState();
    for (const language of input.languages.filter((code) => code !== finding.lang)) {
      const other = await context.browser().newContext({
        baseURL: input.base,
        locale: language,
        storageState,
        viewport: { width: input.zoomWidth, height: 720 },
        reducedMotion: input.reducedMotion ? "reduce" : "no-preference",
      });
      try {
        const otherPage = await other.newPage();
        await otherPage.goto(url, { waitUntil: "load" });
        finding.languages[language] = {
          lang: await otherPage.evaluate(() => document.documentElement.lang),
          violations: input.axeEveryLanguage === false ? null : await axeViolations(otherPage),
          layout: await layoutProblems(otherPage),
        };
      } finally {
        await other.close();
      }
    }
  }
  findings.push(finding);
  return finding;
}
