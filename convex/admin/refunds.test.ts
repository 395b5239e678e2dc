// Refunds from the console through the real billing SDKs against the provider simulator:
// stripe-node's POST /v1/refunds on the invoice's PaymentIntent (amount, Idempotency-Key), the
// Polar SDK's POST /v1/refunds/ on the order; partial refunds up to what was paid, a repeated
// submit refunding nothing more, over-refunds refused before (and by) the provider.
import Stripe from "stripe";
import { afterEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { mailClock } from "../email/simulator.setup";
import { errorCodeOf, signIn, type TestConvex } from "../test.setup";
import { control, simState, useBillingStack } from "../billing/simulator.setup";
import { billingRows } from "../billing/webhooks.setup";
import { ConvexError } from "convex/values";

const stack = useBillingStack();
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.unstubAllEnvs();
});

type SimRefund = { id: string; amount: number; payment_intent?: string; charge?: string; order_id?: string; metadata: Record<string, string> };
type SimCharge = { id: string; amount: number; amount_refunded: number; refunded: boolean; payment_intent: string };

async function messageOf(p: Promise<unknown>): Promise<[string, string]> {
  try {
    await p;
  } catch (e) {
    const data = (e as ConvexError<{ code: string; message: string }>).data;
    return [data.code, data.message];
  }
  throw new Error("expected a refusal");
}

/** An account that bought Basic ($50) through the simulated Stripe checkout. */
async function stripeCustomer(t: TestConvex, email: string) {
  const { userId, as } = await signIn(t, email);
  const { url } = await as.action(api.billing.checkout.start, { plan: "basic" });
  await control(stack.sim, `/_sim/stripe/checkout/${url.split("/").pop()}/complete`);
  const [invoice] = (await billingRows(t, userId)).invoices;
  expect(invoice).toMatchObject({ status: "paid", amountMicros: 50_000_000 });
  return { userId, invoiceId: invoice._id as Id<"invoices">, providerInvoiceId: invoice.providerInvoiceId };
}

async function refundRows(t: TestConvex, invoiceId: Id<"invoices">) {
  return await t.run(async (ctx) => ctx.db.query("invoiceRefunds").withIndex("by_invoiceId", (q) => q.eq("invoiceId", invoiceId)).collect());
}

async function invoiceStatus(t: TestConvex, invoiceId: Id<"invoices">) {
  return (await t.run(async (ctx) => ctx.db.get("invoices", invoiceId)))!.status;
}

