// The browser tests of billing: the Billing page, the provider simulator's hosted Stripe checkout
// and portal, the return page waiting for the webhook, the dashboard following the subscription
// live, and the support console's billing section. Stripe's webhooks are the simulator's own,
// signed and delivered to this stack's backend (stack.ts connects them).
import Stripe from "stripe";
import type { Page } from "playwright-core";
import { stripeCheckoutSession, stripeEvent, stripeSubscription } from "../../convex/model/billing/providerEvents.setup.ts";
import { monthBill } from "../../convex/model/billing/overage.ts";
import { monthOf } from "../../convex/model/calendar.ts";
import { PLANS } from "../../convex/model/plans.ts";
import { DEV_BILLING_PRICES } from "../../dev/env.ts";
import { formatMoney } from "../../src/lib/format.ts";
import { assert, expectText, screenshot, screenshotOf, type TestCase } from "./harness.ts";
import type { Stack } from "./stack.ts";
import { assertSameDocument, byTestId, devSignIn, escapeRegExp, markDocument, newPage, type World } from "./browser.ts";

interface Delivery {
  seq: number;
  provider: string;
  eventType: string;
  eventId: string;
  status: number | null;
  error: string | null;
  redeliveryOf: number | null;
}

async function stripeDeliveries(stack: Stack): Promise<Delivery[]> {
  const response = await fetch(`${stack.simulator.url}/_sim/webhooks?provider=stripe`);
  assert(response.ok, `the simulator's webhook log answered ${response.status}`);
  return ((await response.json()) as { deliveries: Delivery[] }).deliveries;
}

/**
 * Holds Stripe's webhooks: the simulator records each event it would send, undelivered, until
 * `release` sends every held one once, in the order Stripe sent them, and says which they were.
 * This is how a test sees the return page before the payment is confirmed.
 */
async function holdStripeWebhooks(stack: Stack): Promise<() => Promise<string[]>> {
  const lastSeq = Math.max(0, ...(await stripeDeliveries(stack)).map((d) => d.seq));
  stack.simulator.configure({ stripe: { webhookUrl: null } });
  return async () => {
    stack.simulator.connectWebhooks(stack.siteUrl);
    const held = (await stripeDeliveries(stack)).filter((d) => d.seq > lastSeq && d.status === null && d.redeliveryOf === null);
    for (const d of held) {
      const response = await fetch(`${stack.simulator.url}/_sim/webhooks/${d.seq}/redeliver`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ url: `${stack.siteUrl}/webhooks/stripe` }),
      });
      const { delivery } = (await response.json()) as { delivery: Delivery };
      assert(delivery.status === 200, `${d.eventType} redelivered: the backend answered ${delivery.status ?? delivery.error}`);
    }
    return held.map((d) => d.eventType);
  };
}

