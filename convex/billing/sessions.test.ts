// Checkout and the portal against the provider simulator over real HTTP (stripe-node and the
// Polar SDK in the actions), and the simulator's signed webhooks flowing back into the test
// deployment: a simulated checkout, cancel and dunning reach the account as real ones would.
import { afterEach, describe, expect, test, vi } from "vitest";
import { api } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { errorCodeOf, signIn, type TestConvex } from "../test.setup";
import { mailClock } from "../email/simulator.setup";
import { stripeEvent } from "../model/billing/providerEvents.setup";
import { control, simState, useBillingStack } from "./simulator.setup";
import { APP_URL, billingRows, postStripe, PRICE, PRODUCT } from "./webhooks.setup";

const stack = useBillingStack();
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.unstubAllEnvs();
});

type Stripeish = { id: string; customer?: string; status?: string };
const posts = (path: string) => stack.sim.requests({ pathPrefix: path }).filter((r) => r.method === "POST");

/** Every string stored anywhere billing writes, to prove a session URL is not among them. */
async function storedText(t: TestConvex): Promise<string> {
  return await t.run(async (ctx) => {
    const tables = ["users", "subscriptions", "invoices", "webhookEvents", "auditLogs", "billingCustomers", "alerts"] as const;
    const all = await Promise.all(tables.map((name) => ctx.db.query(name).collect()));
    return JSON.stringify(all);
  });
}

