// Every journey of one election in Chromium, as the people go through it (issue 13):
//   official  writes a proposal with every question type, picks trustees, starts the ceremony
//             (the trustees' CLI runs in the test), sees it scheduled, watches the turnout,
//             closes, sees the results published;
//   citizen   signs up, creates the DID in the browser, claims residency (the official approves),
//             sees the credential, votes in the booth (token, encrypt, check, encrypt again,
//             cast, receipt, inclusion verified), then finds the results and checks that the
//             saved receipt's ballot was counted (tracking page, receipt-check page);
//   observer  follows the ledger (the observer program mirrors and cosigns in the test), audits
//             the election (the program posts its signed report) and sees it on the results page.
// Every page each of them visits is checked by checkPage (axe-core in every language, layout at
// the zoom width, motion). `input.keyboard`: the citizen uses the booth by keyboard alone.
// The test answers the pauses: "ceremony", "scheduled", "closed", "follow", "audit".
import { checkPage, downloadText, focusShown, logIn, main, newSession, openWallet, pause, signUp, submitMainForm } from "./lib.mjs";

const activeId = (page) => page.evaluate(() => document.activeElement?.id ?? "");

/** Press Tab until `selector` has the focus (at most 80 presses); report whether focus showed. */
async function tabTo(page, selector, focusLog) {
  for (let i = 0; i < 80; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) {
      focusLog.push({ selector, ...(await focusShown(page)) });
      return;
    }
    await page.keyboard.press("Tab");
  }
  throw new Error(`Tab never reached ${selector}`);
}

/** The official writes the proposal: every question type, three trustees, 2 of 3. */
async function writeProposal(official, input, check) {
  const { page } = official;
  await page.goto("/voting/official/");
  await check(official, "official desk");
  await page.getByRole("link", { name: "Write a new proposal" }).click();
  await page.waitForLoadState("load");
  await check(official, "new proposal form");
  const p = input.proposal;
  await page.getByLabel("Title", { exact: true }).fill(p.title);
  await page.getByLabel("Description").fill(p.description);
  await page.getByLabel("Voting opens").fill(p.opensAt);
  await page.getByLabel("Voting closes").fill(p.closesAt);
  for (const name of p.trustees) await page.getByLabel(name, { exact: true }).check();
  await page.getByLabel("Trustees needed to decrypt (t)").fill(String(p.threshold));
  for (const [n, q] of p.questions.entries()) {
    if (n > 0) await submitMainForm(page, "Add a question");
    const box = page.locator("fieldset.question").nth(n);
    await box.getByLabel("Type").selectOption(q.type);
    await box.getByLabel("Question id").fill(q.id);
    await box.getByLabel("Question", { exact: true }).fill(q.title);
    if (q.options) await box.getByLabel("Options").fill(q.options.join("\n"));
    for (const [label, value] of Object.entries(q.fields ?? {})) await box.getByLabel(label).fill(String(value));
  }
  await check(official, "proposal with every question type");
  await submitMainForm(page, "Save the draft");
  const saved = (await page.locator("main .messages").innerText()).trim();
  const previewTypes = await page.locator("#ballot-preview fieldset.contest").evaluateAll((sets) => sets.map((s) => s.dataset.type));
  await check(official, "draft preview");
  return { saved, previewTypes, detail: new URL(page.url()).pathname };
}

/** The citizen signs up, makes the DID in the browser and sends the residency claim. */
async function becomeResident(citizen, official, input, check) {
  const { page } = citizen;
  await signUp(page, input.citizen);
  await check(citizen, "after sign-up");
  await openWallet(page);
  await check(citizen, "empty wallet");
  await page.locator("#create-did").click();
  await page.waitForFunction(() => document.getElementById("wallet").dataset.boundDid || document.getElementById("wallet-status").classList.contains("error"));
  const did = await page.locator("#wallet").getAttribute("data-bound-did");
  await check(citizen, "wallet with a DID", true);
  await page.goto("/identity/claim/");
  await check(citizen, "claim form");
  await page.getByLabel("Legal name").fill(input.claim.legal_name);
  await page.getByLabel("Address").fill(input.claim.address);
  await page.getByLabel("District").fill(input.claim.district);
  await Promise.all([page.waitForURL("**/identity/wallet/"), page.getByRole("button", { name: "Send my claim" }).click()]);

  const review = official.page;
  await review.goto("/identity/official/claims/");
  await check(official, "claims queue");
  await review.getByRole("link", { name: `Review the claim of ${input.claim.legal_name}` }).click();
  await review.waitForLoadState("load");
  await check(official, "claim review");
  await review.getByLabel("Approve and issue the credential").check();
  await review.getByLabel("Reason").fill("lease checked at the desk");
  await Promise.all([review.waitForURL("**/identity/official/claims/"), review.getByRole("button", { name: "Record the decision" }).click()]);
  const decision = (await review.locator("main .messages").innerText()).trim();

  await openWallet(page);
  const credentials = await page.locator("main table tbody tr").evaluateAll((trs) =>
    trs.map((tr) => Array.from(tr.querySelectorAll("th, td"), (cell) => cell.textContent.trim())),
  );
  await check(citizen, "wallet with the credential", true);
  return { did, decision, credentials };
}

