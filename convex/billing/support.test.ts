// The support console's billing section: an account's subscription, invoices and webhook events
// with their outcome, the events no account could take, and re-applying a failed one.
import { describe, expect, test } from "vitest";
import { api } from "../_generated/api";
import { errorCodeOf, newTest, signIn } from "../test.setup";
import { stripeEvent, stripeInvoice, stripeSubscription } from "../model/billing/providerEvents.setup";
import { billedCustomer, billingRows, postStripe, PRICE, useBillingEnv } from "./webhooks.setup";

useBillingEnv();

const now = () => Math.floor(Date.now() / 1000);

describe("an account's billing, for support", () => {
  test("subscription, invoices, events (applied or ignored and why) and deprovisioning requests", async () => {
    const t = newTest();
    const { userId, customerId } = await billedCustomer(t, "seen@example.com");
    const { as: agent } = await signIn(t, "agent@example.com", "support");
    const sub = stripeSubscription({ id: "sub_s", customer: customerId!, price: PRICE.pro });
    await postStripe(t, stripeEvent("customer.subscription.created", sub, now() - 10, "evt_a"));
    await postStripe(t, stripeEvent("customer.subscription.updated", { ...sub, status: "past_due" }, now() - 20, "evt_old"));
    await postStripe(t, stripeEvent("invoice.paid", stripeInvoice({ id: "in_s", customer: customerId!, subscription: "sub_s" }), now(), "evt_inv"));

    const view = await agent.query(api.billing.support.account, { userId });
    expect(view.summary).toMatchObject({ plan: "pro", state: "active" });
    expect(view.stripeCustomerId).toBe(customerId);
    expect(view.subscriptions).toEqual([expect.objectContaining({ providerSubscriptionId: "sub_s", status: "active", plan: "pro" })]);
    expect(view.invoices).toEqual([expect.objectContaining({ providerInvoiceId: "in_s", status: "paid" })]);
    expect(view.events.map((e) => [e.eventId, e.type, e.status, e.outcome])).toEqual([
      ["evt_inv", "invoice.paid", "applied", "invoice paid"],
      ["evt_old", "customer.subscription.updated", "ignored", "stale"],
      ["evt_a", "customer.subscription.created", "applied", "subscription active; account trial -> active; plan trial -> pro"],
    ]);
    expect(view.deprovisionRequests).toEqual([]);
  });
});

describe("re-applying a failed event", () => {
  test("an event no account could take is listed, and re-applied once support links the customer", async () => {
    const t = newTest();
    const { as: agent } = await signIn(t, "agent@example.com", "support");
    const sub = stripeSubscription({ id: "sub_orphan", customer: "cus_orphan", price: PRICE.basic });
    const res = await postStripe(t, stripeEvent("customer.subscription.created", sub, now(), "evt_orphan"));
    expect(res.body).toMatchObject({ status: "failed", outcome: "no_account" });
    const failed = await agent.query(api.billing.support.failedEvents, { paginationOpts: { numItems: 10, cursor: null } });
    expect(failed.page.map((e) => [e.provider, e.eventId, e.outcome])).toEqual([["stripe", "evt_orphan", "no_account"]]);

    // Still no account: re-applying fails again, and says so.
    expect(await agent.mutation(api.billing.support.reapplyEvent, { provider: "stripe", eventId: "evt_orphan", reason: "retry" })).toEqual({
      status: "failed",
      outcome: "no_account",
    });
    // Support finds the account the customer belongs to and links it (as checkout would have).
    const { userId } = await billedCustomer(t, "orphan@example.com", { provider: "stripe", customerId: "cus_orphan" });
    const result = await agent.mutation(api.billing.support.reapplyEvent, {
      provider: "stripe",
      eventId: "evt_orphan",
      reason: "customer linked by hand after a lost checkout",
    });
    expect(result).toEqual({ status: "applied", outcome: "subscription active; account trial -> active; plan trial -> basic" });
    const rows = await billingRows(t, userId);
    expect(rows.user).toMatchObject({ state: "active", plan: "basic" });
    expect(rows.events).toEqual([expect.objectContaining({ eventId: "evt_orphan", status: "applied", reappliedAt: expect.any(Number) })]);
    expect(rows.audits.find((a) => a.action === "billing.event_reapplied")).toMatchObject({
      actorLabel: "agent@example.com",
      reason: "customer linked by hand after a lost checkout",
      metadata: expect.objectContaining({ provider: "stripe", eventId: "evt_orphan", status: "applied" }),
    });

    // Applied events are never applied twice.
    expect(await errorCodeOf(agent.mutation(api.billing.support.reapplyEvent, { provider: "stripe", eventId: "evt_orphan", reason: "again" }))).toBe("CONFLICT");
    expect(await errorCodeOf(agent.mutation(api.billing.support.reapplyEvent, { provider: "stripe", eventId: "evt_none", reason: "why" }))).toBe("NOT_FOUND");
    expect(await errorCodeOf(agent.mutation(api.billing.support.reapplyEvent, { provider: "stripe", eventId: "evt_orphan", reason: "" }))).toBe(
      "INVALID_ARGUMENT",
    );
  });

  test("a plan granted by hand goes through the support console's override (audit-logged, with a reason)", async () => {
    const t = newTest();
    const { userId, as } = await billedCustomer(t, "comp@example.com");
    const { as: agent } = await signIn(t, "agent@example.com", "support");
    await agent.mutation(api.admin.accounts.overrideAccountPlan, { userId, plan: "pro", reason: "comp for the outage" });
    expect(await as.query(api.billing.summary.mine, {})).toMatchObject({ plan: "pro", state: "active", subscription: null, canStartCheckout: true });
    expect((await billingRows(t, userId)).audits).toEqual([
      expect.objectContaining({ action: "account.plan_changed", actorLabel: "agent@example.com", reason: "comp for the outage" }),
    ]);
  });
});
