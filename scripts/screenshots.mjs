// `make screenshots`: the README's pictures (scripts/screenshots.json) taken from a running demo
// city with the system's headless Chromium (playwright-core), into docs/images/<name>.png.
//
// Input (environment): CIVIC_SCREENSHOT_URL (the demo's address), CIVIC_SCREENSHOT_LOGINS (its
// demo_logins.json), CIVIC_SCREENSHOT_OUT (default docs/images), CIVIC_CHROMIUM.
// The booth and receipt pictures need citizens with a credential: the demo citizens "bob" and
// "alice" each create a DID in the wallet and claim residency, the demo "official" approves the
// claims in another browser context; bob casts a ballot, then alice fills in the booth
// (picture), encrypts, casts and waits until her ballot's inclusion in the ledger is verified
// (picture; the demo observer cosigns within ~10 s).
import { readFile, mkdir } from "node:fs/promises";
import { chromium } from "playwright-core";

const BASE = process.env.CIVIC_SCREENSHOT_URL;
const LOGINS = process.env.CIVIC_SCREENSHOT_LOGINS;
const OUT = process.env.CIVIC_SCREENSHOT_OUT ?? "docs/images";
const CHROMIUM = process.env.CIVIC_CHROMIUM ?? "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"];
const TIMEOUT_MS = 30000;

if (!BASE || !LOGINS) {
  console.error("set CIVIC_SCREENSHOT_URL and CIVIC_SCREENSHOT_LOGINS (scripts/screenshots.sh does)");
  process.exit(2);
}
const config = JSON.parse(await readFile(new URL("./screenshots.json", import.meta.url), "utf8"));
const logins = JSON.parse(await readFile(LOGINS, "utf8"));
const byName = Object.fromEntries(config.pictures.map((p) => [p.name, p]));

async function session(browser) {
  const context = await browser.newContext({
    baseURL: BASE,
    locale: "en-GB",
    viewport: { width: config.width, height: 900 },
    deviceScaleFactor: 1,
    colorScheme: "light",
    reducedMotion: "reduce",
  });
  context.setDefaultTimeout(TIMEOUT_MS);
  return { context, page: await context.newPage() };
}

async function logIn(page, username) {
  await page.goto("/accounts/login/");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(logins[username].password);
  await Promise.all([page.waitForNavigation(), page.locator("main").getByRole("button", { name: "Log in" }).click()]);
  if (new URL(page.url()).pathname.startsWith("/accounts/login")) throw new Error(`log-in as ${username} failed`);
}

/** The whole page from its top down to config.max_height, config.width wide. */
async function shoot(page, name, { top = 0, bottom = null } = {}) {
  const end = bottom ?? (await page.evaluate(() => document.documentElement.scrollHeight));
  const height = Math.min(Math.ceil(end - top), config.max_height);
  const path = `${OUT}/${name}.png`;
  await page.screenshot({ path, fullPage: true, clip: { x: 0, y: top, width: config.width, height }, animations: "disabled" });
  console.error(`${path}: ${byName[name].what}`);
}

/** A demo citizen with a DID in this browser and an active residency credential: the DID made
 * (or replaced: a fresh browser never holds the earlier key) in the wallet, the residency claim
 * sent, and approved by the demo official in another browser context. */
async function citizenWithCredential(browser, username, legalName) {
  const citizen = await session(browser);
  const { page } = citizen;
  await logIn(page, username);
  await page.goto("/identity/wallet/");
  await page.waitForFunction(() => document.getElementById("local-did")?.textContent.trim() !== "");
  const bound = await page.locator("#wallet").getAttribute("data-bound-did");
  await page.locator("#create-did").click();
  await page.waitForFunction(
    (before) => {
      const wallet = document.getElementById("wallet");
      return (wallet.dataset.boundDid && wallet.dataset.boundDid !== before) || document.getElementById("wallet-status").classList.contains("error");
    },
    bound ?? "",
  );
  await page.goto("/identity/claim/");
  await page.getByLabel("Legal name").fill(legalName);
  await page.getByLabel("Address").fill("1 Harbour Street");
  await page.getByLabel("District").fill("Centre");
  await Promise.all([page.waitForURL("**/identity/wallet/"), page.getByRole("button", { name: "Send my claim" }).click()]);

  const official = await session(browser);
  await logIn(official.page, "official");
  await official.page.goto("/identity/official/claims/");
  await official.page.getByRole("link", { name: `Review the claim of ${legalName}` }).first().click();
  await official.page.getByLabel("Approve and issue the credential").check();
  await official.page.getByLabel("Reason").fill("Listed in the population register.");
  await Promise.all([
    official.page.waitForURL("**/identity/official/claims/"),
    official.page.getByRole("button", { name: "Record the decision" }).click(),
  ]);
  await official.context.close();
  return citizen;
}

async function fillBooth(page, choices) {
  await page.goto(byName.booth.path);
  for (const label of choices) await page.getByLabel(label, { exact: true }).check();
}

async function castBallot(page) {
  await page.getByRole("button", { name: "Encrypt my ballot" }).click();
  await page.locator("#booth-result").waitFor({ state: "visible" });
  await page.getByRole("button", { name: "Cast this ballot" }).click();
  await page.locator("#cast-result").waitFor({ state: "visible" });
}

async function boothAndReceipt(browser) {
  // bob votes first, so the booth's turnout chart has a ballot on it
  const bob = await citizenWithCredential(browser, "bob", "Bob Example");
  await fillBooth(bob.page, ["No", "Jonas", "New playground (3 units)"]);
  await castBallot(bob.page);
  await bob.context.close();

  const { context, page } = await citizenWithCredential(browser, "alice", "Alice Example");
  await fillBooth(page, ["Yes", "Amina", "Sofie", "Plant 200 trees (2 units)", "Benches and lighting (1 unit)"]);
  await shoot(page, "booth");

  await castBallot(page);
  await page.waitForSelector("#inclusion-result[data-verified]", { timeout: 120000 });
  // The receipt: from the cast answer down to the verified inclusion, as the voter sees it.
  const box = await page.evaluate(() => {
    const top = document.getElementById("cast-result").getBoundingClientRect().top + window.scrollY;
    const bottom = document.getElementById("inclusion-result").getBoundingClientRect().bottom + window.scrollY;
    return { top: Math.max(top - 16, 0), bottom: bottom + 16 };
  });
  await shoot(page, "receipt", box);
  await context.close();
}

async function publicPage(browser, name) {
  const { context, page } = await session(browser);
  await page.goto(byName[name].path);
  await page.waitForLoadState("load");
  await shoot(page, name);
  await context.close();
}

await mkdir(OUT, { recursive: true });
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
try {
  const only = process.argv.slice(2);
  const wanted = (name) => only.length === 0 || only.includes(name);
  if (wanted("booth") || wanted("receipt")) await boothAndReceipt(browser);
  for (const name of ["results", "ledger", "ceremony"]) if (wanted(name)) await publicPage(browser, name);
} finally {
  await browser.close();
}
