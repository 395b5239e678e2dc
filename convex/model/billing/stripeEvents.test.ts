import { describe, expect, test } from "vitest";
import { normalizeStripeEvent, stripeEventHeader, stripeSubscriptionFact } from "./stripeEvents";
import { stripeCheckoutSession, stripeEvent, stripeInvoice, stripeSubscription } from "./providerEvents.setup";

const T = 1_790_000_100;

describe("stripeEventHeader", () => {
  test("id, type and created (ms) of an event; null for anything else", () => {
    expect(stripeEventHeader(stripeEvent("invoice.paid", {}, T, "evt_1"))).toEqual({ id: "evt_1", type: "invoice.paid", created: T * 1000 });
    expect(stripeEventHeader({ type: "invoice.paid" })).toBeNull();
    expect(stripeEventHeader("evt")).toBeNull();
  });
});

describe("customer.subscription.*", () => {
  test("status, items' period, every price, metadata and the event's time", () => {
    const sub = stripeSubscription({
      id: "sub_1",
      customer: "cus_1",
      status: "past_due",
      price: "price_pro",
      periodStart: T,
      periodEnd: T + 100,
      metadata: { userId: "u1", plan: "pro" },
    });
    expect(normalizeStripeEvent(stripeEvent("customer.subscription.updated", sub, T + 5))).toEqual({
      kind: "subscription",
      subscriptionId: "sub_1",
      customerId: "cus_1",
      userHint: "u1",
      priceIds: ["price_pro"],
      planHint: "pro",
      status: "past_due",
      ended: false,
      cancelAtPeriodEnd: false,
      cancelAt: null,
      currentPeriodStart: T * 1000,
      currentPeriodEnd: (T + 100) * 1000,
      version: (T + 5) * 1000,
    });
  });

  test("deleted ends the subscription; cancel at period end keeps it live with the date", () => {
    const deleted = normalizeStripeEvent(stripeEvent("customer.subscription.deleted", stripeSubscription({ id: "sub_1", customer: "c", status: "canceled" }), T));
    expect(deleted).toMatchObject({ kind: "subscription", ended: true, status: "canceled" });
    const cancels = normalizeStripeEvent(
      stripeEvent("customer.subscription.updated", stripeSubscription({ id: "sub_1", customer: "c", cancelAtPeriodEnd: true, cancelAt: T + 9 }), T),
    );
    expect(cancels).toMatchObject({ ended: false, cancelAtPeriodEnd: true, cancelAt: (T + 9) * 1000 });
  });

  test("an older API version's period on the subscription itself is read too", () => {
    const sub = { id: "sub_old", customer: "c", status: "active", current_period_start: T, current_period_end: T + 50, items: { data: [] } };
    expect(normalizeStripeEvent(stripeEvent("customer.subscription.created", sub, T))).toMatchObject({ currentPeriodEnd: (T + 50) * 1000, priceIds: [] });
  });

  test("a subscription without id or status is malformed", () => {
    expect(normalizeStripeEvent(stripeEvent("customer.subscription.updated", { id: "sub_x" }, T)).kind).toBe("malformed");
  });

  test("a fetched subscription is versioned at the time given", () => {
    expect(stripeSubscriptionFact(stripeSubscription({ id: "sub_1", customer: "c" }), 42)).toMatchObject({ kind: "subscription", version: 42 });
  });
});

describe("checkout.session.*", () => {
  test.each([
    ["checkout.session.completed", "paid", true],
    ["checkout.session.completed", "no_payment_required", true],
    ["checkout.session.completed", "unpaid", false],
    ["checkout.session.async_payment_succeeded", "paid", true],
    ["checkout.session.async_payment_failed", "unpaid", false],
  ] as const)("%s with payment_status %s activates: %s", (type, paymentStatus, paid) => {
    const session = stripeCheckoutSession({ id: "cs_1", customer: "cus_1", subscription: "sub_1", paymentStatus, userId: "u1", plan: "basic" });
    expect(normalizeStripeEvent(stripeEvent(type, session, T))).toEqual({
      kind: "checkout",
      checkoutId: "cs_1",
      subscriptionId: "sub_1",
      customerId: "cus_1",
      userHint: "u1",
      paymentStatus,
      paid,
      planHint: "basic",
      version: T * 1000,
    });
  });

  test("a one-off payment checkout is not ours to apply", () => {
    const session = stripeCheckoutSession({ customer: "c", subscription: null, mode: "payment" });
    expect(normalizeStripeEvent(stripeEvent("checkout.session.completed", session, T))).toEqual({ kind: "ignored", reason: "checkout in payment mode" });
  });
});

describe("invoice.*", () => {
  test("invoice.paid: the amount paid, the hosted link, the subscription under parent", () => {
    const invoice = stripeInvoice({ id: "in_1", customer: "cus_1", subscription: "sub_1", amount: 25_000, created: T });
    expect(normalizeStripeEvent(stripeEvent("invoice.paid", invoice, T + 1))).toEqual({
      kind: "invoice",
      invoiceId: "in_1",
      subscriptionId: "sub_1",
      customerId: "cus_1",
      userHint: null,
      status: "paid",
      amountCents: 25_000,
      currency: "usd",
      periodStart: 1_790_000_000_000,
      periodEnd: 1_792_592_000_000,
      hostedUrl: "https://invoice.stripe.test/i/abc",
      number: "SIM-0001",
      createdAt: T * 1000,
      version: (T + 1) * 1000,
    });
  });

  test("invoice.payment_failed: the amount due", () => {
    const invoice = stripeInvoice({ customer: "cus_1", subscription: "sub_1", status: "open", amount: 5000 });
    expect(normalizeStripeEvent(stripeEvent("invoice.payment_failed", invoice, T))).toMatchObject({ status: "payment_failed", amountCents: 5000 });
  });
});

test("every other type is ignored, a handled type without its object is malformed", () => {
  expect(normalizeStripeEvent(stripeEvent("customer.created", { id: "cus_1" }, T))).toEqual({ kind: "ignored", reason: "event type not handled" });
  expect(normalizeStripeEvent({ id: "evt_1", type: "invoice.paid", created: T, data: {} }).kind).toBe("malformed");
  expect(normalizeStripeEvent({ nope: true }).kind).toBe("malformed");
});