describe("a Stripe refund from the console", () => {
  test("partial, then the rest: the refunds land on the invoice's PaymentIntent and the invoice follows", async () => {
    const t = stack.deployment();
    const { userId, invoiceId, providerInvoiceId } = await stripeCustomer(t, "refund@example.com");
    const { as: agent } = await signIn(t, "agent@example.com", "support");
    const clock = mailClock(Date.now());

    const first = await agent.mutation(api.admin.refunds.request, { invoiceId, amountMicros: 20_000_000, reason: "outage on the 3rd", idempotencyKey: "key-first-0001" });
    expect(first).toMatchObject({ status: "pending", amountMicros: 20_000_000, replayed: false });
    await clock.settle(t);

    const state = await simState<{ refunds: SimRefund[]; charges: SimCharge[] }>(stack.sim, "stripe");
    expect(state.refunds).toHaveLength(1);
    const [charge] = state.charges;
    expect(state.refunds[0]).toMatchObject({ amount: 2_000, payment_intent: charge.payment_intent, metadata: { invoice: providerInvoiceId, userId } });
    expect(charge).toMatchObject({ amount: 5_000, amount_refunded: 2_000, refunded: false });
    const [refundCall] = stack.sim.requests({ pathPrefix: "/v1/refunds" });
    expect(refundCall.headers["idempotency-key"]).toBe("poindexter-refund-key-first-0001");
    expect(refundCall.body).toMatchObject({ payment_intent: charge.payment_intent, amount: "2000", reason: "requested_by_customer" });

    expect(await refundRows(t, invoiceId)).toEqual([expect.objectContaining({ status: "succeeded", providerRefundId: state.refunds[0].id, amountMicros: 20_000_000 })]);
    expect(await invoiceStatus(t, invoiceId)).toBe("partially_refunded");
    const view = await agent.query(api.admin.refunds.forAccount, { userId });
    expect(view[0]).toMatchObject({ refundedMicros: 20_000_000, refundableMicros: 30_000_000, invoice: { status: "partially_refunded" } });

    // The same submit again (double click): the first refund, nothing new at the provider.
    const again = await agent.mutation(api.admin.refunds.request, { invoiceId, amountMicros: 20_000_000, reason: "outage on the 3rd", idempotencyKey: "key-first-0001" });
    expect(again).toEqual({ ...first, status: "succeeded", replayed: true });
    await clock.settle(t);
    expect((await simState<{ refunds: SimRefund[] }>(stack.sim, "stripe")).refunds).toHaveLength(1);

    // More than is left is refused before anything reaches Stripe.
    expect(await messageOf(agent.mutation(api.admin.refunds.request, { invoiceId, amountMicros: 40_000_000, reason: "too much", idempotencyKey: "key-over-00001" }))).toEqual([
      "INVALID_ARGUMENT",
      "A refund of $40.00 is more than the $30.00 left to refund on this invoice (paid $50.00).",
    ]);
    expect(await errorCodeOf(agent.mutation(api.admin.refunds.request, { invoiceId, amountMicros: 1_234, reason: "fraction", idempotencyKey: "key-frac-00001" }))).toBe("INVALID_ARGUMENT");

    // The rest (no amount: all that is left).
    expect(await agent.mutation(api.admin.refunds.request, { invoiceId, reason: "goodwill", idempotencyKey: "key-rest-00001" })).toMatchObject({ amountMicros: 30_000_000 });
    await clock.settle(t);
    expect(await invoiceStatus(t, invoiceId)).toBe("refunded");
    expect((await simState<{ charges: SimCharge[] }>(stack.sim, "stripe")).charges[0]).toMatchObject({ amount_refunded: 5_000, refunded: true });
    expect(await errorCodeOf(agent.mutation(api.admin.refunds.request, { invoiceId, amountMicros: 10_000, reason: "more", idempotencyKey: "key-more-00001" }))).toBe("CONFLICT");

    // Audit: who asked, why, and the provider's confirmation.
    const audits = (await billingRows(t, userId)).audits.filter((a) => a.action.startsWith("invoice."));
    expect(audits.map((a) => [a.action, a.actorLabel, a.reason])).toEqual([
      ["invoice.refund_requested", "agent@example.com", "outage on the 3rd"],
      ["invoice.refunded", "billing", "outage on the 3rd"],
      ["invoice.refund_requested", "agent@example.com", "goodwill"],
      ["invoice.refunded", "billing", "goodwill"],
    ]);
  });

  test("Stripe refusing the refund (already refunded in its dashboard) fails the row with Stripe's reason; the invoice is untouched", async () => {
    const t = stack.deployment();
    const { invoiceId } = await stripeCustomer(t, "dash@example.com");
    const { as: agent } = await signIn(t, "agent@example.com", "support");
    // Someone refunded the whole charge in Stripe's dashboard; our rows have not heard of it.
    const [charge] = (await simState<{ charges: SimCharge[] }>(stack.sim, "stripe")).charges;
    const stripe = new Stripe("sk_test_simulator", { host: new URL(stack.sim.url).hostname, port: Number(new URL(stack.sim.url).port), protocol: "http", httpClient: Stripe.createFetchHttpClient() });
    await stripe.refunds.create({ payment_intent: charge.payment_intent });

    const clock = mailClock(Date.now());
    await agent.mutation(api.admin.refunds.request, { invoiceId, amountMicros: 10_000_000, reason: "late", idempotencyKey: "key-late-00001" });
    await clock.settle(t);
    expect(await refundRows(t, invoiceId)).toEqual([
      expect.objectContaining({ status: "failed", error: expect.stringContaining(`Charge ${charge.id} has already been refunded`) }),
    ]);
    expect(await invoiceStatus(t, invoiceId)).toBe("paid");
    // One attempt: a 400 is not retried.
    expect(stack.sim.requests({ pathPrefix: "/v1/refunds" }).filter((r) => r.method === "POST")).toHaveLength(2);
  });

  test("the simulator refuses an over-refund and replays an idempotent one, as Stripe does", async () => {
    const t = stack.deployment();
    await stripeCustomer(t, "sdk@example.com");
    const [charge] = (await simState<{ charges: SimCharge[] }>(stack.sim, "stripe")).charges;
    const url = new URL(stack.sim.url);
    const stripe = new Stripe("sk_test_simulator", { host: url.hostname, port: Number(url.port), protocol: "http", httpClient: Stripe.createFetchHttpClient(), maxNetworkRetries: 0 });
    const one = await stripe.refunds.create({ payment_intent: charge.payment_intent, amount: 1_000 }, { idempotencyKey: "k1" });
    const replay = await stripe.refunds.create({ payment_intent: charge.payment_intent, amount: 1_000 }, { idempotencyKey: "k1" });
    expect(replay.id).toBe(one.id);
    await expect(stripe.refunds.create({ payment_intent: charge.payment_intent, amount: 4_500 })).rejects.toMatchObject({
      type: "StripeInvalidRequestError",
      statusCode: 400,
      param: "amount",
      message: "Refund amount ($45.00) is greater than unrefunded amount on charge ($40.00)",
    });
    await expect(stripe.refunds.create({ payment_intent: charge.payment_intent, amount: 2_000 }, { idempotencyKey: "k1" })).rejects.toMatchObject({ type: "StripeIdempotencyError" });
    const refunded = (await simState<{ charges: SimCharge[] }>(stack.sim, "stripe")).charges[0];
    expect(refunded.amount_refunded).toBe(1_000);
    // The refund's webhooks reached the app, signed like every Stripe event.
    const delivered = await t.run(async (ctx) => (await ctx.db.query("webhookEvents").collect()).map((e) => e.type));
    expect(delivered.filter((type) => type === "refund.created" || type === "charge.refunded")).toEqual(["refund.created", "charge.refunded"]);
  });
});