describe("Stripe checkout", () => {
  test("a subscription-mode session for the plan's price, on the account's one customer, no fixed payment methods", async () => {
    const t = stack.deployment();
    const { userId, as } = await signIn(t, "ada@example.com");
    const session = await as.action(api.billing.checkout.start, { plan: "pro" });
    expect(session.provider).toBe("stripe");
    expect(session.url).toMatch(new RegExp(`^${stack.sim.url}/_sim/stripe/checkout/cs_`));

    const [customerCall] = posts("/v1/customers");
    expect(customerCall.headers["idempotency-key"]).toBe(`poindexter-customer-${userId}`);
    expect(customerCall.body).toMatchObject({ email: "ada@example.com", metadata: { userId } });
    const [sessionCall] = posts("/v1/checkout/sessions");
    const customerId = (await billingRows(t, userId)).user.stripeCustomerId;
    expect(sessionCall.body).toEqual({
      mode: "subscription",
      customer: customerId,
      client_reference_id: userId,
      line_items: [{ price: PRICE.pro, quantity: "1" }],
      success_url: `${APP_URL}/billing?checkout=success`,
      cancel_url: `${APP_URL}/billing?checkout=canceled`,
      metadata: { userId, plan: "pro" },
      subscription_data: { metadata: { userId, plan: "pro" } },
    });
    expect(JSON.stringify(sessionCall.body)).not.toContain("payment_method_types");
    // Nothing changes until the provider says the checkout completed.
    expect((await billingRows(t, userId)).user).toMatchObject({ state: "trial", plan: "trial", billingProvider: "stripe" });
  });

  test("abandoned and concurrent checkouts never make a second customer", async () => {
    const t = stack.deployment();
    const { userId, as } = await signIn(t, "twice@example.com");
    await as.action(api.billing.checkout.start, { plan: "basic" });
    await as.action(api.billing.checkout.start, { plan: "pro" });
    const { userId: otherId, as: other } = await signIn(t, "racer@example.com");
    await Promise.all([other.action(api.billing.checkout.start, { plan: "basic" }), other.action(api.billing.checkout.start, { plan: "basic" })]);

    const customers = (await simState<{ customers: Stripeish[] }>(stack.sim, "stripe")).customers;
    expect(customers).toHaveLength(2);
    const mine = await billingRows(t, userId);
    const theirs = await billingRows(t, otherId);
    expect(new Set(customers.map((c) => c.id))).toEqual(new Set([mine.user.stripeCustomerId, theirs.user.stripeCustomerId]));
    expect(posts("/v1/checkout/sessions").map((r) => (r.body as { customer: string }).customer)).toEqual([
      mine.user.stripeCustomerId,
      mine.user.stripeCustomerId,
      theirs.user.stripeCustomerId,
      theirs.user.stripeCustomerId,
    ]);
  });

  test("the simulated checkout's webhooks make the account active on the plan; portal cancel and dunning follow", async () => {
    const t = stack.deployment();
    const { userId, as } = await signIn(t, "e2e@example.com");
    const { url } = await as.action(api.billing.checkout.start, { plan: "pro" });
    const sessionId = url.split("/").pop()!;
    const { subscription } = await control<{ subscription: Stripeish }>(stack.sim, `/_sim/stripe/checkout/${sessionId}/complete`);

    expect(await as.query(api.billing.summary.mine, {})).toMatchObject({
      plan: "pro",
      state: "active",
      subscription: { providerSubscriptionId: subscription.id, status: "active", grants: true, banner: null, pending: false },
    });
    const rows = await billingRows(t, userId);
    expect(rows.invoices).toEqual([expect.objectContaining({ status: "paid", amountMicros: 250_000_000 })]);
    expect(rows.events.map((e) => [e.type, e.status])).toEqual([
      ["customer.subscription.created", "applied"],
      ["checkout.session.completed", "applied"],
      ["invoice.paid", "applied"],
    ]);

    // Manage billing: a portal session made on the click, its URL handed back and kept nowhere.
    const portal = await as.action(api.billing.portal.open, {});
    expect(portal.url).toMatch(new RegExp(`^${stack.sim.url}/_sim/stripe/portal/bps_`));
    expect(posts("/v1/billing_portal/sessions")[0].body).toEqual({ customer: rows.user.stripeCustomerId, return_url: `${APP_URL}/billing` });
    expect(await storedText(t)).not.toContain(portal.url);
    expect(await storedText(t)).not.toContain(url);

    await control(stack.sim, `/_sim/stripe/subscriptions/${subscription.id}/cancel_at_period_end`);
    const cancels = await as.query(api.billing.summary.mine, {});
    expect(cancels).toMatchObject({ state: "active", subscription: { banner: "cancels_at_period_end" } });
    expect(cancels.subscription!.cancelsAt).toBe(cancels.subscription!.currentPeriodEnd);

    // A checkout while subscribed is refused: the portal changes plans.
    expect(await errorCodeOf(as.action(api.billing.checkout.start, { plan: "basic" }))).toBe("CONFLICT");

    await control(stack.sim, `/_sim/stripe/subscriptions/${subscription.id}/payment_failed`);
    expect((await billingRows(t, userId)).user.state).toBe("past_due");
    // The period ends: set to cancel at period end, the subscription is deleted.
    await control(stack.sim, `/_sim/stripe/subscriptions/${subscription.id}/renew`);
    const ended = await billingRows(t, userId);
    expect(ended.user.state).toBe("canceled");
    expect(ended.deprovision).toHaveLength(1);
  });

  test("a redelivered webhook (the simulator's retry) is acknowledged and changes nothing", async () => {
    const t = stack.deployment();
    const { userId, as } = await signIn(t, "retry@example.com");
    const { url } = await as.action(api.billing.checkout.start, { plan: "basic" });
    const { deliveries } = await control<{ deliveries: Array<{ seq: number; eventType: string }> }>(
      stack.sim,
      `/_sim/stripe/checkout/${url.split("/").pop()}/complete`,
    );
    const before = await billingRows(t, userId);
    for (const d of deliveries) {
      const again = await control<{ delivery: { status: number } }>(stack.sim, `/_sim/webhooks/${d.seq}/redeliver`);
      expect(again.delivery.status).toBe(200);
    }
    const after = await billingRows(t, userId);
    expect(after.events).toHaveLength(before.events.length);
    expect(after.audits).toHaveLength(before.audits.length);
    expect(after.user.state).toBe("active");
  });

  test("two events of one second that disagree: the tie-breakers decide at once, a workpool re-fetch settles it", async () => {
    const t = stack.deployment();
    const { userId, as } = await signIn(t, "tie@example.com");
    const { url } = await as.action(api.billing.checkout.start, { plan: "basic" });
    const { subscription } = await control<{ subscription: Stripeish & Record<string, unknown> }>(
      stack.sim,
      `/_sim/stripe/checkout/${url.split("/").pop()}/complete`,
    );
    const [row] = (await billingRows(t, userId)).subscriptions;
    // Same provider second as the stored state, status past_due: Stripe itself still says active.
    const tie = stripeEvent("customer.subscription.updated", { ...subscription, status: "past_due" }, row.providerUpdatedAt / 1000, "evt_tie");
    const clock = mailClock(Date.now());
    expect((await postStripe(t, tie)).body).toMatchObject({ status: "applied", outcome: expect.stringMatching(/^subscription past_due; account active -> past_due/) });
    const queued = (await billingRows(t, userId)).events.find((e) => e.eventId === "evt_tie")!;
    expect(queued.refetchWorkId).toBeDefined();

    // A minute of workpool time: the re-fetch runs long before the grace period could end.
    await clock.settle(t, Date.now() + 60_000);
    expect(stack.sim.requests({ pathPrefix: `/v1/subscriptions/${subscription.id}` }).map((r) => r.method)).toEqual(["GET"]);
    const settled = await billingRows(t, userId);
    expect(settled.user.state).toBe("active");
    expect(settled.subscriptions[0]).toMatchObject({ status: "active", providerUpdatedAt: row.providerUpdatedAt });
    expect(settled.events.find((e) => e.eventId === "evt_tie")!.outcome).toMatch(/; refetched: subscription active; account past_due -> active$/);
  });
});