/** Pick the citizen's choices: by keyboard alone (Tab, Space, arrow keys) or by pointer. */
async function choose(page, choices, keyboard, focusLog) {
  for (const [contest, picks] of Object.entries(choices)) {
    for (const [option, value] of Object.entries(picks)) {
      const selector = `#c-${contest}-${option}`;
      const type = await page.locator(selector).getAttribute("type");
      if (!keyboard) {
        if (type === "number") await page.locator(selector).fill(String(value));
        else await page.locator(selector).check();
        continue;
      }
      await tabTo(page, selector, focusLog);
      if (type === "number") {
        for (let i = 0; i < value; i++) await page.keyboard.press("ArrowUp");
      } else if (!(await page.locator(selector).isChecked())) {
        await page.keyboard.press("Space");
      }
    }
  }
}

/** Press a booth button: Enter on it after tabbing there, or a click. */
async function press(page, selector, keyboard, focusLog) {
  if (keyboard) {
    await tabTo(page, selector, focusLog);
    await page.keyboard.press("Enter");
  } else {
    await page.locator(selector).click();
  }
}

/** After a booth step: where the focus went and whether it shows. */
async function focusAfter(page, step, focusLog) {
  const shown = await focusShown(page);
  focusLog.push({ step, ...shown });
  return shown.id;
}

async function vote(citizen, input, check) {
  const { page } = citizen;
  const keyboard = Boolean(input.keyboard);
  const focusLog = [];
  const statusLog = [];
  await page.goto(`/voting/${input.slug}/booth/`);
  await page.exposeFunction("recordStatus", (text) => statusLog.push(text));
  await page.evaluate(() => {
    const box = document.getElementById("booth-status");
    new MutationObserver(() => window.recordStatus(box.textContent)).observe(box, { childList: true, characterData: true, subtree: true });
  });
  const liveRegions = await page.evaluate(() =>
    ["booth-status", "booth-error"].map((id) => {
      const el = document.getElementById(id);
      return { id, role: el.getAttribute("role"), live: el.getAttribute("aria-live") };
    }),
  );
  await check(citizen, "booth");

  await choose(page, input.checked, keyboard, focusLog);
  await press(page, "#encrypt-button", keyboard, focusLog);
  await page.locator("#booth-result").waitFor({ state: "visible" });
  const checkedCode = (await page.locator("#tracking-code").textContent()).trim();
  const afterEncrypt = await focusAfter(page, "encrypted", focusLog);
  await check(citizen, "booth: encrypted ballot");
  await press(page, "#audit-button", keyboard, focusLog);
  await page.locator("#audit-result").waitFor({ state: "visible" });
  const afterAudit = await focusAfter(page, "checked", focusLog);
  const auditVerdict = (await page.locator("#audit-verdict").innerText()).trim();
  await check(citizen, "booth: checked encryption");

  // Encrypt again (the form is back with the choices as they were), then cast.
  await press(page, "#encrypt-button", keyboard, focusLog);
  await page.locator("#booth-result").waitFor({ state: "visible" });
  const castCode = (await page.locator("#tracking-code").textContent()).trim();
  const afterEncryptAgain = await focusAfter(page, "encrypted again", focusLog);
  await press(page, "#cast-button", keyboard, focusLog);
  await page.locator("#cast-result").waitFor({ state: "visible" });
  const afterCast = await focusAfter(page, "cast", focusLog);
  await check(citizen, "booth: cast");

  await page.waitForSelector("#inclusion-result[data-verified]", { timeout: 30000 });
  const inclusion = {
    verified: await page.locator("#inclusion-result").getAttribute("data-verified"),
    checks: await page.locator("#inclusion-checks li").allTextContents(),
    status: (await page.locator("#booth-status").innerText()).trim(),
    focus: await focusAfter(page, "verified", focusLog),
  };
  await check(citizen, "booth: inclusion verified");
  let download;
  if (keyboard) {
    await tabTo(page, "#full-download", focusLog);
    [download] = await Promise.all([page.waitForEvent("download"), page.keyboard.press("Enter")]);
  } else {
    [download] = await Promise.all([page.waitForEvent("download"), page.locator("#full-download").click()]);
  }
  const receipt = await downloadText(download);
  return {
    liveRegions, checkedCode, castCode, auditVerdict, inclusion, receipt, statusLog, focusLog,
    focus: { afterEncrypt, afterAudit, afterEncryptAgain, afterCast },
    receiptName: download.suggestedFilename(),
  };
}

async function results(session, input, check, label) {
  const { page } = session;
  await page.goto("/voting/");
  await page.locator(`tr[data-slug="${input.slug}"]`).getByRole("link", { name: "Results" }).click();
  await page.waitForLoadState("load");
  await check(session, label);
  return {
    path: new URL(page.url()).pathname,
    questions: await page.locator("section.results-question").evaluateAll((sections) =>
      sections.map((s) => ({
        contest: s.dataset.contest,
        rows: Array.from(s.querySelectorAll("table tbody tr"), (tr) => [tr.querySelector("th").textContent.trim(), Number(tr.querySelector("td.count").textContent.trim())]),
      })),
    ),
    turnout: (await page.locator("#turnout").innerText()).trim(),
  };
}

