// POST /webhooks/stripe end to end: events signed by stripe-node's test helper, sent through the
// deployment's HTTP router. A refused request records and changes nothing; a replay is a 200
// that changes nothing.
import { describe, expect, test, vi } from "vitest";
import { newTest } from "../test.setup";
import { stripeCheckoutSession, stripeEvent, stripeSubscription } from "../model/billing/providerEvents.setup";
import { allEvents, billedCustomer, billingRows, expectUntouched, postStripe, PRICE, STRIPE_SECRET, useBillingEnv } from "./webhooks.setup";

const now = () => Math.floor(Date.now() / 1000);

function created(userId: string, customer: string, at = now()) {
  return stripeEvent(
    "customer.subscription.created",
    stripeSubscription({ id: "sub_sig", customer, price: PRICE.basic, metadata: { userId, plan: "basic" } }),
    at,
  );
}

useBillingEnv();

describe("signature checks: 400 with the reason, nothing recorded or changed", () => {
  test("a valid signature is accepted: recorded once and applied", async () => {
    const t = newTest();
    const { userId, customerId } = await billedCustomer(t, "valid@example.com");
    const res = await postStripe(t, created(userId, customerId!));
    expect(res).toEqual({ status: 200, body: { received: true, status: "applied", outcome: "subscription active; account trial -> active; plan trial -> basic", replayed: false } });
    const rows = await billingRows(t, userId);
    expect(rows.user).toMatchObject({ state: "active", plan: "basic" });
    expect(rows.events).toEqual([expect.objectContaining({ provider: "stripe", type: "customer.subscription.created", status: "applied" })]);
  });

  const refusals: Array<[string, (event: unknown) => Parameters<typeof postStripe>[2] & { event?: unknown }, RegExp]> = [
    ["tampered body", (e) => ({ body: JSON.stringify({ ...(e as object), type: "customer.subscription.deleted" }) }), /signature/i],
    ["wrong secret", () => ({ secret: "whsec_someone_else" }), /signature/i],
    ["missing Stripe-Signature", () => ({ signature: null }), /Missing Stripe-Signature/],
    ["garbage signature header", () => ({ signature: "t=abc,v1=zzz" }), /signature/i],
    ["timestamp 6 minutes old", () => ({ timestamp: now() - 360 }), /tolerance/],
    ["timestamp 6 minutes ahead", () => ({ timestamp: now() + 360 }), /tolerance/],
  ];
  for (const [name, opts, message] of refusals) {
    test(name, async () => {
      const t = newTest();
      const { userId, customerId } = await billedCustomer(t, "victim@example.com");
      const res = await postStripe(t, created(userId, customerId!), opts(created(userId, customerId!)));
      expect(res.status).toBe(400);
      expect(res.body.error).toMatch(message);
      await expectUntouched(t, userId);
    });
  }

  test("a timestamp inside the 5 minutes is accepted", async () => {
    const t = newTest();
    const { userId, customerId } = await billedCustomer(t, "recent@example.com");
    expect((await postStripe(t, created(userId, customerId!), { timestamp: now() - 240 })).status).toBe(200);
  });

  test("a signed body that is not an event is refused", async () => {
    const t = newTest();
    const res = await postStripe(t, { hello: "world" });
    expect(res).toEqual({ status: 400, body: { error: expect.stringMatching(/not a Stripe event/) } });
    expect(await allEvents(t)).toEqual([]);
  });

  test("without STRIPE_WEBHOOK_SECRET: 500 (Stripe retries later), nothing recorded", async () => {
    vi.stubEnv("STRIPE_WEBHOOK_SECRET", "");
    const t = newTest();
    const res = await postStripe(t, stripeEvent("invoice.paid", {}, now()), { secret: STRIPE_SECRET });
    expect(res.status).toBe(500);
    expect(res.body.error).toMatch(/STRIPE_WEBHOOK_SECRET/);
    expect(await allEvents(t)).toEqual([]);
  });
});

describe("replays and unknown types", () => {
  test("the same event delivered again answers 200, replayed, and changes nothing", async () => {
    const t = newTest();
    const { userId, customerId } = await billedCustomer(t, "replay@example.com");
    const event = stripeEvent(
      "checkout.session.completed",
      stripeCheckoutSession({ customer: customerId!, subscription: "sub_replay", userId, plan: "pro" }),
      now(),
      "evt_replayed",
    );
    const first = await postStripe(t, event);
    // Support changes the plan in between: a replay of the checkout must not undo it.
    await t.run(async (ctx) => ctx.db.patch("users", userId, { plan: "basic" }));
    const second = await postStripe(t, event);
    expect(first.body).toMatchObject({ status: "applied", replayed: false });
    expect(second).toEqual({ status: 200, body: { received: true, status: "applied", outcome: first.body.outcome, replayed: true } });
    const rows = await billingRows(t, userId);
    expect(rows.events).toHaveLength(1);
    expect(rows.user.plan).toBe("basic");
    expect(rows.audits.filter((a) => a.action === "account.checkout_completed")).toHaveLength(1);
  });

  test("an unknown event type is recorded and acknowledged", async () => {
    const t = newTest();
    const res = await postStripe(t, stripeEvent("customer.tax_id.created", { id: "txi_1" }, now(), "evt_unknown"));
    expect(res).toEqual({ status: 200, body: { received: true, status: "ignored", outcome: "event type not handled", replayed: false } });
    expect(await allEvents(t)).toEqual([
      expect.objectContaining({ provider: "stripe", eventId: "evt_unknown", type: "customer.tax_id.created", status: "ignored" }),
    ]);
  });

  test("an event for a customer nobody has is recorded as failed, acknowledged, and changes nothing", async () => {
    const t = newTest();
    const res = await postStripe(t, created("not-a-user-id", "cus_stranger"));
    expect(res.body).toMatchObject({ status: "failed", outcome: "no_account" });
    const [row] = await allEvents(t);
    expect(row).toMatchObject({ status: "failed", fact: expect.objectContaining({ kind: "subscription", customerId: "cus_stranger" }) });
  });
});
