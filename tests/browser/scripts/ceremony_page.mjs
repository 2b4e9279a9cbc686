// The key ceremony in the browser: the public page shows the rounds, the verdicts and the joint
// key to an anonymous visitor; a trustee creates an API credential on their page and sees the
// token once (a reload does not show it again), then uploads a message file on the ceremony page
// of a running ceremony (the air gap) and sees the refusal of a wrong one next to the field.
import { logIn, main, newSession, submitMainForm } from "./lib.mjs";

await main(async (browser, input, step) => {
  const visitor = await newSession(browser, input);
  const trustee = await newSession(browser, input);

  step("anonymous visitor opens the finished ceremony");
  const { page } = visitor;
  await page.goto(`/voting/${input.done}/ceremony/`);
  const outcome = (await page.locator("#ceremony-outcome").textContent()).trim();
  const rounds = await page.locator("#rounds tbody tr").evaluateAll((rows) =>
    rows.map((row) => Array.from(row.children, (cell) => cell.textContent.trim())),
  );
  const jointKey = await page.locator("#joint-key").textContent();
  const verdicts = await page.locator("#verdicts li").allTextContents();
  const visitorHasUpload = await page.locator("#trustee-tools").count();

  step("trustee creates a credential");
  const t = trustee.page;
  await logIn(t, input.trustee, input.password);
  await t.goto("/");
  await t.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Trustee" }).click();
  await t.getByLabel("Label (which machine it is for)").fill("offline laptop");
  await submitMainForm(t, "Create a credential");
  const token = await t.locator("#new-token").textContent();
  const notice = await t.locator("#new-credential").innerText();
  const listed = await t.locator("#credentials tbody tr").allTextContents();
  const ceremonies = await t.locator("#ceremonies li").allTextContents();

  step("the token is not shown again");
  await t.goto("/trustee/credentials/");
  const tokenShownAgain = await t.locator("#new-token").count();
  const pageText = await t.locator("main").innerText();

  step("trustee uploads a wrong, then a right message on the running ceremony");
  await t.goto(`/voting/${input.running}/ceremony/`);
  await t.getByLabel("Message file (JSON) written by the trustee program").setInputFiles({
    name: "announcement-2.json",
    mimeType: "application/json",
    buffer: Buffer.from(JSON.stringify(input.wrongMessage)),
  });
  await submitMainForm(t, "Upload my message");
  const uploadError = await t.locator("#id_message_errors").textContent();
  await t.getByLabel("Message file (JSON) written by the trustee program").setInputFiles({
    name: "announcement-1.json",
    mimeType: "application/json",
    buffer: Buffer.from(JSON.stringify(input.rightMessage)),
  });
  await submitMainForm(t, "Upload my message");
  const uploaded = await t.locator("main .messages").textContent();
  const runningRounds = await t.locator("#rounds tbody tr").first().innerText();

  return {
    outcome,
    rounds,
    jointKey,
    verdicts,
    visitorHasUpload,
    token,
    notice,
    listed,
    ceremonies,
    tokenShownAgain,
    tokenInPage: pageText.includes(token),
    uploadError,
    uploaded,
    runningRounds,
    consoleErrors: [...visitor.log.consoleErrors, ...trustee.log.consoleErrors],
  };
});