await main(async (browser, input, step) => {
  const findings = [];
  const check = (session, label, again = false) => checkPage(session, input, findings, label, { again });
  const options = { viewport: input.viewport, reducedMotion: input.reducedMotion ? "reduce" : undefined };
  const official = await newSession(browser, input, options);
  const citizen = await newSession(browser, input, options);
  const observer = await newSession(browser, input, options);
  const out = {};

  step("the official writes the proposal");
  await logIn(official.page, input.official, input.password);
  await check(official, "official's home");
  out.proposal = await writeProposal(official, input, check);

  step("the official starts the key ceremony");
  await submitMainForm(official.page, "Start the key ceremony");
  out.ceremonyStarted = (await official.page.locator("main .messages").innerText()).trim();
  await check(official, "ceremony started", true);
  await pause("ceremony");

  step("the ceremony is complete: the election is scheduled");
  await official.page.reload();
  out.scheduledState = (await official.page.locator("#election-state").innerText()).trim();
  await official.page.goto(`/voting/${input.slug}/ceremony/`);
  out.ceremonyOutcome = (await official.page.locator("#ceremony-outcome").innerText()).trim();
  await check(official, "public ceremony page");
  await pause("scheduled");

  step("the citizen signs up, makes a DID and gets a credential");
  out.resident = await becomeResident(citizen, official, input, check);

  step("the citizen votes");
  out.vote = await vote(citizen, input, check);

  step("the official watches the turnout and closes");
  await official.page.goto("/voting/");
  out.turnout = (await official.page.locator(`tr[data-slug="${input.slug}"] td.turnout`).innerText()).trim();
  await check(official, "election list while open");
  await official.page.goto(out.proposal.detail);
  await official.page.getByLabel("Reason for closing early").fill("the test closes the box");
  await submitMainForm(official.page, "Close voting now");
  out.closedState = (await official.page.locator("#election-state").innerText()).trim();
  await check(official, "closed election", true);
  await pause("closed");

  step("the official sees the results published");
  await official.page.reload();
  out.tallyProgress = (await official.page.locator("#official-tally-progress").innerText()).trim();
  await official.page.getByRole("link", { name: "See the results" }).click();
  await official.page.waitForLoadState("load");
  out.officialResultsPath = new URL(official.page.url()).pathname;
  await official.page.goto(`/voting/${input.slug}/decryption/`);
  await check(official, "decryption page");

  step("the citizen finds the results and checks the saved receipt");
  out.citizenResults = await results(citizen, input, check, "results (citizen)");
  const saved = JSON.parse(out.vote.receipt);
  const page = citizen.page;
  await page.goto("/voting/");
  await page.locator(`tr[data-slug="${input.slug}"]`).getByRole("link", { name: "Track a ballot" }).click();
  await page.waitForLoadState("load");
  await page.getByLabel("Tracking code").fill(saved.tracking_code);
  await Promise.all([page.waitForNavigation(), page.getByLabel("Tracking code").press("Enter")]);
  out.tracked = {
    status: await page.locator("#track-result").getAttribute("data-status"),
    heading: (await page.locator("#result-heading").innerText()).trim(),
    text: (await page.locator("#track-result [role=status]").innerText()).trim(),
  };
  await check(citizen, "tracking page with the ballot", true);
  await page.goto("/voting/verify/");
  await page.getByLabel("Receipt file").setInputFiles({ name: out.vote.receiptName, mimeType: "application/json", buffer: Buffer.from(out.vote.receipt) });
  await page.getByRole("button", { name: "Check the receipt" }).click();
  await page.waitForFunction(() => document.getElementById("receipt-ledger")?.dataset.status);
  out.receiptCheck = {
    status: (await page.locator("#receipt-status").innerText()).trim(),
    checks: await page.locator("#receipt-checks li").allTextContents(),
    ledgerStatus: await page.locator("#receipt-ledger").getAttribute("data-status"),
    focus: await activeId(page),
  };
  await check(citizen, "receipt check");

  step("the observer follows the ledger");
  const { logName } = await pause("follow");
  await observer.page.goto("/ledger/");
  out.ledgerRow = (await observer.page.locator("table.ledger-logs tbody tr").filter({ hasText: logName }).innerText()).trim();
  await check(observer, "ledger");

  step("the observer audits the election and sees the signed report");
  await pause("audit");
  await observer.page.goto(`/voting/${input.slug}/results/`);
  out.verified = (await observer.page.locator("#verified-status").innerText()).trim();
  out.reports = await observer.page.locator("#observer-reports table tbody tr").evaluateAll((rows) =>
    rows.map((tr) => ({ observer: tr.querySelector("th").textContent.trim(), verdict: tr.querySelector("td").textContent.trim() })),
  );
  await check(observer, "results with the observer's report", true);

  return {
    ...out,
    findings,
    consoleErrors: [...official.log.consoleErrors, ...citizen.log.consoleErrors, ...observer.log.consoleErrors],
  };
});
