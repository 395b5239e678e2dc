// The browser tests: what a customer and a support staff see, against the real
// functions on the offline runtime. Every check waits on the page's own live
// subscriptions; nothing reloads the page unless the test is about reloading.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import OpenAI from "openai";
import type { Page } from "playwright-core";
import { assert, expectText, screenshot, type TestCase } from "./harness.ts";
import { ROOT } from "./stack.ts";
import {
  assertSameDocument,
  byTestId,
  devSignIn,
  escapeRegExp,
  markDocument,
  newPage,
  submitDevSignIn,
  type World,
} from "./browser.ts";
import { billingSpecs } from "./billingSpecs.ts";
import { connectSpecs } from "./connectSpecs.ts";
import { providerSpecs } from "./providerSpecs.ts";
import { identitySpecs } from "./identitySpecs.ts";
import { alertSpecs } from "./alertSpecs.ts";
import { credentialSpecs } from "./credentialSpecs.ts";
import { privacySpecs } from "./privacySpecs.ts";
import { consoleSpecs } from "./consoleSpecs.ts";

const run = promisify(execFile);

/**
 * The self-contained spec groups: each creates its own accounts, so `E2E_ONLY=<name>` (see
 * run.ts) can run one without the customer walk-through above. Add a group here.
 */
export function opsGroups(world: World, stamp: string): { name: string; tests: TestCase[] }[] {
  void world;
  void stamp;
  return [
    { name: "alerts", tests: alertSpecs(world, stamp) },
    { name: "credentials", tests: credentialSpecs(world, stamp) },
    { name: "privacy", tests: privacySpecs(world, stamp) },
    { name: "console", tests: consoleSpecs(world, stamp) },
  ];
}

