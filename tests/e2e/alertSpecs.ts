// The browser tests of the admin Alerts page: real requests through the `openai` SDK from five
// client addresses on one key raise "Key used from many IPs" live; support filters and
// acknowledges it with a note; an admin switches the anomaly policy to suspend, the next such
// key is suspended (the SDK gets a 403, the owner's Keys page says why), and support restores
// it from the page. Self-contained: its own accounts (E2E_ONLY=alerts runs it alone).
import OpenAI from "openai";
import { getFunctionName } from "convex/server";
import { internal } from "../../convex/_generated/api.js";
import { assert, expectText, screenshot, type TestCase } from "./harness.ts";
import { assertSameDocument, byTestId, devSignIn, markDocument, newPage, type World } from "./browser.ts";
import type { Page } from "playwright-core";

/** The evaluator leaves the newest 10 s of events for its next run (ops/alertsEvaluator.ts). */
const EVALUATOR_LAG_MS = 10_000;

export function alertSpecs(world: World, stamp: string): TestCase[] {
  const { stack } = world;
  const support = `alerts-support-${stamp}@example.com`;
  const admin = `alerts-admin-${stamp}@example.com`;
  let staff: Page;

  /** A customer on the pro plan with a key, as the CLI makes them. */
  async function customerWithKey(email: string) {
    await stack.runtime.run("mutation", getFunctionName(internal.cli.createAccount), { email, plan: "pro" });
    const { secret } = (await stack.runtime.run("mutation", getFunctionName(internal.cli.createApiKey), { email })) as { secret: string };
    return { secret, prefix: secret.slice(0, 16), client: new OpenAI({ apiKey: secret, baseURL: `${stack.siteUrl}/v1`, maxRetries: 0 }) };
  }

  /** One request from each of `n` client addresses, then the evaluator once they are past its lag. */
  async function fromManyAddresses(client: OpenAI, n: number, tag: string) {
    for (let i = 1; i <= n; i++) {
      await client.chat.completions.create(
        { model: "gpt-4o-mini", messages: [{ role: "user", content: "Who am I?" }] },
        { headers: { "x-forwarded-for": `198.51.100.${i}, 10.0.0.${tag}` } },
      );
    }
    await new Promise((r) => setTimeout(r, EVALUATOR_LAG_MS + 1_000));
    await stack.runtime.run("mutation", getFunctionName(internal.ops.alertsEvaluator.evaluate), {});
  }

  const alertRow = (page: Page, prefix: string) =>
    byTestId(page, "active-alert").filter({ has: page.locator('[data-testid="alert-message"]', { hasText: prefix }) });

  return [
    {
      name: "a customer cannot open the Alerts page",
      fn: async () => {
        const page = await newPage(world);
        await devSignIn(page, stack.appUrl, `alerts-customer-${stamp}@example.com`, "user");
        await page.goto(`${stack.appUrl}/admin/alerts`);
        await page.getByRole("heading", { name: "Support access only" }).waitFor();
        assert((await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Alerts" }).count()) === 0, "a customer sees the Alerts link");
        await page.close();
      },
    },
    {
      name: "support watches a key used from five addresses raise an alert live, filters for it and acknowledges it with a note",
      fn: async () => {
        staff = await newPage(world);
        await devSignIn(staff, stack.appUrl, support, "support");
        await staff.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Alerts" }).click();
        await staff.getByRole("heading", { name: "Alerts", exact: true }).waitFor();
        // Loaded: rows, or the empty state of a quiet deployment.
        await staff.getByRole("region", { name: "Active alerts" }).getByText(/All quiet|Open|Acknowledged/).first().waitFor();
        await markDocument(staff);

        const shared = await customerWithKey(`alerts-shared-${stamp}@example.com`);
        await fromManyAddresses(shared.client, 5, "1");

        const row = alertRow(staff, shared.prefix);
        await expectText(row.locator('[data-testid="alert-rule"]'), "Key used from many IPs", { what: "rule", timeout: 15_000 });
        await expectText(row.locator('[data-testid="alert-status"]'), "Open", { what: "status" });
        await expectText(row.locator('[data-testid="alert-message"]'), /used from 5 different client addresses within 10 minutes/, { what: "message" });
        await assertSameDocument(staff);

        // Filters: the rule keeps it, another rule hides it, and "All rules" brings it back.
        await staff.getByLabel("Rule").selectOption({ label: "Payment failed" });
        await alertRow(staff, shared.prefix).waitFor({ state: "detached" });
        await staff.getByLabel("Rule").selectOption({ label: "Key used from many IPs" });
        await alertRow(staff, shared.prefix).waitFor();
        await staff.getByLabel("Severity").selectOption("critical");
        await alertRow(staff, shared.prefix).waitFor({ state: "detached" });
        await staff.getByLabel("Severity").selectOption("all");
        await staff.getByLabel("Rule").selectOption({ label: "All rules" });

        await row.getByRole("button", { name: "Acknowledge" }).click();
        // An empty note is refused by the form (required) before it reaches the backend.
        await row.getByLabel("Note").fill("Asked the customer whether this is their CI fleet");
        await row.getByRole("button", { name: "Acknowledge" }).click();
        await expectText(row.locator('[data-testid="alert-status"]'), "Acknowledged", { what: "status after acknowledging" });
        await expectText(row.locator('[data-testid="alert-note"]'), "Asked the customer whether this is their CI fleet", { what: "note" });
        await staff.getByLabel("Status").selectOption("open");
        await alertRow(staff, shared.prefix).waitFor({ state: "detached" });
        await staff.getByLabel("Status").selectOption("all");
        await assertSameDocument(staff);
        await screenshot(staff, "50-admin-alerts-acknowledged");
      },
    },
    {
      name: "an admin sets the policy to suspend; the next such key is refused with a 403, its owner sees why, support restores it and resolves the first alert into the history",
      fn: async () => {
        const boss = await newPage(world);
        await devSignIn(boss, stack.appUrl, admin, "admin");
        await boss.goto(`${stack.appUrl}/admin/alerts`);
        const policy = boss.getByRole("form", { name: "Anomaly policy" });
        await policy.getByLabel("Key used from many IPs").selectOption("alert_and_suspend");
        await policy.getByLabel("Reason").fill("Keys shared across many machines are against the terms");
        await policy.getByRole("button", { name: "Save policy" }).click();
        await policy.getByText("Policy saved.").waitFor();
        // Support reads the policy (live) but has no editor.
        await expectText(byTestId(staff, "policy-many-ips"), /^Alert and suspend the key/, { what: "policy as support sees it" });
        assert((await staff.getByRole("button", { name: "Save policy" }).count()) === 0, "support can edit the policy");

        const email = `alerts-stolen-${stamp}@example.com`;
        const stolen = await customerWithKey(email);
        await fromManyAddresses(stolen.client, 5, "2");
        const err = await stolen.client.chat.completions
          .create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Still there?" }] })
          .then(() => null, (e: unknown) => e as { status?: number; code?: string });
        assert(err?.status === 403 && err.code === "key_suspended", `a suspended key answered ${err?.status ?? 200} ${err?.code ?? ""}`);

        const suspended = byTestId(staff, "suspended-key-row").filter({ hasText: stolen.prefix });
        await suspended.waitFor();
        await expectText(alertRow(staff, stolen.prefix).locator('[data-testid="alert-message"]'), /used from 5 different client addresses/, { what: "second alert" });

        // The owner's Keys page says the key is suspended and why.
        const owner = await newPage(world);
        await devSignIn(owner, stack.appUrl, email, "user");
        await owner.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "API keys" }).click();
        const keyRow = owner.locator("tr").filter({ hasText: stolen.prefix });
        await expectText(keyRow.locator('[data-testid="key-status"]'), "Suspended", { what: "key status on the Keys page" });
        await expectText(keyRow.locator('[data-testid="key-suspended-reason"]'), /used from many different addresses/, { what: "why" });
        await markDocument(owner);

        await suspended.getByLabel("Reason").fill("Customer confirmed a deploy fleet; rotating the key with them");
        await suspended.getByRole("button", { name: "Restore key" }).click();
        await suspended.waitFor({ state: "detached" });
        await expectText(keyRow.locator('[data-testid="key-status"]'), "Active", { what: "key status after restore" });
        await assertSameDocument(owner);
        await stolen.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Back?" }] });

        // Resolving by hand moves the first alert to the history, with who resolved it.
        const first = alertRow(staff, "alerts-shared-");
        await first.getByRole("button", { name: "Resolve" }).click();
        await first.getByLabel("Note").fill("Customer confirmed: their CI fleet");
        await first.getByRole("button", { name: "Resolve" }).click();
        await first.waitFor({ state: "detached" });
        const resolved = byTestId(staff, "resolved-alert").filter({ hasText: "alerts-shared-" });
        await expectText(resolved.locator('[data-testid="alert-status"]'), "Resolved", { what: "resolved row" });
        await resolved.getByText(`by ${support}`).waitFor();

        // Leave the shared stack as it was: alert only.
        await policy.getByLabel("Key used from many IPs").selectOption("alert");
        await policy.getByLabel("Reason").fill("End of the browser test");
        await policy.getByRole("button", { name: "Save policy" }).click();
        await expectText(byTestId(staff, "policy-many-ips"), /^Alert only/, { what: "policy back to alert only" });
        await screenshot(staff, "51-admin-alerts-policy-and-suspension");
        await owner.close();
        await boss.close();
      },
    },
  ];
}