describe("refusals with clear errors", () => {
  async function codeAndMessage(p: Promise<unknown>): Promise<[string, string]> {
    try {
      await p;
      return ["NO_ERROR", ""];
    } catch (e) {
      const data = (e as { data?: { code?: string; message?: string } }).data;
      return [data?.code ?? "plain", data?.message ?? (e as Error).message];
    }
  }

  test("only basic or pro can be bought", async () => {
    const t = stack.deployment();
    const { as } = await signIn(t, "plan@example.com");
    expect(await codeAndMessage(as.action(api.billing.checkout.start, { plan: "trial" }))).toEqual([
      "INVALID_ARGUMENT",
      'Choose the plan "basic" or "pro" (got "trial"); the trial cannot be bought.',
    ]);
  });

  test("a deployment without the key or the price says which setting is missing", async () => {
    const t = stack.deployment();
    const { as } = await signIn(t, "config@example.com");
    vi.stubEnv("STRIPE_PRICE_PRO", "");
    expect(await codeAndMessage(as.action(api.billing.checkout.start, { plan: "pro" }))).toEqual([
      "BILLING_NOT_CONFIGURED",
      "STRIPE_PRICE_PRO is not set on this deployment: the pro plan cannot be bought yet.",
    ]);
    vi.stubEnv("STRIPE_SECRET_KEY", "");
    expect((await codeAndMessage(as.action(api.billing.checkout.start, { plan: "basic" })))[1]).toMatch(/STRIPE_SECRET_KEY is not set/);
  });

  test("the provider refusing: its reason, no key in the message", async () => {
    const t = stack.deployment();
    const { as } = await signIn(t, "refused@example.com");
    vi.stubEnv("STRIPE_SECRET_KEY", "sk_test_invalid");
    const [code, message] = await codeAndMessage(as.action(api.billing.checkout.start, { plan: "basic" }));
    expect(code).toBe("BILLING_PROVIDER_ERROR");
    expect(message).toMatch(/^Stripe could not create the customer: Invalid API Key/);
  });

  test("the portal before any checkout; a support-suspended account cannot check out", async () => {
    const t = stack.deployment();
    const { userId, as } = await signIn(t, "early@example.com");
    expect(await codeAndMessage(as.action(api.billing.portal.open, {}))).toEqual(["NOT_FOUND", "You have no billing account yet: choose a plan first."]);
    await t.run(async (ctx) => ctx.db.patch("users", userId as Id<"users">, { state: "suspended", stateBeforeSuspension: "trial" }));
    expect((await codeAndMessage(as.action(api.billing.checkout.start, { plan: "basic" })))[0]).toBe("FORBIDDEN");
  });
});