export function specs(world: World): TestCase[] {
  const only = process.env.E2E_ONLY;
  if (only) {
    const stamp = Date.now().toString(36);
    const group = opsGroups(world, stamp).find((g) => g.name === only);
    if (!group) throw new Error(`E2E_ONLY=${only}: no such self-contained group (see opsGroups in tests/e2e/specs.ts)`);
    return group.tests;
  }
  const { stack } = world;
  const stamp = Date.now().toString(36);
  const customer = `ada-${stamp}@example.com`;
  const support = `grace-${stamp}@example.com`;
  const disposable = `someone-${stamp}@mailinator.com`;
  let page: Page;
  let secret = "";
  // The first key, shown once on the onboarding screen, and the tokens its first request used.
  let firstSecret = "";
  let firstRequestTokens = 0;

  return [
    {
      name: "a new user signs up: the onboarding screen shows the first key once, with the base URL",
      fn: async () => {
        page = await newPage(world);
        const landing = await submitDevSignIn(page, stack.appUrl, customer, "user");
        assert(landing === "onboarding", `a new account landed on "${landing}", not the onboarding screen`);
        firstSecret = await expectText(byTestId(page, "key-secret"), /^pk_live_[A-Za-z0-9]{43}$/, { what: "first key's secret" });
        const baseUrl = `${stack.siteUrl}/v1`;
        await expectText(byTestId(page, "onboarding-base-url"), baseUrl, { what: "base URL" });
        await expectText(byTestId(page, "onboarding-snippet"), new RegExp(`baseURL: "${escapeRegExp(baseUrl)}"`), {
          what: "client snippet",
        });
        await expectText(byTestId(page, "onboarding-lead"), /trial has started: 500K tokens until .*works right away/s, {
          what: "onboarding explanation",
        });
        await screenshot(page, "00-onboarding-first-key");

        await page.getByRole("button", { name: "I've saved it, continue" }).click();
        await byTestId(page, "account-email").waitFor();
        assert(!(await page.content()).includes(firstSecret), "the first key's secret is still in the page after continuing");
      },
    },
    {
      name: "the new account is a trial with its first key; the secret does not come back",
      fn: async () => {
        await expectText(byTestId(page, "plan-badge"), "Trial plan", { what: "plan badge" });
        await expectText(byTestId(page, "state-badge"), "Trial", { what: "state badge" });
        await expectText(byTestId(page, "trial-days-left"), /^14 days left in your trial/, { what: "trial countdown" });
        // The setup guide: the key is there, Dex and the first request are still to do.
        await page.locator('[data-testid="setup-step-key"][data-done="true"]').waitFor();
        await expectText(byTestId(page, "setup-request-status"), "Waiting", { what: "first-request step" });
        await expectText(byTestId(page, "setup-base-url"), `${stack.siteUrl}/v1`, { what: "guide's base URL" });
        await expectText(byTestId(page, "setup-count"), "1 of 4 done", { what: "guide progress" });
        await screenshot(page, "01-dashboard-new-trial");

        // Each sign-in runs signup again: an existing account gets the dashboard, never the key.
        await page.reload();
        await byTestId(page, "account-email").waitFor();
        assert((await byTestId(page, "onboarding").count()) === 0, "the onboarding screen came back after a reload");
        assert(!(await page.content()).includes(firstSecret), "the first key's secret came back after a reload");
        // The guide links to the keys page too; this is the sidebar's link.
        await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "API keys" }).click();
        await expectText(byTestId(page, "key-row"), /First key/, { what: "the first key in the list" });
        assert(!(await page.content()).includes(firstSecret), "the keys page shows the first key's secret");
        await page.getByRole("link", { name: "Dashboard" }).click();
      },
    },
    {
      name: "the dashboard renders the account and this month's meter",
      fn: async () => {
        await expectText(byTestId(page, "account-email"), customer, { what: "sidebar email" });
        await expectText(byTestId(page, "dashboard-email"), customer, { what: "account card email" });
        await expectText(byTestId(page, "plan-included"), "500K tokens", { what: "plan allowance" });
        await expectText(byTestId(page, "meter-used"), "0 tokens", { what: "meter used" });
        await expectText(byTestId(page, "meter-included"), "500K tokens", { what: "meter included" });
        await expectText(byTestId(page, "meter-remaining"), "500K tokens", { what: "meter remaining" });
        await expectText(byTestId(page, "meter-spend"), "$0.00", { what: "meter spend" });
        // The model cost is not the customer's bill; the bill is the plan's price plus overage.
        await expectText(byTestId(page, "meter-spend").locator("xpath=preceding-sibling::dt"), "Model cost at list price", {
          what: "model cost label",
        });
        await expectText(byTestId(page, "meter-bill"), "$0.00", { what: "trial bill" });
        const adminLinks = await page.getByRole("link", { name: "Admin console" }).count();
        assert(adminLinks === 0, "a customer must not see the admin console link");
      },
    },
    {
      name: "an in-app alert appears live and dismissing it removes it",
      fn: async () => {
        // The rollup raises quota alerts (tested with the backend); here the row is
        // written directly so the test does not need 400K tokens of traffic.
        const message = "You have used 80% of the 500,000 tokens included in your Trial plan.";
        await stack.runtime.engine.runInline(async (ctx) => {
          const user = await ctx.db
            .query("users")
            .withIndex("by_email", (q) => q.eq("email", customer))
            .first();
          assert(user, "the signed-in customer has no users row");
          await ctx.db.insert("alerts", { userId: user._id, kind: "quota_80", severity: "warning", message, at: Date.now() });
        });
        await expectText(byTestId(page, "alert-message"), message, { what: "alert notice" });
        await screenshot(page, "01b-dashboard-alert");
        await byTestId(page, "alert").getByRole("button", { name: /^Dismiss/ }).click();
        await byTestId(page, "alert").waitFor({ state: "detached" });
      },
    },
    {
      name: "a request with the signup key turns the guide's first-request step live",
      fn: async () => {
        await markDocument(page);
        const client = new OpenAI({ apiKey: firstSecret, baseURL: `${stack.siteUrl}/v1`, maxRetries: 0 });
        const reply = await client.chat.completions.create({
          model: "gpt-4o-mini",
          messages: [{ role: "user", content: "Hello from the signup test." }],
          max_tokens: 32,
        });
        firstRequestTokens = reply.usage?.total_tokens ?? 0;
        assert(firstRequestTokens > 0, "the proxy reported no usage for the first request");
        await expectText(byTestId(page, "setup-request-status"), "Live", { what: "first-request step" });
        await page.locator('[data-testid="setup-step-request"][data-done="true"]').waitFor();
        await expectText(byTestId(page, "setup-first-request"), /^Your first request arrived just now/, {
          what: "first-request note",
        });
        await expectText(byTestId(page, "setup-count"), "3 of 4 done", { what: "guide progress" });
        await assertSameDocument(page);
        await screenshot(page, "01c-setup-guide-first-request-live");
      },
    },
    {
      name: "a plan changed from the CLI appears on the open page without a reload",
      fn: async () => {
        await markDocument(page);
        await run(
          process.execPath,
          [
            path.join(ROOT, "node_modules/tsx/dist/cli.mjs"),
            path.join(ROOT, "scripts/cli.ts"),
            "accounts",
            "set-plan",
            "--email",
            customer,
            "--plan",
            "basic",
            "--reason",
            "browser test: upgrade from outside",
          ],
          { cwd: ROOT, env: { ...process.env, CONVEX_URL: stack.convexUrl, CONVEX_ADMIN_KEY: stack.adminKey } },
        );
        await expectText(byTestId(page, "plan-badge"), "Basic plan", { what: "plan badge after CLI change" });
        await expectText(byTestId(page, "meter-included"), "5M tokens", { what: "meter included after upgrade" });
        await expectText(byTestId(page, "meter-bill"), "$50.00", { what: "bill after upgrade" });
        // The guide's last step follows the plan.
        await page.locator('[data-testid="setup-step-plan"][data-done="true"]').waitFor();
        await expectText(byTestId(page, "setup-count"), "4 of 4 done", { what: "guide progress" });
        await assertSameDocument(page);
        await screenshot(page, "02-dashboard-after-cli-plan-change");
      },
    },
    {
      name: "the setup guide can be closed, stays closed after a reload and comes back on request",
      fn: async () => {
        await byTestId(page, "setup-guide").getByRole("button", { name: "Close the guide" }).click();
        await byTestId(page, "setup-guide").waitFor({ state: "detached" });
        await page.reload();
        await page.getByRole("button", { name: "Show setup guide" }).waitFor();
        assert((await byTestId(page, "setup-guide").count()) === 0, "the closed guide came back after a reload");
        await screenshot(page, "01e-dashboard-guide-closed");
        await page.getByRole("button", { name: "Show setup guide" }).click();
        await expectText(byTestId(page, "setup-count"), "4 of 4 done", { what: "guide brought back" });
        await byTestId(page, "setup-guide").getByRole("button", { name: "Close the guide" }).click();
        await page.getByRole("button", { name: "Show setup guide" }).waitFor();
      },
    },
    {
      name: "creating a key shows the secret once",
      fn: async () => {
        await page.getByRole("link", { name: "API keys" }).click();
        await page.getByLabel("Name").fill("Home server");
        await page.getByRole("button", { name: "Create key" }).click();
        const dialog = byTestId(page, "secret-dialog");
        secret = await expectText(byTestId(page, "key-secret"), /^pk_live_[A-Za-z0-9]{20,}$/, { what: "new secret" });
        await screenshot(page, "03-key-secret-dialog");
        await dialog.getByRole("button", { name: "I have copied it" }).click();
        await byTestId(page, "key-row").first().waitFor();
        const html = await page.content();
        assert(!html.includes(secret), "the secret is still in the page after the dialog closed");
        await expectText(byTestId(page, "key-status"), "Active", { what: "new key status" });
        await page.reload();
        await byTestId(page, "key-row").first().waitFor();
        assert(!(await page.content()).includes(secret), "the secret came back after a reload");
        await screenshot(page, "04-keys-list");
      },
    },
    {
      name: "requests flowing through the proxy move the usage meter live",
      fn: async () => {
        assert(secret, "needs the key from the previous test");
        await page.getByRole("link", { name: "Usage" }).click();
        // The signup test's first request is already on the meter.
        let total = firstRequestTokens;
        await expectText(byTestId(page, "usage-used"), `${total} tokens`, { what: "usage before the requests" });
        await markDocument(page);
        // Three requests one after another: the open page follows each settle.
        for (const prompt of ["Say hello to the browser test.", "And once more, longer this time please.", "Last one."]) {
          const response = await fetch(`${stack.siteUrl}/v1/chat/completions`, {
            method: "POST",
            headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
            body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: prompt }], max_tokens: 64 }),
          });
          const body = (await response.json()) as { usage?: { total_tokens?: number } };
          assert(response.status === 200, `proxy answered ${response.status}: ${JSON.stringify(body)}`);
          const used = body.usage?.total_tokens ?? 0;
          assert(used > 0, "the proxy reported no usage");
          total += used;
          await expectText(byTestId(page, "usage-used"), `${total} tokens`, { what: `meter after ${total} tokens` });
        }
        await page.locator('[data-testid="recent-table"] tbody tr').nth(3).waitFor();
        await byTestId(page, "daily-chart").locator(".recharts-bar-rectangle").first().waitFor();
        await assertSameDocument(page);
        await screenshot(page, "05-usage-after-request");
      },
    },
    {
      name: "rotating a key shows the new secret once and when the old one stops",
      fn: async () => {
        await page.getByRole("link", { name: "API keys" }).click();
        await byTestId(page, "key-row").filter({ hasText: "Home server" }).getByRole("button", { name: "Rotate" }).click();
        await page.getByLabel("Old key stops working").selectOption("1");
        await page.getByRole("button", { name: "Rotate key" }).click();
        const fresh = await expectText(byTestId(page, "key-secret"), /^pk_live_[A-Za-z0-9]{20,}$/, { what: "rotated secret" });
        assert(fresh !== secret, "rotation returned the old secret");
        await expectText(byTestId(page, "rotation-grace"), /keeps working until .* \(in 1 hour\)/, { what: "grace notice" });
        await screenshot(page, "06-key-rotated");
        await page.getByRole("button", { name: "I have copied it" }).click();
        const statuses = async () =>
          (await byTestId(page, "key-status").allTextContents()).map((t) => t.trim()).sort().join(",");
        await expectText(byTestId(page, "keys-table"), /Grace period/, { what: "keys table after rotation" });
        // The signup's first key, the rotated replacement and the old key in its grace period.
        assert((await statuses()) === "Active,Active,Grace period", `statuses after rotation: ${await statuses()}`);

        // Revoking the old key in its grace period cuts it off at the proxy.
        const graceRow = byTestId(page, "key-row").filter({ hasText: "Grace period" });
        await graceRow.getByRole("button", { name: "Revoke" }).click();
        await page.getByRole("button", { name: "Revoke key" }).click();
        await expectText(byTestId(page, "keys-table"), /Revoked/, { what: "keys table after revoke" });
        const refused = await fetch(`${stack.siteUrl}/v1/models`, { headers: { authorization: `Bearer ${secret}` } });
        assert(refused.status === 401, `the revoked key still works at the proxy (HTTP ${refused.status})`);
        const accepted = await fetch(`${stack.siteUrl}/v1/models`, { headers: { authorization: `Bearer ${fresh}` } });
        assert(accepted.status === 200, `the rotated key is refused at the proxy (HTTP ${accepted.status})`);
        await screenshot(page, "07-keys-after-rotate-and-revoke");
      },
    },
    {
      name: "a disposable address is refused with the reason, also after a reload",
      fn: async () => {
        const refused = await newPage(world);
        const landing = await submitDevSignIn(refused, stack.appUrl, disposable, "user");
        assert(landing === "refused", `a disposable address landed on "${landing}", not the refusal`);
        const message = "Disposable email addresses can't be used; use your own address.";
        await expectText(byTestId(refused, "signup-refusal-message"), message, { what: "refusal message" });
        assert((await byTestId(refused, "key-secret").count()) === 0, "a refused signup was shown a key");
        // A disposable address will not pass later either: no "Try again", only the way out.
        assert((await refused.getByRole("button", { name: "Try again" }).count()) === 0, "a permanent refusal offers a retry");
        await screenshot(refused, "00b-signup-refused");

        await refused.reload();
        await expectText(byTestId(refused, "signup-refusal-message"), message, { what: "refusal after a reload" });
        assert((await byTestId(refused, "account-email").count()) === 0, "a refused account reached the app");
        await refused.getByRole("button", { name: "Sign out" }).click();
        await refused.getByRole("heading", { name: "Sign in" }).waitFor();
        await refused.context().close();
      },
    },
    {
      name: "support finds the account and a suspension reaches the customer live",
      fn: async () => {
        const staff = await newPage(world);
        await devSignIn(staff, stack.appUrl, support, "support");
        await staff.getByRole("link", { name: "Admin console" }).click();
        await staff.getByLabel("Search by email").fill(customer.slice(0, 8));
        await staff.getByRole("link", { name: customer }).click();
        await expectText(byTestId(staff, "admin-plan"), "Basic plan", { what: "admin plan badge" });
        // The CLI's change is on the record, with its reason.
        await expectText(byTestId(staff, "audit-log"), /account\.plan_changed.*browser test: upgrade from outside/s, {
          what: "audit log",
        });

        await page.getByRole("link", { name: "Dashboard" }).click();
        const before = (await byTestId(page, "state-badge").textContent())?.trim() ?? "";
        await markDocument(page);
        await staff.getByLabel("Reason").nth(1).fill("browser test: abuse report");
        await staff.getByRole("button", { name: "Suspend" }).click();
        await expectText(byTestId(staff, "admin-state"), "Suspended", { what: "admin state badge" });
        await expectText(byTestId(page, "state-badge"), "Suspended", { what: "customer state badge" });
        await expectText(byTestId(page, "state-explanation"), /suspended/i, { what: "customer explanation" });
        await assertSameDocument(page);
        await screenshot(staff, "08-admin-account-suspended");
        await screenshot(page, "09-customer-suspended");

        await staff.getByLabel("Reason").nth(1).fill("browser test: resolved");
        await staff.getByRole("button", { name: "Unsuspend" }).click();
        // Unsuspending resumes the state the suspension interrupted.
        await expectText(byTestId(page, "state-badge"), before, { what: "customer state after unsuspend" });
      },
    },
    {
      name: "the support console shows how an account signed up: attempts, steps in order, onboarding mail",
      fn: async () => {
        const staff = world.pages[world.pages.length - 1];
        const history = byTestId(staff, "signup-history");
        await expectText(byTestId(staff, "signup-attempts"), /Created.*Passed every check/s, { what: "signup attempt" });
        await expectText(byTestId(staff, "signup-step"), /^\+0 s.*account\.created/s, { what: "first signup step" });
        await expectText(byTestId(staff, "signup-steps"), /signup\.completed/, { what: "completed step" });
        const offsets = (await byTestId(staff, "signup-step").locator("td:first-child").allTextContents()).map((t) => t.trim());
        assert(
          offsets.length >= 2 && offsets.every((o) => /^\+\d+(\.\d)? (s|min)/.test(o)),
          `steps carry their time after the first: ${offsets.join(", ")}`,
        );
        await expectText(byTestId(staff, "signup-emails"), /Welcome/, { what: "welcome mail" });
        const statuses = (await byTestId(staff, "signup-email-status").allTextContents()).map((t) => t.trim());
        assert(
          statuses.length >= 1 && statuses.every((st) => /^(Queued|Sending|Sent|Failed|Skipped)$/.test(st)),
          `onboarding mail statuses: ${statuses.join(", ")}`,
        );
        await history.scrollIntoViewIfNeeded();
        await screenshot(staff, "08c-admin-signup-history");

        // The refused signup: a pending account whose one attempt says why.
        await staff.getByRole("link", { name: "Admin console" }).click();
        await staff.getByLabel("Search by email").fill(disposable);
        await staff.getByRole("link", { name: disposable }).click();
        await expectText(byTestId(staff, "admin-state"), "Pending", { what: "refused account's state" });
        await expectText(byTestId(staff, "signup-attempts"), /Refused.*Disposable email address.*disposable_email/s, {
          what: "refused attempt",
        });
        await expectText(byTestId(staff, "signup-steps"), /account\.created_pending.*signup\.refused/s, { what: "refused steps" });
        await screenshot(staff, "08d-admin-signup-refused");
      },
    },
    {
      name: "the accounts list pages through a search and says when nothing matches",
      fn: async () => {
        const staff = world.pages[world.pages.length - 1];
        // Thirty accounts seen a day ago, written directly: more than one page of the search.
        const prefix = `bulk-${stamp}-`;
        await stack.runtime.engine.runInline(async (ctx) => {
          for (let i = 0; i < 30; i++) {
            const email = `${prefix}${String(i).padStart(2, "0")}@example.com`;
            await ctx.db.insert("users", {
              tokenIdentifier: `e2e|${email}`,
              email,
              role: "user",
              state: "trial",
              plan: "trial",
              lastSeenAt: Date.now() - 86_400_000,
            });
          }
        });
        await staff.getByRole("link", { name: "Admin console" }).click();
        const search = staff.getByLabel("Search by email");
        await search.fill(prefix);
        await expectText(byTestId(staff, "accounts-count"), `Showing 25 accounts matching “${prefix}”`, { what: "first page" });
        await screenshot(staff, "08a-admin-accounts-first-page");
        await staff.getByRole("button", { name: "Load more" }).click();
        await expectText(byTestId(staff, "accounts-count"), `30 accounts match “${prefix}”`, { what: "count after loading more" });
        assert((await staff.getByRole("button", { name: "Load more" }).count()) === 0, "Load more is offered after the last page");
        const emails = await byTestId(staff, "accounts-table").locator("tbody tr td:first-child").allTextContents();
        assert(
          emails.length === 30 && emails.join() === [...emails].sort().join(),
          `a search lists its matches in email order: ${emails.join(", ")}`,
        );

        await search.fill(`nobody-${stamp}`);
        await expectText(byTestId(staff, "empty-state"), new RegExp(`^No accounts match “nobody-${stamp}”`), {
          what: "empty search",
        });
        await screenshot(staff, "08b-admin-accounts-no-match");
        await staff.getByRole("button", { name: "Clear search" }).click();
        await staff.waitForFunction(() => (document.getElementById("account-search") as HTMLInputElement | null)?.value === "");
        // Without a search, the most recently seen accounts come first: the customer is on page one.
        await byTestId(staff, "accounts-table").getByRole("link", { name: customer }).waitFor();
      },
    },
    {
      name: "refusals and failed queries show the server's message, not a blank page",
      fn: async () => {
        const staff = world.pages[world.pages.length - 1];
        await staff.getByRole("link", { name: "Admin console" }).click();
        await staff.getByLabel("Search by email").fill(support);
        await staff.getByRole("link", { name: support }).click();
        await staff.getByLabel("Reason").nth(1).fill("browser test: self-suspension");
        await staff.getByRole("button", { name: "Suspend" }).click();
        await expectText(byTestId(staff, "error-notice"), "You cannot suspend your own account.", {
          what: "refusal message",
        });
        await screenshot(staff, "10-admin-refusal");

        await staff.goto(`${stack.appUrl}/admin/accounts/not-an-account-id`);
        await expectText(byTestId(staff, "error-notice"), /\S/, { what: "failed query message" });
        const text = (await byTestId(staff, "error-notice").textContent()) ?? "";
        assert(!/\[Request ID|Server Error$/.test(text), `raw transport error shown: ${text}`);
        await staff.getByRole("link", { name: "Dashboard" }).waitFor();
        await screenshot(staff, "11-admin-bad-account-id");
      },
    },
    {
      name: "a customer opening the admin console gets a friendly refusal",
      fn: async () => {
        await page.goto(`${stack.appUrl}/admin`);
        await page.getByRole("heading", { name: "Support access only" }).waitFor();
        await page.goto(`${stack.appUrl}/no-such-page`);
        await page.getByRole("heading", { name: "Page not found" }).waitFor();
        await screenshot(page, "12-not-found");
      },
    },
    {
      name: "a key revoked in another tab: the open rotate dialog shows the refusal until cancelled",
      fn: async () => {
        await page.goto(`${stack.appUrl}/keys`);
        await page.getByLabel("Name").fill("Spare key");
        await page.getByRole("button", { name: "Create key" }).click();
        await byTestId(page, "secret-dialog").getByRole("button", { name: "I have copied it" }).click();
        const spareRow = (p: Page) => byTestId(p, "key-row").filter({ hasText: "Spare key" });
        await spareRow(page).getByRole("button", { name: "Rotate" }).click();
        const dialog = page.getByRole("dialog", { name: "Rotate this key?" });
        await dialog.waitFor();
        await screenshot(page, "07b-rotate-confirm");

        const other = await newPage(world, page.context());
        await other.goto(`${stack.appUrl}/keys`);
        await spareRow(other).getByRole("button", { name: "Revoke" }).click();
        await other.getByRole("button", { name: "Revoke key" }).click();
        await expectText(spareRow(other).locator('[data-testid="key-status"]'), "Revoked", { what: "other tab's row" });
        await other.close();

        await dialog.getByRole("button", { name: "Rotate key" }).click();
        await expectText(dialog.locator('[data-testid="error-notice"]'), "This key is revoked; rotate its replacement instead.", {
          what: "refusal in the dialog",
        });
        assert(await dialog.getByRole("button", { name: "Rotate key" }).isEnabled(), "confirm stays disabled after a refusal");
        await screenshot(page, "07c-rotate-refused");
        await dialog.getByRole("button", { name: "Cancel" }).click();
        await dialog.waitFor({ state: "hidden" });

        // The refusal belonged to that attempt: the next rotation starts clean.
        await byTestId(page, "key-row").filter({ hasText: "Active" }).first().getByRole("button", { name: "Rotate" }).click();
        await dialog.waitFor();
        assert((await dialog.locator('[data-testid="error-notice"]').count()) === 0, "an old refusal came back with the dialog");
        await dialog.getByRole("button", { name: "Cancel" }).click();
        await dialog.waitFor({ state: "hidden" });
      },
    },
    ...billingSpecs(world, { stamp, support, customerPage: () => page }),
    ...connectSpecs(world, { stamp }),
    ...identitySpecs(world, { stamp, support }),
    // Self-contained groups (each signs in its own people); `E2E_ONLY=<name>` runs one alone.
    ...opsGroups(world, stamp).flatMap((group) => group.tests),
    // Late: the breaker it opens refuses OpenAI requests for its cool-down afterwards.
    ...providerSpecs(world, { stamp, support }),
    {
      name: "the page says so when the backend goes away instead of showing stale numbers",
      fn: async () => {
        await page.goto(stack.appUrl);
        await byTestId(page, "meter-used").waitFor();
        assert((await byTestId(page, "connection-notice").count()) === 0, "connection notice shown while connected");
        // Last test with a backend: everything after this runs signed-out, in the browser only.
        await stack.runtime.close();
        await expectText(byTestId(page, "connection-notice"), /^Connection lost; reconnecting/, {
          what: "connection notice",
        });
        await screenshot(page, "13-connection-lost");
      },
    },
    {
      name: "signing out returns to the sign-in screen and forgets the token",
      fn: async () => {
        await page.getByRole("button", { name: "Sign out" }).click();
        await page.getByRole("heading", { name: "Sign in" }).waitFor();
        const stored = await page.evaluate(() => window.localStorage.length);
        assert(stored === 0, "the dev token is still in localStorage after sign-out");
        await page.reload();
        await page.getByRole("heading", { name: "Sign in" }).waitFor();
      },
    },
  ];
}
