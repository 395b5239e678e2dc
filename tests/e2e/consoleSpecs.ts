// The browser tests of the ops console: support filters accounts by state and plan (kept in the
// URL), reads the overview's figures after a refresh and checks them against the backend,
// retries a failed mail from Background work, and refunds part of an invoice bought through
// the simulator's hosted Stripe checkout, watching it turn refunded live. Self-contained: its own
// accounts (E2E_ONLY=console runs it alone).
import OpenAI from "openai";
import { getFunctionName } from "convex/server";
import type { Page } from "playwright-core";
import { internal } from "../../convex/_generated/api.js";
import { monthOf } from "../../convex/model/calendar.ts";
import { assert, expectText, screenshot, type TestCase } from "./harness.ts";
import { assertSameDocument, byTestId, devSignIn, markDocument, newPage, type World } from "./browser.ts";

const formatInteger = (n: number) => Math.round(n).toLocaleString("en-US");

export function consoleSpecs(world: World, stamp: string): TestCase[] {
  const { stack } = world;
  const support = `console-support-${stamp}@example.com`;
  const prefix = `console-${stamp}-`;
  let staff: Page;

  async function cliAccount(email: string, plan: "trial" | "basic" | "pro") {
    await stack.runtime.run("mutation", getFunctionName(internal.cli.createAccount), { email, plan });
  }

  return [
    {
      name: "support filters accounts by state and plan; the filters live in the URL and survive a reload",
      fn: async () => {
        await cliAccount(`${prefix}ann@example.com`, "basic");
        await cliAccount(`${prefix}bob@example.com`, "pro");
        await cliAccount(`${prefix}cat@example.com`, "pro");
        await cliAccount(`${prefix}dan@example.com`, "trial");
        await stack.runtime.engine.runInline(async (ctx) => {
          const cat = await ctx.db.query("users").withIndex("by_email", (q) => q.eq("email", `${prefix}cat@example.com`)).first();
          await ctx.db.patch(cat._id, { state: "suspended", stateBeforeSuspension: "active" });
        });
        staff = await newPage(world);
        await devSignIn(staff, stack.appUrl, support, "support");
        await staff.getByRole("link", { name: "Admin console" }).click();
        await staff.getByLabel("Search by email").fill(prefix);
        await expectText(byTestId(staff, "accounts-count"), `4 accounts match “${prefix}”`, { what: "search alone" });
        await staff.getByLabel("Plan").selectOption("pro");
        await expectText(byTestId(staff, "accounts-count"), `2 accounts match “${prefix}” (Pro)`, { what: "search and plan" });
        await staff.getByLabel("State").selectOption("active");
        await expectText(byTestId(staff, "accounts-count"), `1 account match “${prefix}” (Active, Pro)`, { what: "search, state and plan" });
        const rows = await byTestId(staff, "accounts-table").locator("tbody tr td:first-child").allTextContents();
        assert(rows.join() === `${prefix}bob@example.com`, `filtered rows: ${rows.join(", ")}`);
        const url = new URL(staff.url());
        assert(url.searchParams.get("state") === "active" && url.searchParams.get("plan") === "pro", `filters not in the URL: ${url.search}`);
        await screenshot(staff, "50-console-accounts-filtered");

        await staff.reload();
        await expectText(byTestId(staff, "accounts-count"), `1 account match “${prefix}” (Active, Pro)`, { what: "filters after a reload" });
        await staff.getByLabel("State").selectOption("canceled");
        await expectText(byTestId(staff, "empty-state"), new RegExp(`^No accounts match “${prefix}” \\(Canceled, Pro\\)`), { what: "no match" });
        await staff.getByLabel("State").selectOption("suspended");
        await staff.getByLabel("Plan").selectOption("");
        await expectText(byTestId(staff, "accounts-count"), `1 account match “${prefix}” (Suspended)`, { what: "state only" });
        await staff.getByRole("link", { name: `${prefix}cat@example.com` }).waitFor();
      },
    },
    {
      name: "the overview shows the month's usage after a refresh, the figures the backend computed",
      fn: async () => {
        const email = `${prefix}user@example.com`;
        await cliAccount(email, "pro");
        const { secret } = (await stack.runtime.run("mutation", getFunctionName(internal.cli.createApiKey), { email })) as { secret: string };
        const client = new OpenAI({ apiKey: secret, baseURL: `${stack.siteUrl}/v1`, maxRetries: 0 });
        await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Count to three." }] });

        await staff.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Overview" }).click();
        await staff.getByRole("heading", { name: "Overview" }).waitFor();
        await markDocument(staff);
        await staff.getByRole("button", { name: "Refresh now" }).click();
        // The refresh lands through the page's subscription: the "as of" line shows a fresh time.
        await expectText(byTestId(staff, "overview-computed"), /^Figures as of just now$/, { what: "refreshed overview", timeout: 30_000 });
        await staff.getByRole("button", { name: "Refresh now" }).waitFor();
        const usage = (await stack.runtime.run("query", getFunctionName(internal.admin.apiData.usage), {
          month: monthOf(Date.now()),
          paginationOpts: { numItems: 1, cursor: null },
        })) as { kind: string; aggregate: { requests: number; tokensIn: number; tokensOut: number } | null };
        assert(usage.kind === "ok" && usage.aggregate !== null && usage.aggregate.requests >= 1, `the backend's aggregate: ${JSON.stringify(usage)}`);
        await expectText(byTestId(staff, "overview-requests"), formatInteger(usage.aggregate.requests), { what: "requests this month" });
        await byTestId(staff, "overview-chart").locator(".recharts-surface").first().waitFor();
        await expectText(byTestId(staff, "overview-by-plan"), /Pro/, { what: "accounts by plan" });
        await assertSameDocument(staff);
        await screenshot(staff, "51-console-overview");
      },
    },
    {
      name: "support retries a failed mail from Background work; it is sent and leaves the list",
      fn: async () => {
        const email = `${prefix}mail@example.com`;
        await cliAccount(email, "trial");
        // The welcome mail names the account's first key.
        await stack.runtime.run("mutation", getFunctionName(internal.cli.createApiKey), { email });
        await stack.runtime.engine.runInline(async (ctx) => {
          const user = await ctx.db.query("users").withIndex("by_email", (q) => q.eq("email", email)).first();
          await ctx.db.insert("emailOutbox", {
            userId: user!._id,
            to: email,
            template: "welcome",
            category: "transactional",
            dedupeKey: `${user!._id}:welcome:e2e`,
            status: "failed",
            sendAfter: Date.now() - 60_000,
            queuedAt: Date.now() - 60_000,
            lastError: "The email API kept failing; gave up after the last retry (HTTP 503).",
          });
        });
        await staff.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Background work" }).click();
        await staff.getByRole("heading", { name: "Background work" }).waitFor();
        await markDocument(staff);
        const row = byTestId(staff, "work-mail-row").filter({ hasText: email });
        await expectText(row, /welcome.*gave up after the last retry/s, { what: "failed mail" });
        await screenshot(staff, "52-console-background-work");
        await row.getByRole("button", { name: /^Retry/ }).click();
        const form = byTestId(staff, "retry-form");
        await form.getByLabel("Reason").fill("browser test: the email API is back");
        await form.getByRole("button", { name: "Retry" }).click();
        await expectText(form.locator('[role="status"]'), /^Sending again/, { what: "retry outcome" });
        await row.waitFor({ state: "detached", timeout: 30_000 });
        // Sent for real: the simulator's email API captured it.
        let sent: unknown[] = [];
        for (const end = Date.now() + 30_000; Date.now() < end && sent.length === 0; await new Promise((r) => setTimeout(r, 250))) {
          const res = await fetch(`${stack.simulator.url}/_sim/inbox.json?to=${encodeURIComponent(email)}`);
          sent = ((await res.json()) as { messages: unknown[] }).messages;
        }
        assert(sent.length === 1, `the retried mail arrived ${sent.length} times`);
        await assertSameDocument(staff);
      },
    },
    {
      name: "support refunds part of a paid invoice with a reason; it shows refunded live and a second refund over the rest is refused",
      fn: async () => {
        const payer = `${prefix}payer@example.com`;
        const customer = await newPage(world);
        await devSignIn(customer, stack.appUrl, payer, "user");
        await customer.goto(`${stack.appUrl}/billing`);
        await byTestId(customer, "choose-basic").click();
        await customer.waitForURL((url) => url.href.startsWith(`${stack.simulator.url}/_sim/stripe/checkout/cs_`));
        await customer.getByRole("button", { name: "Pay and subscribe" }).click();
        await customer.waitForURL(`${stack.appUrl}/billing?checkout=success`);
        await expectText(byTestId(customer, "checkout-plan"), "Basic", { what: "confirmed plan" });
        await customer.close();

        await staff.getByRole("link", { name: "Admin console" }).click();
        await staff.getByLabel("State").selectOption("");
        await staff.getByLabel("Plan").selectOption("");
        await staff.getByLabel("Search by email").fill(payer);
        await staff.getByRole("link", { name: payer }).click();
        const panel = byTestId(staff, "refund-support");
        await expectText(panel.locator('[data-testid="refund-invoice-status"]').first(), "Paid", { what: "invoice before the refund" });
        await markDocument(staff);
        await panel.getByRole("button", { name: /^Refund invoice/ }).first().click();
        const form = byTestId(staff, "refund-form");
        await form.getByLabel("Amount (USD)").fill("20.00");
        await form.getByLabel("Reason").fill("browser test: two days of outage");
        await form.getByRole("button", { name: "Refund" }).click();
        await expectText(form.locator('[role="status"]'), /^Refund of \$20\.00 sent to Stripe/, { what: "refund requested" });
        await expectText(panel.locator('[data-testid="refund-invoice-status"]').first(), "Partly refunded", { what: "invoice after the refund", timeout: 30_000 });
        await expectText(panel.locator('[data-testid="refund-invoice-refunded"]').first(), "$20.00", { what: "refunded amount" });
        await expectText(byTestId(staff, "refund-row").first(), /\$20\.00.*Refunded.*two days of outage.*re_/s, { what: "refund row" });
        await screenshot(staff, "53-console-refund");

        // Over what is left ($30.00): refused with the reason, nothing sent.
        await panel.getByRole("button", { name: /^Refund invoice/ }).first().click();
        const again = byTestId(staff, "refund-form");
        await again.getByLabel("Amount (USD)").fill("45.00");
        await again.getByLabel("Reason").fill("browser test: too much");
        await again.getByRole("button", { name: "Refund" }).click();
        await expectText(again.locator('[role="alert"]').first(), /more than the \$30\.00 left to refund/, { what: "over-refund refused" });
        await expectText(byTestId(staff, "audit-log"), /invoice\.refunded/, { what: "audit trail" });
        await assertSameDocument(staff);
      },
    },
  ];
}