/** POST /webhooks/stripe with a Stripe-Signature made by stripe-node's test helper. */
async function postStripeEvent(stack: Stack, event: unknown): Promise<{ status: string; outcome: string }> {
  const payload = JSON.stringify(event);
  const secret = stack.runtime.env.STRIPE_WEBHOOK_SECRET;
  assert(secret, "the stack's backend has no STRIPE_WEBHOOK_SECRET");
  const response = await fetch(`${stack.siteUrl}/webhooks/stripe`, {
    method: "POST",
    headers: { "content-type": "application/json", "stripe-signature": Stripe.webhooks.generateTestHeaderString({ payload, secret }) },
    body: payload,
  });
  const body = (await response.json()) as { status: string; outcome: string };
  assert(response.status === 200, `the Stripe webhook answered ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

const CANCELS_ON = /^Cancels on [A-Z][a-z]{2} \d{1,2}, \d{4}$/;

export function billingSpecs(
  world: World,
  { stamp, support, customerPage }: { stamp: string; support: string; customerPage: () => Page },
): TestCase[] {
  const { stack } = world;
  const payer = `lin-${stamp}@example.com`;
  const orphanEmail = `orphan-${stamp}@example.com`;
  // The payer's Billing page, and the same account's dashboard open in a second tab.
  let billing: Page;
  let dash: Page;

  return [
    {
      name: "the setup guide leads to the Billing page: three plans with their figures, the trial marked",
      fn: async () => {
        billing = await newPage(world);
        await devSignIn(billing, stack.appUrl, payer, "user");
        await expectText(byTestId(billing, "setup-plan-lead"), /Choose Basic or Pro on the Billing page/, { what: "guide's plan step" });
        assert(!(await billing.content()).includes("not available yet"), "the guide still says paying is not available");
        await byTestId(billing, "setup-choose-plan").click();
        await billing.waitForURL(`${stack.appUrl}/billing`);
        await expectText(byTestId(billing, "plan-option-trial"), /Trial.*Your plan.*Free for 14 days/s, { what: "trial plan" });
        await expectText(byTestId(billing, "plan-option-basic"), /Basic\s*\$50\.00 \/ month5M tokens included/, { what: "Basic plan" });
        await expectText(byTestId(billing, "plan-option-pro"), /Pro\s*\$250\.00 \/ month30M tokens included/, { what: "Pro plan" });
        assert((await byTestId(billing, "plan-option-basic").getByText("Your plan").count()) === 0, "Basic is marked as the trial's plan");
        await expectText(byTestId(billing, "subscription-none"), /free trial until/, { what: "no subscription yet" });
        await expectText(byTestId(billing, "billing-history").locator('[data-testid="empty-state"]'), /^No invoices yet/, {
          what: "empty history",
        });
        assert((await byTestId(billing, "manage-billing").count()) === 0, "Manage billing is offered before any checkout");
        await screenshot(billing, "14-billing-page-trial");
      },
    },
    {
      name: "choosing Basic: the hosted checkout, then the return page waits for the webhook and shows the plan live",
      fn: async () => {
        dash = await newPage(world, billing.context());
        await dash.goto(stack.appUrl);
        await expectText(byTestId(dash, "dashboard-plan"), "Trial plan", { what: "dashboard plan before paying" });
        await markDocument(dash);

        const release = await holdStripeWebhooks(stack);
        await byTestId(billing, "choose-basic").click();
        await billing.waitForURL((url) => url.href.startsWith(`${stack.simulator.url}/_sim/stripe/checkout/cs_`));
        await expectText(billing.locator("li"), new RegExp(`^${DEV_BILLING_PRICES.stripe.basic}`), { what: "checkout's line item" });
        await screenshot(billing, "15-stripe-hosted-checkout");
        await billing.getByRole("button", { name: "Pay and subscribe" }).click();

        // Back from Stripe, before Stripe's webhooks have arrived: nothing is guessed.
        await billing.waitForURL(`${stack.appUrl}/billing?checkout=success`);
        await expectText(byTestId(billing, "checkout-waiting"), /^Waiting for payment confirmation\.\.\./, { what: "return page" });
        await expectText(byTestId(billing, "plan-badge"), "Trial plan", { what: "plan while waiting" });
        await markDocument(billing);
        await screenshot(billing, "16-checkout-return-waiting");

        const delivered = await release();
        for (const type of ["customer.subscription.created", "checkout.session.completed", "invoice.paid"]) {
          assert(delivered.includes(type), `Stripe did not send ${type}; held: ${delivered.join(", ")}`);
        }
        await expectText(byTestId(billing, "checkout-plan"), "Basic", { what: "confirmed plan" });
        await expectText(byTestId(billing, "plan-badge"), "Basic plan", { what: "sidebar plan" });
        await expectText(byTestId(billing, "state-badge"), "Active", { what: "sidebar state" });
        await expectText(byTestId(billing, "subscription-status"), "Active", { what: "subscription status" });
        await expectText(byTestId(billing, "invoice-amount"), "$50.00", { what: "first invoice's amount" });
        await expectText(byTestId(billing, "invoice-status"), "Paid", { what: "first invoice's status" });
        assert((await byTestId(billing, "choose-basic").count()) === 0, "a subscribed account is offered a second checkout");
        // This month's bill is the provider's: a fresh Basic month is the plan's price and two
        // empty overage lines at Basic's rates.
        const fresh = formatMoney(monthBill("basic", { input: 0, output: 0 }).totalMicros);
        assert(fresh === "$50.00", `a fresh Basic month's totalMicros reads ${fresh}`);
        await expectText(byTestId(billing, "month-bill-total"), fresh, { what: "this month's bill" });
        const lines = byTestId(billing, "bill-line");
        await expectText(lines.filter({ hasText: "Basic plan" }), /1 month.*\$50\.00 \/ month.*\$50\.00/s, { what: "plan line" });
        await expectText(lines.filter({ hasText: "Input overage" }), /0 tokens.*\$3\.00 \/ 1M tokens.*\$0\.00/s, { what: "input line" });
        await expectText(lines.filter({ hasText: "Output overage" }), /0 tokens.*\$15\.00 \/ 1M tokens.*\$0\.00/s, { what: "output line" });
        await assertSameDocument(billing);
        await screenshot(billing, "17-checkout-return-confirmed");

        // The dashboard open in the other tab followed, without a reload.
        await expectText(byTestId(dash, "dashboard-plan"), "Basic plan", { what: "dashboard plan" });
        await expectText(byTestId(dash, "plan-price"), "$50.00 / month", { what: "dashboard price" });
        await expectText(byTestId(dash, "meter-included"), "5M tokens", { what: "dashboard meter" });
        await expectText(byTestId(dash, "meter-bill"), "$50.00", { what: "dashboard's bill" });
        await expectText(byTestId(dash, "dashboard-renews-on"), /^Renews on /, { what: "renewal date" });
        await assertSameDocument(dash);
        await screenshot(dash, "18-dashboard-basic-live");

        await billing.getByRole("link", { name: "Go to the dashboard" }).click();
        await expectText(byTestId(billing, "dashboard-plan"), "Basic plan", { what: "dashboard from the return page" });
        await assertSameDocument(billing);
      },
    },
    {
      name: "cancel in the hosted portal: 'Cancels on' appears live on the open dashboard",
      fn: async () => {
        await markDocument(dash);
        await billing.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Billing" }).click();
        await byTestId(billing, "manage-billing").click();
        await billing.waitForURL((url) => url.href.startsWith(`${stack.simulator.url}/_sim/stripe/portal/`));
        await screenshot(billing, "19-stripe-hosted-portal");
        await billing.getByRole("button", { name: "Cancel subscription" }).click();
        await expectText(billing.locator("li"), /\(cancels at period end\)$/, { what: "portal after cancel" });

        await expectText(byTestId(dash, "dashboard-cancels-on"), CANCELS_ON, { what: "dashboard's cancels on" });
        await expectText(byTestId(dash, "state-badge"), "Active", { what: "state until the period ends" });
        await assertSameDocument(dash);
        await screenshot(dash, "20-dashboard-cancels-on");

        await billing.getByRole("link", { name: "Return" }).click();
        await billing.waitForURL(`${stack.appUrl}/billing`);
        await expectText(byTestId(billing, "cancels-on"), CANCELS_ON, { what: "billing page's cancels on" });
        await expectText(byTestId(billing, "subscription-cancels-on"), /^[A-Z][a-z]{2} \d{1,2}, \d{4}$/, { what: "cancels on date" });
        // The portal's address went to the browser only.
        const kept = await billing.evaluate(() => JSON.stringify({ ...window.localStorage, ...window.sessionStorage }));
        assert(!kept.includes("/_sim/stripe/portal"), "the portal URL was stored in the browser");
        await screenshot(billing, "21-billing-cancels-on");
      },
    },
    {
      name: "a provider failure can be retried; a canceled checkout returns to a page that says nothing was charged",
      fn: async () => {
        const page = customerPage();
        await page.goto(`${stack.appUrl}/billing`);
        // This account is on Basic by support's hand, without a subscription: it may buy one.
        // Stripe refuses the first checkout session (once, and says not to retry it).
        stack.simulator.configure({ fail: { status: 503, count: 1, pathPrefix: "/v1/checkout/sessions", shouldRetry: false } });
        await byTestId(page, "choose-pro").click();
        const error = byTestId(page, "billing-error");
        await expectText(error, /^The payment provider did not answer.*Nothing was charged/s, { what: "provider error" });
        await screenshot(page, "22a-billing-provider-error");
        await error.getByRole("button", { name: "Try again" }).click();
        await page.waitForURL((url) => url.href.startsWith(`${stack.simulator.url}/_sim/stripe/checkout/cs_`));
        await page.getByRole("link", { name: "Cancel" }).click();
        await page.waitForURL(`${stack.appUrl}/billing?checkout=canceled`);
        await expectText(byTestId(page, "checkout-canceled"), /nothing was charged.*still on the Basic plan/s, { what: "canceled return" });
        await expectText(byTestId(page, "plan-badge"), "Basic plan", { what: "plan after a canceled checkout" });
        await screenshot(page, "22-checkout-canceled");
        await byTestId(page, "checkout-return").getByRole("button", { name: "Close" }).click();
        await page.waitForURL(`${stack.appUrl}/billing`);
      },
    },
    {
      name: "support sees the account's billing and re-applies failed events",
      fn: async () => {
        const now = Math.floor(Date.now() / 1000);
        let ids = { customer: "", subscription: "" };
        await stack.runtime.engine.runInline(async (ctx) => {
          const user = await ctx.db
            .query("users")
            .withIndex("by_email", (q) => q.eq("email", payer))
            .first();
          assert(user?.stripeCustomerId, "the payer has no Stripe customer");
          const sub = await ctx.db
            .query("subscriptions")
            .withIndex("by_userId", (q) => q.eq("userId", user._id))
            .first();
          assert(sub, "the payer has no subscription row");
          ids = { customer: user.stripeCustomerId, subscription: sub.providerSubscriptionId };
        });
        // A checkout made outside the app (a payment link) carries no plan: it fails for this account.
        const outside = await postStripeEvent(
          stack,
          stripeEvent(
            "checkout.session.completed",
            stripeCheckoutSession({ id: `cs_outside_${stamp}`, customer: ids.customer, subscription: ids.subscription }),
            now,
            `evt_outside_${stamp}`,
          ),
        );
        assert(outside.status === "failed", `the plan-less checkout was ${outside.status}: ${outside.outcome}`);
        // A subscription of a customer no account is linked to: failed, listed for support.
        const orphanCustomer = `cus_orphan_${stamp}`;
        const orphanEvent = `evt_orphan_${stamp}`;
        const orphan = await postStripeEvent(
          stack,
          stripeEvent(
            "customer.subscription.created",
            stripeSubscription({ id: `sub_orphan_${stamp}`, customer: orphanCustomer, price: DEV_BILLING_PRICES.stripe.basic }),
            now,
            orphanEvent,
          ),
        );
        assert(orphan.outcome === "no_account", `the orphan subscription was ${orphan.status}: ${orphan.outcome}`);

        const staff = await newPage(world);
        await devSignIn(staff, stack.appUrl, support, "support");
        await staff.getByRole("link", { name: "Admin console" }).click();
        await staff.getByLabel("Search by email").fill(payer);
        await staff.getByRole("link", { name: payer }).click();
        const section = byTestId(staff, "support-billing");
        await expectText(byTestId(staff, "support-subscription-status"), /^Active/, { what: "subscription status" });
        await expectText(byTestId(staff, "support-subscription-ends"), CANCELS_ON, { what: "scheduled cancellation" });
        await expectText(byTestId(staff, "support-invoice"), /\$50\.00.*Paid/s, { what: "invoice" });
        const events = byTestId(staff, "support-billing-event");
        await expectText(events.filter({ hasText: "customer.subscription.created" }), /Applied.*trial -> active; plan trial -> basic/s, {
          what: "the subscription's event",
        });
        await expectText(events.filter({ hasText: "customer.subscription.updated" }), /Applied/, { what: "the portal's cancel" });
        const failedRow = events.filter({ hasText: `evt_outside_${stamp}` });
        await expectText(failedRow, /Failed.*unknown_plan: checkout metadata plan is missing/s, { what: "failed event" });

        await failedRow.getByRole("button", { name: /^Re-apply/ }).click();
        const form = byTestId(staff, "reapply-form");
        await form.getByLabel("Reason").fill("browser test: checkout from a payment link");
        await form.getByRole("button", { name: "Re-apply" }).click();
        await expectText(form.locator('[role="status"]'), /^Re-applied, but it failed again: unknown_plan/, { what: "re-apply outcome" });
        await expectText(failedRow, /Re-applied just now/, { what: "re-applied event" });
        await expectText(byTestId(staff, "audit-log"), /billing\.event_reapplied.*browser test: checkout from a payment link/s, {
          what: "audit log",
        });
        // No tokens beyond the included amount yet: the overage months table is empty.
        const overage = byTestId(staff, "support-overage");
        await expectText(byTestId(staff, "support-month-bill"), "$50.00", { what: "support's view of the month's bill" });
        await expectText(overage.locator('[data-testid="empty-state"]').first(), /^No overage reported/, { what: "overage months" });
        await screenshotOf(section, "23-admin-billing-section");

        await staff.getByRole("link", { name: "Failed billing events" }).click();
        const orphanRow = byTestId(staff, "failed-billing-event").filter({ hasText: orphanEvent });
        await expectText(orphanRow, /customer\.subscription\.created.*No account.*no_account/s, { what: "orphan event" });
        await expectText(byTestId(staff, "failed-billing-event").filter({ hasText: `evt_outside_${stamp}` }), /Open account/, {
          what: "the account's failed event",
        });
        await screenshot(staff, "24-admin-failed-billing-events");

        // Support finds whose customer it is and links it, as the checkout would have.
        await stack.runtime.engine.runInline(async (ctx) => {
          const userId = await ctx.db.insert("users", {
            tokenIdentifier: `e2e|${orphanEmail}`,
            email: orphanEmail,
            role: "user",
            state: "trial",
            plan: "trial",
            lastSeenAt: Date.now(),
            trialEndsAt: Date.now() + 14 * 86_400_000,
            billingProvider: "stripe",
            stripeCustomerId: orphanCustomer,
          });
          await ctx.db.insert("billingCustomers", { userId, provider: "stripe", customerId: orphanCustomer, createdAt: Date.now() });
        });
        await orphanRow.getByRole("button", { name: /^Re-apply/ }).click();
        const orphanForm = byTestId(staff, "reapply-form");
        await orphanForm.getByLabel("Reason").fill("browser test: customer linked by hand");
        await orphanForm.getByRole("button", { name: "Re-apply" }).click();
        await expectText(orphanForm.locator('[role="status"]'), /^Re-applied: applied \(subscription active; account trial -> active; plan trial -> basic\)/, {
          what: "orphan re-applied",
        });
        // Applied, it leaves the list by itself.
        await orphanRow.waitFor({ state: "detached" });
        await screenshot(staff, "25-admin-failed-event-reapplied");

        await staff.getByRole("link", { name: "Admin console" }).click();
        await staff.getByLabel("Search by email").fill(orphanEmail);
        await staff.getByRole("link", { name: orphanEmail }).click();
        await expectText(byTestId(staff, "admin-plan"), "Basic plan", { what: "linked account's plan" });
        await expectText(byTestId(staff, "support-billing-event"), new RegExp(`${escapeRegExp(orphanEvent)}.*Applied.*\\(re-applied\\)`, "s"), {
          what: "linked account's event",
        });
      },
    },
    {
      name: "overage beyond the included tokens: the bill is the provider's to the cent, support sees the month reported and sent",
      fn: async () => {
        // The payer's month so far, beyond Basic's 5M: the allowance covers output first, so
        // 100,400 output and 201,667 input tokens are billable. Each line rounds up at the
        // provider ($1.506 -> $1.51, $0.605001 -> $0.61): the invoice says a cent more than
        // the plan plus the ledger's overage.
        const month = monthOf(Date.now());
        const used = { input: 201_667, output: PLANS.basic.includedTokens + 100_400 };
        const expected = monthBill("basic", used);
        const bill = formatMoney(expected.totalMicros);
        assert(bill === "$52.12", `the seeded month's totalMicros reads ${bill}`);
        assert(formatMoney(expected.planMicros + expected.overageMicros) === "$52.11", "the seed no longer shows the rounding");
        let userId = "";
        await stack.runtime.engine.runInline(async (ctx) => {
          const user = await ctx.db
            .query("users")
            .withIndex("by_email", (q) => q.eq("email", payer))
            .first();
          assert(user, "the payer has no account");
          userId = user._id;
          const row = await ctx.db
            .query("usageMonthly")
            .withIndex("by_userId_and_month", (q) => q.eq("userId", user._id).eq("month", month))
            .first();
          const totals = { tokensIn: used.input, tokensOut: used.output, characters: 0, costMicros: 1_000_000, requests: 3 };
          if (row) await ctx.db.patch(row._id, totals);
          else await ctx.db.insert("usageMonthly", { userId, month, ...totals, alertedPercent: 100, holds: [] });
        });

        await billing.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Billing" }).click();
        await expectText(byTestId(billing, "month-bill-total"), bill, { what: "this month's bill with overage" });
        const lines = byTestId(billing, "bill-line");
        await expectText(lines.filter({ hasText: "Input overage" }), /201,667 tokens.*\$3\.00 \/ 1M tokens.*\$0\.61/s, { what: "input line" });
        await expectText(lines.filter({ hasText: "Output overage" }), /100,400 tokens.*\$15\.00 \/ 1M tokens.*\$1\.51/s, { what: "output line" });
        await screenshotOf(byTestId(billing, "month-bill"), "26a-billing-month-bill-overage");
        await dash.goto(stack.appUrl);
        await expectText(byTestId(dash, "meter-bill"), bill, { what: "dashboard's bill with overage" });

        // The reporting cron's own decision for this account: the full chunks go to Stripe's meters.
        const decided = await stack.runtime.engine.runByPath("billing/overage:decide", { userId, month });
        assert(decided.ok, `overage.decide failed: ${decided.ok ? "" : decided.message}`);
        assert((decided.value as { queued: number }).queued === 3, `overage.decide queued ${JSON.stringify(decided.value)}`);

        const staff = await newPage(world);
        await devSignIn(staff, stack.appUrl, support, "support");
        await staff.getByRole("link", { name: "Admin console" }).click();
        await staff.getByLabel("Search by email").fill(payer);
        await staff.getByRole("link", { name: payer }).click();
        await expectText(byTestId(staff, "support-month-bill"), bill, { what: "support's month bill" });
        const row = byTestId(staff, "support-overage-month");
        await expectText(row.locator('[data-testid="overage-month-reported"]'), "200,000 in · 100,000 out", { what: "reported overage" });
        await expectText(row.locator('[data-testid="overage-month-sent"]'), "200,000 in · 100,000 out", {
          what: "overage acknowledged by Stripe",
          timeout: 20_000,
        });
        await expectText(row.locator('[data-testid="overage-month-billable"]'), "201,667 in · 100,400 out", { what: "billable overage" });
        await expectText(row.locator('[data-testid="overage-reconciliation"]'), /^Not checked yet/, { what: "reconciliation" });
        const events = byTestId(staff, "support-overage-event");
        assert((await events.count()) === 3, `the outbox lists ${await events.count()} rows`);
        for (let i = 0; i < 3; i++) await expectText(events.nth(i).locator('[data-testid="overage-outbox-status"]'), "Sent", { what: `outbox row ${i}` });
        await screenshotOf(byTestId(staff, "support-overage"), "26b-admin-overage-months");

        await staff.getByRole("link", { name: "Overage discrepancies" }).click();
        await expectText(byTestId(staff, "empty-state"), /^No overage discrepancies/, { what: "discrepancies page" });
        await screenshot(staff, "26c-admin-overage-discrepancies");
      },
    },
    {
      name: "a failed renewal payment: the open dashboard shows the banner with the grace period's end, live",
      fn: async () => {
        await markDocument(dash);
        let subscription = "";
        await stack.runtime.engine.runInline(async (ctx) => {
          const user = await ctx.db
            .query("users")
            .withIndex("by_email", (q) => q.eq("email", payer))
            .first();
          const sub = await ctx.db
            .query("subscriptions")
            .withIndex("by_userId", (q) => q.eq("userId", user._id))
            .first();
          subscription = sub.providerSubscriptionId;
        });
        const response = await fetch(`${stack.simulator.url}/_sim/stripe/subscriptions/${subscription}/payment_failed`, { method: "POST" });
        assert(response.ok, `the simulator's payment_failed control answered ${response.status}`);

        const banner = byTestId(dash, "dashboard-payment-failed-banner");
        await expectText(banner, /^Your last payment failed.*keeps working until [A-Z][a-z]{2} \d{1,2}, \d{4}\. Update your payment method/s, {
          what: "payment-failed banner",
        });
        await expectText(byTestId(dash, "state-badge"), "Past due", { what: "state after the failed payment" });
        await assertSameDocument(dash);
        await screenshot(dash, "26-dashboard-payment-failed");
        await banner.getByRole("link", { name: "Update payment method" }).click();
        await expectText(byTestId(dash, "payment-failed-banner"), /^Your last payment failed/, { what: "billing page's banner" });
        await expectText(byTestId(dash, "subscription-status"), "Payment failed", { what: "subscription status" });
      },
    },
  ];
}