describe("Polar", () => {
  test("checkout with external_customer_id; the simulated checkout activates the account; the portal is a customer session", async () => {
    vi.stubEnv("BILLING_PROVIDER", "polar");
    const t = stack.deployment();
    const { userId, as } = await signIn(t, "polar@example.com");
    expect(await errorCodeOf(as.action(api.billing.portal.open, {}))).toBe("NOT_FOUND");
    const session = await as.action(api.billing.checkout.start, { plan: "basic" });
    expect(session).toEqual({ provider: "polar", url: expect.stringMatching(new RegExp(`^${stack.sim.url}/_sim/polar/checkout/polar_c_`)) });
    const [call] = posts("/v1/checkouts");
    expect(call.body).toMatchObject({
      products: [PRODUCT.basic],
      external_customer_id: userId,
      customer_email: "polar@example.com",
      success_url: `${APP_URL}/billing?checkout=success`,
      metadata: { userId, plan: "basic" },
    });
    expect(posts("/v1/customers")).toEqual([]);

    const checkouts = (await simState<{ checkouts: Array<{ id: string }> }>(stack.sim, "polar")).checkouts;
    await control(stack.sim, `/_sim/polar/checkouts/${checkouts[0].id}/complete`);
    const rows = await billingRows(t, userId);
    expect(rows.user).toMatchObject({ state: "active", plan: "basic", billingProvider: "polar" });
    expect(rows.user.polarCustomerId).toBeDefined();
    expect(rows.invoices).toEqual([expect.objectContaining({ provider: "polar", status: "paid", amountMicros: 50_000_000 })]);

    const portal = await as.action(api.billing.portal.open, {});
    expect(portal).toEqual({ provider: "polar", url: expect.stringMatching(new RegExp(`^${stack.sim.url}/_sim/polar/portal\\?customer_session_token=`)) });
    expect(posts("/v1/customer-sessions")[0].body).toMatchObject({ external_customer_id: userId, return_url: `${APP_URL}/billing` });
    expect(await storedText(t)).not.toContain(portal.url);

    // Canceled in the portal: access to the period's end; then revoked: canceled now.
    const subscriptionId = rows.subscriptions[0].providerSubscriptionId;
    await control(stack.sim, `/_sim/polar/subscriptions/${subscriptionId}/cancel`);
    expect(await as.query(api.billing.summary.mine, {})).toMatchObject({ state: "active", subscription: { banner: "cancels_at_period_end" } });
    await control(stack.sim, `/_sim/polar/subscriptions/${subscriptionId}/revoke`);
    expect((await billingRows(t, userId)).user.state).toBe("canceled");
  });

  test("an account that checked out with Stripe keeps Stripe when the deployment's default changes", async () => {
    const t = stack.deployment();
    const { userId, as } = await signIn(t, "sticky@example.com");
    await as.action(api.billing.checkout.start, { plan: "basic" });
    vi.stubEnv("BILLING_PROVIDER", "polar");
    expect((await as.action(api.billing.checkout.start, { plan: "basic" })).provider).toBe("stripe");
    expect((await billingRows(t, userId)).user.billingProvider).toBe("stripe");
  });
});