describe("a Polar refund from the console", () => {
  test("part of the order, once however often it is executed; order.refunded keeps the invoice in step", async () => {
    vi.stubEnv("BILLING_PROVIDER", "polar");
    const t = stack.deployment();
    const { userId, as } = await signIn(t, "polar@example.com");
    await as.action(api.billing.checkout.start, { plan: "basic" });
    const checkouts = (await simState<{ checkouts: Array<{ id: string }> }>(stack.sim, "polar")).checkouts;
    await control(stack.sim, `/_sim/polar/checkouts/${checkouts[0].id}/complete`);
    const [invoice] = (await billingRows(t, userId)).invoices;
    const invoiceId = invoice._id as Id<"invoices">;
    const { as: admin } = await signIn(t, "admin@example.com", "admin");

    const clock = mailClock(Date.now());
    const { refundId } = await admin.mutation(api.admin.refunds.request, { invoiceId, amountMicros: 15_000_000, reason: "billing error", idempotencyKey: "polar-key-0001" });
    await clock.settle(t);
    // A second execution of the same refund (a retry after a lost answer) finds the first by its key.
    await t.action(internal.admin.refunds.execute, { refundId }).catch(() => undefined);
    await t.run(async (ctx) => ctx.db.patch("invoiceRefunds", refundId, { status: "pending" }));
    const replayed = await t.action(internal.admin.refunds.execute, { refundId });
    const state = await simState<{ refunds: SimRefund[]; orders: Array<{ id: string; refunded_amount: number; status: string }> }>(stack.sim, "polar");
    expect(state.refunds).toHaveLength(1);
    expect(replayed).toEqual({ kind: "refunded", refundId: state.refunds[0].id, status: "succeeded", amountCents: 1_500 });
    expect(state.refunds[0]).toMatchObject({ order_id: invoice.providerInvoiceId, amount: 1_500, metadata: { poindexter_refund_key: "polar-key-0001", user_id: userId } });
    expect(state.orders[0]).toMatchObject({ refunded_amount: 1_500, status: "partially_refunded" });
    expect(await invoiceStatus(t, invoiceId)).toBe("partially_refunded");

    // More than the order has left: refused by us first.
    expect((await messageOf(admin.mutation(api.admin.refunds.request, { invoiceId, amountMicros: 40_000_000, reason: "x too much", idempotencyKey: "polar-key-0002" })))[0]).toBe("INVALID_ARGUMENT");
  });
});

describe("who may refund", () => {
  test("a customer cannot refund, even their own invoice", async () => {
    const t = stack.deployment();
    const { invoiceId } = await stripeCustomer(t, "self@example.com");
    const { as } = await signIn(t, "other@example.com");
    expect(await errorCodeOf(as.mutation(api.admin.refunds.request, { invoiceId, reason: "please", idempotencyKey: "self-key-0001" }))).toBe("FORBIDDEN");
    expect(await errorCodeOf(as.query(api.admin.refunds.forAccount, { userId: (await t.run(async (ctx) => (await ctx.db.get("invoices", invoiceId))!.userId)) }))).toBe("FORBIDDEN");
  });

  test("a reason and a well-formed idempotency key are required; an unpaid invoice cannot be refunded", async () => {
    const t = stack.deployment();
    const { invoiceId } = await stripeCustomer(t, "rules@example.com");
    const { as: agent } = await signIn(t, "agent@example.com", "support");
    expect(await errorCodeOf(agent.mutation(api.admin.refunds.request, { invoiceId, reason: " ", idempotencyKey: "rules-key-001" }))).toBe("INVALID_ARGUMENT");
    expect(await errorCodeOf(agent.mutation(api.admin.refunds.request, { invoiceId, reason: "why not", idempotencyKey: "bad key!" }))).toBe("INVALID_ARGUMENT");
    await t.run(async (ctx) => ctx.db.patch("invoices", invoiceId, { status: "open" }));
    expect(await messageOf(agent.mutation(api.admin.refunds.request, { invoiceId, reason: "why not", idempotencyKey: "rules-key-002" }))).toEqual([
      "CONFLICT",
      "Only a paid invoice can be refunded; this one is open.",
    ]);
  });
});
