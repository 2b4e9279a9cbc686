// An official writes a proposal in Chromium (two question types, the second added with the
// no-script "Add a question" button), sees a refusal next to the field, saves the draft, looks
// at the preview as the booth will show it, and starts the key ceremony.
import { audit, logIn, main, newSession, submitMainForm } from "./lib.mjs";

await main(async (browser, input, step) => {
  const { page, log } = await newSession(browser, input);
  const audits = [];

  step("log in and open the desk");
  await logIn(page, input.username, input.password);
  await page.goto("/voting/official/");
  audits.push(await audit(page));
  await page.getByRole("link", { name: "Write a new proposal" }).click();
  audits.push(await audit(page));

  step("write the proposal");
  await page.getByLabel("Title", { exact: true }).fill(input.title);
  await page.getByLabel("Description").fill(input.description);
  await page.getByLabel("Voting opens").fill(input.opensAt);
  await page.getByLabel("Voting closes").fill(input.closesAt);
  for (const name of input.trustees) await page.getByLabel(name, { exact: true }).check();
  await page.getByLabel("Trustees needed to decrypt (t)").fill(String(input.threshold + 5));
  const first = page.locator("fieldset.question").nth(0);
  await first.getByLabel("Type").selectOption("yes_no_abstain");
  await first.getByLabel("Question", { exact: true }).fill(input.questions[0]);

  step("add a second question");
  await submitMainForm(page, "Add a question");
  const second = page.locator("fieldset.question").nth(1);
  await second.getByLabel("Type").selectOption("budget");
  await second.getByLabel("Question", { exact: true }).fill(input.questions[1]);
  await second.getByLabel("Options").fill(input.projects.join("\n"));
  await second.getByLabel("Budget: the cap").fill(String(input.cap));

  step("a refusal shows next to the field");
  // Keyboard: focus the save button and press Enter.
  await page.getByRole("button", { name: "Save the draft" }).focus();
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.keyboard.press("Enter")]);
  const thresholdError = await page.locator("#id_threshold_errors").textContent();
  audits.push(await audit(page));
  await page.getByLabel("Trustees needed to decrypt (t)").fill(String(input.threshold));
  await submitMainForm(page, "Save the draft");

  step("the preview");
  const previewUrl = new URL(page.url()).pathname;
  const saved = await page.locator("main .messages").textContent();
  const description = await page.locator("#election-description").innerHTML();
  const legends = await page.locator("#ballot-preview legend").allTextContents();
  const optionLabels = await page.locator("#ballot-preview label").allTextContents();
  audits.push(await audit(page));

  step("start the ceremony");
  await submitMainForm(page, "Start the key ceremony");
  const afterCeremony = await page.locator("main .messages").textContent();
  const state = await page.locator("#election-state").textContent();
  const editLinks = await page.getByRole("link", { name: "Edit the draft" }).count();

  return {
    audits,
    thresholdError,
    previewUrl,
    saved,
    description,
    legends,
    optionLabels,
    afterCeremony,
    state,
    editLinks,
    consoleErrors: log.consoleErrors,
  };
});
