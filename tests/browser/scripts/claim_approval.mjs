// A citizen (DID already bound) sends the residency claim form; an official, in another
// browser context, approves it from the review queue with a reason; the citizen's wallet then
// lists the credential as active and its JSON download verifies at the VC-API endpoint.
import { request } from "playwright-core";
import { downloadText, logIn, main, newSession, openWallet } from "./lib.mjs";

await main(async (browser, input, step) => {
  const citizen = await newSession(browser, input);
  const official = await newSession(browser, input);
  const { page } = citizen;

  step("citizen sends the claim form");
  await logIn(page, input.citizen.username, input.password);
  await page.goto("/identity/claim/");
  const didNotice = await page.locator("main p").first().textContent();
  await page.getByLabel("Legal name").fill(input.claim.legal_name);
  await page.getByLabel("Address").fill(input.claim.address);
  await page.getByLabel("District").fill(input.claim.district);
  await Promise.all([page.waitForURL("**/identity/wallet/"), page.getByRole("button", { name: "Send my claim" }).click()]);
  const afterClaim = await page.locator("main .messages").textContent();
  const claimsListed = await page.locator("#credentials-heading ~ ul li").allTextContents();

  step("official opens the review queue");
  const review = official.page;
  await logIn(review, input.official.username, input.password);
  await review.goto("/identity/official/claims/");
  const queueCaption = await review.locator("main table caption").textContent();
  await review.getByRole("link", { name: `Review the claim of ${input.claim.legal_name}` }).click();
  const reviewed = await review.locator("main dl").innerText();

  step("official approves with a reason");
  await review.getByLabel("Approve and issue the credential").check();
  await review.getByLabel("Reason").fill(input.reason);
  await Promise.all([
    review.waitForURL("**/identity/official/claims/"),
    review.getByRole("button", { name: "Record the decision" }).click(),
  ]);
  const decisionMessage = await review.locator("main .messages").textContent();
  const queueAfter = await review.locator("main").innerText();

  step("citizen sees the credential in the wallet");
  await openWallet(page);
  const rows = await page.locator("main table tbody tr").evaluateAll((trs) =>
    trs.map((tr) => Array.from(tr.querySelectorAll("th, td"), (cell) => cell.textContent.trim())),
  );
  const link = page.getByRole("link", { name: "JSON file" });
  const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
  const credentialText = await downloadText(download);

  step("the downloaded JSON verifies");
  const verifier = await request.newContext({ baseURL: input.base });
  const answer = await verifier.post("/api/vc/credentials/verify", {
    data: { verifiableCredential: JSON.parse(credentialText) },
  });
  const verification = { status: answer.status(), body: await answer.json() };
  await verifier.dispose();

  return {
    didNotice,
    afterClaim,
    claimsListed,
    queueCaption,
    reviewed,
    decisionMessage,
    queueAfter,
    rows,
    downloadName: download.suggestedFilename(),
    credentialText,
    verification,
    consoleErrors: [...citizen.log.consoleErrors, ...official.log.consoleErrors],
  };
});
