// The browser tests of "Download my data" and "Delete my account" on the Settings page: the export
// downloads a JSON file that holds the account's email and no key secret; the delete button stays
// disabled until the account's email is typed; deleting signs the person out, the account's row is
// gone, and signing in again with the same login starts a brand-new trial. Support's side: the
// account page shows the deletion panel. Self-contained (E2E_ONLY=privacy runs it alone).
import { readFile } from "node:fs/promises";
import { getFunctionName } from "convex/server";
import type { Page } from "playwright-core";
import { internal } from "../../convex/_generated/api.js";
import { assert, expectText, screenshot, type TestCase } from "./harness.ts";
import { byTestId, devSignIn, newPage, submitDevSignIn, type World } from "./browser.ts";

export function privacySpecs(world: World, stamp: string): TestCase[] {
  const { stack } = world;
  const customer = `erase-${stamp}@example.com`;
  const support = `erase-support-${stamp}@example.com`;
  let page: Page;
  let oldId = "";

  const account = async (email: string) =>
    (await stack.runtime.run("query", getFunctionName(internal.cli.showAccount), { email }).then(
      (r) => r as { id: string; state: string; plan: string; keys: Array<{ prefix: string }> },
      () => null,
    ));

  return [
    {
      name: "Download my data saves a JSON file with the account's email and key prefixes, never a secret",
      fn: async () => {
        page = await newPage(world);
        await devSignIn(page, stack.appUrl, customer, "user");
        await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
        const card = byTestId(page, "export-card");
        await card.waitFor();
        const [download] = await Promise.all([page.waitForEvent("download"), byTestId(page, "export-download").click()]);
        assert(/^poindexter-data-\d{4}-\d{2}-\d{2}\.json$/.test(download.suggestedFilename()), `the file is named ${download.suggestedFilename()}`);
        const path = await download.path();
        const file = JSON.parse(await readFile(path, "utf8")) as {
          profile: { email: string; plan: string };
          apiKeys: { rows: Array<{ prefix: string; hash?: string }> };
          usageEvents: unknown[];
          usageEventsComplete: boolean;
        };
        assert(file.profile.email === customer, `the export's email is ${file.profile.email}`);
        const before = await account(customer);
        assert(before !== null, "the account is missing before the deletion");
        oldId = before.id;
        assert(file.apiKeys.rows.length === before.keys.length && file.apiKeys.rows.every((k) => k.hash === undefined), "the export's keys are wrong or carry a hash");
        assert(file.usageEventsComplete === true && Array.isArray(file.usageEvents), "the usage history is incomplete");
        await expectText(byTestId(page, "export-progress"), /^Downloaded: your account and \d+ requests? of usage history\.$/, { what: "the export's status" });
        await screenshot(page, "60-settings-export");
      },
    },
    {
      name: "support sees no deletion yet on the account page, with the form to start one",
      fn: async () => {
        const staff = await newPage(world);
        await devSignIn(staff, stack.appUrl, support, "support");
        await staff.goto(`${stack.appUrl}/admin/accounts/${oldId}`);
        const panel = byTestId(staff, "deletion-support");
        await panel.getByRole("button", { name: "Delete account" }).waitFor();
        await staff.close();
      },
    },
    {
      name: "the delete button works only once the account's email is typed; deleting signs the person out",
      fn: async () => {
        const button = byTestId(page, "delete-account");
        assert(await button.isDisabled(), "the delete button is enabled before the email is typed");
        await page.locator("#delete-confirm").fill(`x${customer}`);
        assert(await button.isDisabled(), "the delete button is enabled for a wrong email");
        await page.locator("#delete-confirm").fill(customer.toUpperCase());
        assert(await button.isEnabled(), "the delete button stays disabled for the account's email");
        await screenshot(page, "61-settings-delete-confirmed");
        await button.click();
        // Signed out: the sign-in form is back.
        await page.getByRole("button", { name: "Sign in" }).waitFor({ timeout: 15_000 });
        // The process removes the account within seconds (no subscription or identity to wait for).
        const deadline = Date.now() + 30_000;
        while ((await account(customer)) !== null) {
          assert(Date.now() < deadline, "the account still exists 30 s after its deletion");
          await new Promise((r) => setTimeout(r, 250));
        }
      },
    },
    {
      name: "signing in again with the same login starts a new account on a new trial",
      fn: async () => {
        const landing = await submitDevSignIn(page, stack.appUrl, customer, "user");
        assert(landing === "onboarding", `the returning person landed on "${landing}", not a new account's onboarding`);
        const fresh = await account(customer);
        assert(fresh !== null && fresh.id !== oldId, "the new sign-in reused the deleted account");
        assert(fresh.state === "trial" && fresh.plan === "trial", `the new account is ${fresh.state} on ${fresh.plan}`);
        await screenshot(page, "62-new-account-after-deletion");
      },
    },
  ];
}
