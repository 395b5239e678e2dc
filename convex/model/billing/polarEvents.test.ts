import { describe, expect, test } from "vitest";
import { normalizePolarEvent, polarEventType } from "./polarEvents";
import { polarEvent, polarOrder, polarSubscription } from "./providerEvents.setup";

const T = Date.UTC(2026, 10, 1, 12);
const DAY = 86_400_000;

describe("subscription.*", () => {
  test("status, period, product and modified_at as the version; the external id is our user", () => {
    const sub = polarSubscription({ id: "s1", externalId: "u1", status: "past_due", modifiedAt: T + 5, periodStart: T, periodEnd: T + 30 * DAY });
    expect(normalizePolarEvent(polarEvent("subscription.past_due", sub))).toEqual({
      kind: "subscription",
      subscriptionId: "s1",
      customerId: "6b0e0000-0000-4000-8000-00000000c001",
      userHint: "u1",
      priceIds: ["0b9f7c2e-1d3a-4c5b-8e6f-7a8b9c0d1e2f"],
      planHint: null,
      status: "past_due",
      ended: false,
      cancelAtPeriodEnd: false,
      cancelAt: null,
      currentPeriodStart: T,
      currentPeriodEnd: T + 30 * DAY,
      version: T + 5,
    });
  });

  test("canceled keeps access to the period's end; revoked ends it now", () => {
    const canceled = polarSubscription({ id: "s1", externalId: "u1", modifiedAt: T, cancelAtPeriodEnd: true, endsAt: T + DAY });
    expect(normalizePolarEvent(polarEvent("subscription.canceled", canceled))).toMatchObject({ ended: false, cancelAtPeriodEnd: true, cancelAt: T + DAY });
    const revoked = polarSubscription({ id: "s1", externalId: "u1", status: "canceled", modifiedAt: T, endedAt: T });
    expect(normalizePolarEvent(polarEvent("subscription.revoked", revoked))).toMatchObject({ ended: true, status: "canceled" });
  });

  test("created_at stands in for a missing modified_at", () => {
    const sub = { ...polarSubscription({ id: "s1", externalId: "u1", modifiedAt: T, periodStart: T - DAY }), modified_at: null };
    expect(normalizePolarEvent(polarEvent("subscription.created", sub))).toMatchObject({ version: T - DAY });
  });
});

describe("order.*", () => {
  test("order.paid is a paid invoice; order.refunded a refunded one", () => {
    const order = polarOrder({ id: "o1", subscriptionId: "s1", externalId: "u1", amount: 25_000, createdAt: T });
    expect(normalizePolarEvent(polarEvent("order.paid", order))).toMatchObject({
      kind: "invoice",
      invoiceId: "o1",
      subscriptionId: "s1",
      userHint: "u1",
      status: "paid",
      amountCents: 25_000,
      hostedUrl: null,
      createdAt: T,
      version: T,
    });
    const refunded = { ...order, status: "refunded", modified_at: new Date(T + DAY).toISOString() };
    expect(normalizePolarEvent(polarEvent("order.refunded", refunded))).toMatchObject({ status: "refunded", version: T + DAY });
  });
});

test("other types are ignored; bodies without a type are not Polar events", () => {
  expect(normalizePolarEvent(polarEvent("checkout.updated", {}))).toEqual({ kind: "ignored", reason: "event type not handled" });
  expect(normalizePolarEvent(polarEvent("order.created", {}))).toEqual({ kind: "ignored", reason: "event type not handled" });
  expect(normalizePolarEvent(polarEvent("subscription.updated", { id: "s1" })).kind).toBe("malformed");
  expect(polarEventType({ data: {} })).toBeNull();
});
