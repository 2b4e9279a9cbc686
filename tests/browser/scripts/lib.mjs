// Shared by the browser test scripts: read the JSON input pytest sends on stdin, connect to the
// session's Chromium (see browser_server.mjs), drive pages like a person would, and print one
// JSON result on stdout. A failed step prints {"error", "step", ...} and exits 1.
import { chromium } from "playwright-core";

const TIMEOUT_MS = 15000;

async function readStdin() {
  let text = "";
  for await (const chunk of process.stdin) text += chunk;
  return JSON.parse(text);
}

/** Run `scenario(browser, input, step)`; `step(name)` labels what a failure was doing. */
export async function main(scenario) {
  const input = await readStdin();
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
export async function newSession(browser, input, { locale = "en-GB" } = {}) {
  const context = await browser.newContext({ baseURL: input.base, locale, acceptDownloads: true });
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
