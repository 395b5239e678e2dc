// The account through its billing life, driven by signed webhooks (Stripe and Polar) and by the
// scheduler (the grace period, on vitest's fake clock): every transition of the issue's
// lifecycle, what the customer's summary shows at each step, and the audit trail.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { newTest, type TestConvex } from "../test.setup";
import { polarEvent, polarOrder, stripeCheckoutSession, stripeEvent, stripeInvoice } from "../model/billing/providerEvents.setup";
import { basicPolarSubscription, basicStripeSubscription, billedCustomer, billingRows, postPolar, postStripe, PRICE, stubBillingEnv } from "./webhooks.setup";

const DAY = 86_400_000;
const START = Date.UTC(2026, 10, 2, 9);

beforeEach(() => {
  vi.useFakeTimers({ now: START });
  stubBillingEnv();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

/** A Stripe subscription of one customer, its events stamped with the (fake) clock. */
function stripeLife(userId: Id<"users">, customer: string, id = "sub_life") {
  const periodStart = Math.floor(START / 1000);
  const sub = (over: Partial<Parameters<typeof basicStripeSubscription>[2]> = {}) =>
    basicStripeSubscription(userId, customer, { id, periodStart, ...over });
  const at = () => Math.floor(Date.now() / 1000);
  return {
    sub,
    created: (over = {}) => stripeEvent("customer.subscription.created", sub(over), at()),
    updated: (over = {}) => stripeEvent("customer.subscription.updated", sub(over), at()),
    deleted: (over = {}) => stripeEvent("customer.subscription.deleted", sub({ status: "canceled", endedAt: at(), ...over }), at()),
    checkout: (paymentStatus = "paid", plan = "basic") =>
      stripeEvent("checkout.session.completed", stripeCheckoutSession({ customer, subscription: id, paymentStatus, userId, plan }), at()),
  };
}

async function summary(t: TestConvex, as: ReturnType<TestConvex["withIdentity"]>) {
  return await as.query(api.billing.summary.mine, {});
}

const tick = (ms = 1000) => vi.advanceTimersByTime(ms);

async function runScheduled(t: TestConvex): Promise<void> {
  await t.finishAllScheduledFunctions(() => vi.runAllTimers());
}

describe("checkout", () => {
  test("a paid checkout makes the account active on the plan at once, before the subscription's own event", async () => {
    const t = newTest();
    const { userId, as, customerId } = await billedCustomer(t, "ada@example.com");
    const life = stripeLife(userId, customerId!);
    const res = await postStripe(t, life.checkout("paid", "pro"));
    expect(res.body).toMatchObject({ status: "applied", outcome: "checkout paid; account trial -> active; plan trial -> pro" });
    expect(await summary(t, as)).toMatchObject({
      plan: "pro",
      state: "active",
      provider: "stripe",
      trialEndsAt: null,
      canStartCheckout: false,
      canOpenPortal: true,
      subscription: { status: "active", plan: "pro", grants: true, banner: null, pending: true },
    });
    const rows = await billingRows(t, userId);
    expect(rows.audits.map((a) => [a.action, a.actorLabel])).toEqual([
      ["account.checkout_completed", "stripe"],
      ["account.plan_changed", "stripe"],
    ]);
  });

  test("an unpaid checkout (async payment) waits; async_payment_succeeded activates", async () => {
    const t = newTest();
    const { userId, customerId } = await billedCustomer(t, "bank@example.com");
    const life = stripeLife(userId, customerId!);
    expect((await postStripe(t, life.checkout("unpaid"))).body).toMatchObject({ status: "ignored", outcome: "awaiting_payment (unpaid)" });
    expect((await billingRows(t, userId)).user.state).toBe("trial");
    const failed = stripeEvent(
      "checkout.session.async_payment_failed",
      stripeCheckoutSession({ customer: customerId!, subscription: "sub_life", paymentStatus: "unpaid", userId, plan: "basic" }),
      Math.floor(Date.now() / 1000),
    );
    expect((await postStripe(t, failed)).body.status).toBe("ignored");
    const succeeded = stripeEvent(
      "checkout.session.async_payment_succeeded",
      stripeCheckoutSession({ customer: customerId!, subscription: "sub_life", paymentStatus: "paid", userId, plan: "basic" }),
      Math.floor(Date.now() / 1000),
    );
    expect((await postStripe(t, succeeded)).body.status).toBe("applied");
    expect((await billingRows(t, userId)).user).toMatchObject({ state: "active", plan: "basic" });
  });

  test("the subscription's own event replaces the provisional row; an incomplete subscription changes nothing", async () => {
    const t = newTest();
    const { userId, customerId } = await billedCustomer(t, "inc@example.com");
    const life = stripeLife(userId, customerId!);
    expect((await postStripe(t, life.created({ status: "incomplete" }))).body.outcome).toBe("subscription incomplete; account trial");
    expect((await billingRows(t, userId)).user.state).toBe("trial");
    tick();
    await postStripe(t, life.updated({ status: "active" }));
    const rows = await billingRows(t, userId);
    expect(rows.user.state).toBe("active");
    expect(rows.subscriptions).toEqual([expect.objectContaining({ status: "active", provisional: false, plan: "basic" })]);
  });
  test("a first payment that never goes through (incomplete, then expired) leaves the trial as it was", async () => {
    const t = newTest();
    const { userId, customerId } = await billedCustomer(t, "expired@example.com");
    const life = stripeLife(userId, customerId!);
    await postStripe(t, life.created({ status: "incomplete" }));
    tick();
    const res = await postStripe(t, life.updated({ status: "incomplete_expired" }));
    expect(res.body.outcome).toBe("subscription ended; account trial");
    const rows = await billingRows(t, userId);
    expect(rows.user).toMatchObject({ state: "trial", plan: "trial" });
    expect(rows.deprovision).toEqual([]);
  });
});

describe("plan change through the portal", () => {
  test("a new price on the subscription moves the account to the new plan at once", async () => {
    const t = newTest();
    const { userId, customerId } = await billedCustomer(t, "up@example.com");
    const life = stripeLife(userId, customerId!);
    await postStripe(t, life.created());
    tick();
    const res = await postStripe(t, life.updated({ price: PRICE.pro }));
    expect(res.body.outcome).toBe("subscription active; account active; plan basic -> pro");
    const rows = await billingRows(t, userId);
    expect(rows.user).toMatchObject({ state: "active", plan: "pro" });
    expect(rows.audits.at(-1)).toMatchObject({ action: "account.plan_changed", actorLabel: "stripe", metadata: expect.objectContaining({ fromPlan: "basic", toPlan: "pro" }) });
  });

  test("a price nobody configured fails the event for support, and changes nothing", async () => {
    const t = newTest();
    const { userId, customerId } = await billedCustomer(t, "odd@example.com");
    const life = stripeLife(userId, customerId!);
    const res = await postStripe(t, life.created({ price: "price_unknown", metadata: {} }));
    expect(res.body).toMatchObject({ status: "failed", outcome: "unknown_plan: no configured price among price_unknown" });
    expect((await billingRows(t, userId)).user.state).toBe("trial");
  });
});

describe("dunning: payment failed, grace, suspension, recovery", () => {
  async function pastDue(t: TestConvex) {
    const { userId, as, customerId } = await billedCustomer(t, "late@example.com");
    const life = stripeLife(userId, customerId!);
    await postStripe(t, life.created());
    tick(DAY);
    const failedAt = Date.now();
    const invoice = stripeInvoice({ id: "in_late", customer: customerId!, subscription: "sub_life", status: "open", created: Math.floor(failedAt / 1000) });
    await postStripe(t, stripeEvent("invoice.payment_failed", invoice, Math.floor(failedAt / 1000)));
    const res = await postStripe(t, life.updated({ status: "past_due" }));
    return { userId, as, customerId: customerId!, life, failedAt, res };
  }

  test("payment failed -> past_due, with the banner, an alert and the grace period's end", async () => {
    const t = newTest();
    const { userId, as, failedAt, res } = await pastDue(t);
    expect(res.body.outcome).toMatch(/^subscription past_due; account active -> past_due; grace until /);
    const rows = await billingRows(t, userId);
    expect(rows.user.state).toBe("past_due");
    expect(rows.alerts.map((a) => a.kind)).toEqual(["payment_failed"]);
    expect(rows.subscriptions[0]).toMatchObject({ pastDueSince: failedAt, graceEndsAt: failedAt + 7 * DAY });
    expect(rows.invoices).toEqual([expect.objectContaining({ status: "payment_failed", providerInvoiceId: "in_late" })]);
    expect((await summary(t, as)).subscription).toMatchObject({ status: "past_due", grants: true, banner: "payment_failed", graceEndsAt: failedAt + 7 * DAY });
  });

  test("the grace period ends without payment -> suspended by the scheduler", async () => {
    const t = newTest();
    const { userId, failedAt } = await pastDue(t);
    vi.setSystemTime(failedAt + 7 * DAY - 1000);
    expect((await billingRows(t, userId)).user.state).toBe("past_due");
    await runScheduled(t);
    const rows = await billingRows(t, userId);
    expect(rows.user.state).toBe("suspended");
    expect(rows.user.stateBeforeSuspension).toBeUndefined();
    expect(Date.now()).toBeGreaterThanOrEqual(failedAt + 7 * DAY);
    expect(rows.audits.at(-1)).toMatchObject({ action: "account.grace_expired", actorLabel: "billing" });
    expect(rows.alerts.map((a) => a.kind)).toEqual(["payment_failed", "account_suspended"]);
  });

  test("BILLING_GRACE_DAYS sets the grace period", async () => {
    vi.stubEnv("BILLING_GRACE_DAYS", "2");
    const t = newTest();
    const { userId, failedAt } = await pastDue(t);
    expect((await billingRows(t, userId)).subscriptions[0].graceEndsAt).toBe(failedAt + 2 * DAY);
  });

  test("recovered within the grace period -> active, and the scheduled suspension never happens", async () => {
    const t = newTest();
    const { userId, life, customerId } = await pastDue(t);
    tick(DAY);
    await postStripe(t, stripeEvent("invoice.paid", stripeInvoice({ id: "in_late", customer: customerId, subscription: "sub_life" }), Math.floor(Date.now() / 1000)));
    const res = await postStripe(t, life.updated({ status: "active" }));
    expect(res.body.outcome).toBe("subscription active; account past_due -> active");
    await runScheduled(t);
    const rows = await billingRows(t, userId);
    expect(rows.user.state).toBe("active");
    const [row] = rows.subscriptions;
    expect([row.graceJobId, row.graceEndsAt, row.pastDueSince]).toEqual([undefined, undefined, undefined]);
    expect(rows.invoices).toEqual([expect.objectContaining({ status: "paid" })]);
    expect(rows.audits.map((a) => a.action)).not.toContain("account.grace_expired");
  });

  test("recovered after the suspension -> active again", async () => {
    const t = newTest();
    const { userId, life, failedAt } = await pastDue(t);
    vi.setSystemTime(failedAt + 7 * DAY);
    await runScheduled(t);
    expect((await billingRows(t, userId)).user.state).toBe("suspended");
    tick();
    expect((await postStripe(t, life.updated({ status: "active", periodStart: Math.floor(Date.now() / 1000) }))).body.outcome).toBe(
      "subscription active; account suspended -> active",
    );
  });

  test("retries exhausted (unpaid) -> suspended at once", async () => {
    const t = newTest();
    const { userId, life } = await pastDue(t);
    tick(DAY);
    await postStripe(t, life.updated({ status: "unpaid" }));
    expect((await billingRows(t, userId)).user.state).toBe("suspended");
  });

  test("an account support suspended stays suspended when its payment recovers", async () => {
    const t = newTest();
    const { userId, life } = await pastDue(t);
    await t.run(async (ctx) => ctx.db.patch("users", userId, { state: "suspended", stateBeforeSuspension: "past_due" }));
    tick();
    const res = await postStripe(t, life.updated({ status: "active" }));
    expect(res.body.outcome).toBe("subscription active; account suspended; account suspended by support: state left as it is");
    expect((await billingRows(t, userId)).user.state).toBe("suspended");
  });
});

describe("cancellation", () => {
  test("cancel at period end: still active, and the summary says when it cancels", async () => {
    const t = newTest();
    const { userId, as, customerId } = await billedCustomer(t, "leaving@example.com");
    const life = stripeLife(userId, customerId!);
    await postStripe(t, life.created());
    tick();
    const periodEnd = Math.floor(START / 1000) + 30 * 86_400;
    await postStripe(t, life.updated({ cancelAtPeriodEnd: true, cancelAt: periodEnd }));
    expect((await billingRows(t, userId)).user.state).toBe("active");
    expect((await summary(t, as)).subscription).toMatchObject({ grants: true, banner: "cancels_at_period_end", cancelsAt: periodEnd * 1000 });
  });

  test("deleted -> canceled, with one deprovisioning request however often it is said", async () => {
    const t = newTest();
    const { userId, as, customerId } = await billedCustomer(t, "gone@example.com");
    const life = stripeLife(userId, customerId!);
    await postStripe(t, life.created());
    tick();
    expect((await postStripe(t, life.deleted())).body.outcome).toBe("subscription ended; account active -> canceled");
    tick();
    // Said again later (a second deleted event): the row keeps the newest end, nothing else moves.
    expect((await postStripe(t, life.deleted())).body).toMatchObject({ status: "applied", outcome: "subscription ended; account canceled" });
    const rows = await billingRows(t, userId);
    expect(rows.user).toMatchObject({ state: "canceled", plan: "basic" });
    // The cancel already made the identity follow the account and none is left live: recorded fulfilled.
    expect(rows.deprovision).toEqual([expect.objectContaining({ provider: "stripe", providerSubscriptionId: "sub_life", status: "fulfilled" })]);
    expect(rows.audits.map((a) => [a.action, a.actorLabel]).slice(-2)).toEqual([
      ["account.cancel", "stripe"],
      ["account.deprovision_requested", "stripe"],
    ]);
    expect(await summary(t, as)).toMatchObject({ state: "canceled", canStartCheckout: true, subscription: { ended: true, grants: false, cancelsAt: null } });
  });

  test("a canceled customer who subscribes again is active on the new subscription", async () => {
    const t = newTest();
    const { userId, customerId } = await billedCustomer(t, "back@example.com");
    const old = stripeLife(userId, customerId!, "sub_old");
    await postStripe(t, old.created());
    tick();
    await postStripe(t, old.deleted());
    tick();
    const renewed = stripeLife(userId, customerId!, "sub_new");
    await postStripe(t, renewed.created({ price: PRICE.pro }));
    // A late update of the old subscription changes nothing: it ended.
    expect((await postStripe(t, old.updated({ status: "past_due" }))).body.outcome).toBe("already_ended");
    expect((await billingRows(t, userId)).user).toMatchObject({ state: "active", plan: "pro" });
  });
});

describe("invoices", () => {
  test("upserted by provider id; a status never moves back; the customer's list is newest first", async () => {
    const t = newTest();
    const { as, customerId } = await billedCustomer(t, "inv@example.com");
    const at = () => Math.floor(Date.now() / 1000);
    const first = stripeInvoice({ id: "in_1", customer: customerId!, subscription: "sub_life", created: at() });
    await postStripe(t, stripeEvent("invoice.paid", first, at()));
    tick(DAY);
    const second = stripeInvoice({ id: "in_2", customer: customerId!, subscription: "sub_life", status: "open", created: at(), hostedUrl: null });
    await postStripe(t, stripeEvent("invoice.payment_failed", second, at()));
    tick();
    await postStripe(t, stripeEvent("invoice.paid", { ...second, status: "paid", amount_paid: 5000, hosted_invoice_url: "https://invoice.stripe.test/i/2" }, at()));
    tick();
    const late = await postStripe(t, stripeEvent("invoice.payment_failed", second, at()));
    expect(late.body).toMatchObject({ status: "ignored", outcome: "stale: invoice already paid" });
    const page = await as.query(api.billing.summary.invoices, { paginationOpts: { numItems: 10, cursor: null } });
    expect(page.page.map((i) => [i.providerInvoiceId, i.status, i.amountMicros, i.hostedUrl])).toEqual([
      ["in_2", "paid", 50_000_000, "https://invoice.stripe.test/i/2"],
      ["in_1", "paid", 50_000_000, "https://invoice.stripe.test/i/abc"],
    ]);
    expect(page.isDone).toBe(true);
  });
});

describe("Polar", () => {
  const SUB = "5ab00000-0000-4000-8000-0000000000aa";
  function polarLife(userId: Id<"users">) {
    const sub = (over: Partial<Parameters<typeof basicPolarSubscription>[1]> = {}) =>
      basicPolarSubscription(userId, { id: SUB, modifiedAt: Date.now(), periodStart: START, ...over });
    return { sub, event: (type: string, over = {}) => polarEvent(type, sub(over)) };
  }

  test("created/active -> active; past_due; renewed; canceled keeps access; uncanceled; revoked -> canceled", async () => {
    const t = newTest();
    const { userId, as } = await billedCustomer(t, "polar@example.com", null);
    const life = polarLife(userId);
    const outcome = async (type: string, over = {}) => {
      tick();
      return (await postPolar(t, life.event(type, over), { scheme: "utf8" })).body.outcome;
    };
    expect(await outcome("subscription.created")).toBe("subscription active; account trial -> active; plan trial -> basic");
    expect(await outcome("subscription.active")).toBe("subscription active; account active");
    expect(await outcome("subscription.past_due", { status: "past_due" })).toMatch(/^subscription past_due; account active -> past_due; grace until/);
    expect(await outcome("subscription.updated", { status: "active", periodStart: START + 30 * DAY })).toBe("subscription active; account past_due -> active");
    expect(await outcome("subscription.canceled", { cancelAtPeriodEnd: true, endsAt: START + 60 * DAY })).toBe("subscription active; account active");
    expect((await summary(t, as)).subscription).toMatchObject({ banner: "cancels_at_period_end", cancelsAt: START + 60 * DAY });
    expect(await outcome("subscription.uncanceled", { cancelAtPeriodEnd: false })).toBe("subscription active; account active");
    expect((await summary(t, as)).subscription).toMatchObject({ banner: null, cancelsAt: null });
    expect(await outcome("subscription.revoked", { status: "canceled", endedAt: Date.now() })).toBe("subscription ended; account active -> canceled");
    const rows = await billingRows(t, userId);
    expect(rows.user).toMatchObject({ state: "canceled", billingProvider: "polar" });
    expect(rows.deprovision).toHaveLength(1);
    expect(rows.audits.filter((a) => a.action.startsWith("account.")).every((a) => a.actorLabel === "polar")).toBe(true);
  });

  test("order.paid and order.refunded fill the invoice; the refund never goes back to paid", async () => {
    const t = newTest();
    const { userId } = await billedCustomer(t, "orders@example.com", null);
    const order = polarOrder({ id: "0rd00000-0000-4000-8000-000000000001", subscriptionId: SUB, externalId: userId, amount: 5000, createdAt: Date.now() });
    await postPolar(t, polarEvent("order.paid", order));
    tick();
    const refunded = { ...order, status: "refunded", modified_at: new Date(Date.now()).toISOString() };
    await postPolar(t, polarEvent("order.refunded", refunded));
    expect((await postPolar(t, polarEvent("order.paid", order))).body.outcome).toBe("stale: invoice already refunded");
    const [invoice] = (await billingRows(t, userId)).invoices;
    expect(invoice).toMatchObject({ provider: "polar", status: "refunded", amountMicros: 50_000_000 });
    expect(invoice.hostedUrl).toBeUndefined();
  });
});
