// Order does not matter, as a property: every permutation of a realistic lifecycle's events
// (signed, through the webhook) ends in exactly the state in-order delivery ends in (account
// state and plan, subscription row, invoices, deprovisioning requests), and delivering the whole
// lifecycle a second time changes nothing.
import { describe, expect, test } from "vitest";
import type { Id } from "../_generated/dataModel";
import { newTest, type TestConvex } from "../test.setup";
import { polarEvent, polarOrder, stripeCheckoutSession, stripeEvent, stripeInvoice } from "../model/billing/providerEvents.setup";
import { basicPolarSubscription, basicStripeSubscription, billedCustomer, billingRows, postPolar, postStripe, PRICE, useBillingEnv } from "./webhooks.setup";

useBillingEnv();

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [items.slice()];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

type Delivery = { provider: "stripe" | "polar"; name: string; event: unknown; id: string };
type Lifecycle = (userId: Id<"users">, customer: string) => Delivery[];

// Provider times an hour back from now, so a grace period started in a lifecycle ends in a week,
// not during the test (the scheduler would otherwise suspend accounts between deliveries).
const T0 = Math.floor(Date.now() / 1000) - 3600; // seconds
const MIN = 60;

/** Stripe: the events the simulator sends, at the provider times they would carry. */
function stripeLifecycle(steps: Array<[name: string, at: number, make: (userId: string, customer: string) => { type: string; object: unknown }]>): Lifecycle {
  return (userId, customer) =>
    steps.map(([name, at, make], i) => {
      const { type, object } = make(userId, customer);
      const id = `evt_${name}_${i}`;
      return { provider: "stripe", name, id, event: stripeEvent(type, object, T0 + at, id) };
    });
}

const sub = (userId: string, customer: string, over: Partial<Parameters<typeof basicStripeSubscription>[2]> = {}) =>
  basicStripeSubscription(userId, customer, { id: "sub_p", periodStart: T0, ...over });

const STRIPE_CANCELED: Lifecycle = stripeLifecycle([
  ["created", 0, (u, c) => ({ type: "customer.subscription.created", object: sub(u, c) })],
  ["checkout", 0, (u, c) => ({ type: "checkout.session.completed", object: stripeCheckoutSession({ id: "cs_p", customer: c, subscription: "sub_p", userId: u, plan: "basic" }) })],
  ["past_due", 30 * MIN, (u, c) => ({ type: "customer.subscription.updated", object: sub(u, c, { status: "past_due" }) })],
  ["recovered", 90 * MIN, (u, c) => ({ type: "customer.subscription.updated", object: sub(u, c, { status: "active" }) })],
  ["deleted", 200 * MIN, (u, c) => ({ type: "customer.subscription.deleted", object: sub(u, c, { status: "canceled", endedAt: T0 + 200 * MIN }) })],
]);

const STRIPE_CANCELS_AT_PERIOD_END: Lifecycle = stripeLifecycle([
  ["created", 0, (u, c) => ({ type: "customer.subscription.created", object: sub(u, c) })],
  ["checkout", 0, (u, c) => ({ type: "checkout.session.completed", object: stripeCheckoutSession({ id: "cs_p", customer: c, subscription: "sub_p", userId: u, plan: "basic" }) })],
  ["upgraded", 10 * MIN, (u, c) => ({ type: "customer.subscription.updated", object: sub(u, c, { price: PRICE.pro }) })],
  ["past_due", 30 * MIN, (u, c) => ({ type: "customer.subscription.updated", object: sub(u, c, { price: PRICE.pro, status: "past_due" }) })],
  // The next period paid: same second as the failure would be a tie; a real renewal comes later.
  ["renewed", 45 * MIN, (u, c) => ({ type: "customer.subscription.updated", object: sub(u, c, { price: PRICE.pro, periodStart: T0 + 30 * 86_400 }) })],
  [
    "cancels",
    60 * MIN,
    (u, c) => ({
      type: "customer.subscription.updated",
      object: sub(u, c, { price: PRICE.pro, periodStart: T0 + 30 * 86_400, cancelAtPeriodEnd: true, cancelAt: T0 + 60 * 86_400 }),
    }),
  ],
]);

const STRIPE_INVOICES: Lifecycle = stripeLifecycle([
  ["first_paid", 0, (_u, c) => ({ type: "invoice.paid", object: stripeInvoice({ id: "in_a", customer: c, subscription: "sub_p", created: T0 }) })],
  ["second_failed", 30 * MIN, (_u, c) => ({ type: "invoice.payment_failed", object: stripeInvoice({ id: "in_b", customer: c, subscription: "sub_p", status: "open", created: T0 + 30 * MIN, hostedUrl: null }) })],
  ["second_failed_again", 60 * MIN, (_u, c) => ({ type: "invoice.payment_failed", object: stripeInvoice({ id: "in_b", customer: c, subscription: "sub_p", status: "open", created: T0 + 30 * MIN, hostedUrl: null }) })],
  ["second_paid", 90 * MIN, (_u, c) => ({ type: "invoice.paid", object: stripeInvoice({ id: "in_b", customer: c, subscription: "sub_p", created: T0 + 30 * MIN }) })],
]);

const POLAR_SUB = "5ab00000-0000-4000-8000-0000000000bb";
const MS = 1000;

const POLAR_REVOKED: Lifecycle = (userId) => {
  const s = (at: number, over: Partial<Parameters<typeof basicPolarSubscription>[1]> = {}) =>
    basicPolarSubscription(userId, { id: POLAR_SUB, periodStart: T0 * MS, modifiedAt: (T0 + at) * MS, ...over });
  const steps: Array<[string, string, unknown]> = [
    ["created", "subscription.created", s(0)],
    ["order_paid", "order.paid", polarOrder({ id: "0rd00000-0000-4000-8000-0000000000b1", subscriptionId: POLAR_SUB, externalId: userId, createdAt: T0 * MS })],
    ["past_due", "subscription.past_due", s(30 * MIN, { status: "past_due" })],
    ["canceled", "subscription.canceled", s(60 * MIN, { status: "past_due", cancelAtPeriodEnd: true, endsAt: (T0 + 30 * 86_400) * MS })],
    ["revoked", "subscription.revoked", s(90 * MIN, { status: "canceled", endedAt: (T0 + 90 * MIN) * MS })],
  ];
  return steps.map(([name, type, data]) => ({ provider: "polar", name, id: `msg_${name}`, event: polarEvent(type, data) }));
};

async function deliver(t: TestConvex, d: Delivery): Promise<void> {
  const res = d.provider === "stripe" ? await postStripe(t, d.event) : await postPolar(t, d.event, { id: d.id });
  expect(res.status).toBe(200);
}

/** The state a lifecycle leaves, without ids, our own clock or scheduler handles. */
async function finalState(t: TestConvex, userId: Id<"users">) {
  const rows = await billingRows(t, userId);
  return {
    account: { state: rows.user.state, plan: rows.user.plan },
    subscriptions: rows.subscriptions.map((s) => ({
      id: s.providerSubscriptionId,
      plan: s.plan,
      status: s.status,
      ended: s.ended,
      cancelAtPeriodEnd: s.cancelAtPeriodEnd,
      cancelAt: s.cancelAt,
      currentPeriodEnd: s.currentPeriodEnd,
      providerUpdatedAt: s.providerUpdatedAt,
      provisional: s.provisional,
      pastDue: s.pastDueSince !== undefined,
    })),
    invoices: rows.invoices
      .map((i) => ({ id: i.providerInvoiceId, status: i.status, amountMicros: i.amountMicros, hostedUrl: i.hostedUrl }))
      .sort((a, b) => a.id.localeCompare(b.id)),
    deprovisionRequests: rows.deprovision.map((d) => d.providerSubscriptionId),
  };
}

async function run(lifecycle: Lifecycle, order: number[] | null) {
  const t = newTest();
  const provider = lifecycle === POLAR_REVOKED ? "polar" : "stripe";
  const { userId, customerId } = await billedCustomer(t, "perm@example.com", provider === "polar" ? null : { provider: "stripe", customerId: "cus_perm" });
  const deliveries = lifecycle(userId, customerId ?? "");
  for (const i of order ?? deliveries.map((_, k) => k)) await deliver(t, deliveries[i]);
  return { t, userId, deliveries };
}

const CASES: Array<[string, Lifecycle, (s: Awaited<ReturnType<typeof finalState>>) => void]> = [
  [
    "Stripe: created, checkout, past_due, recovered, deleted",
    STRIPE_CANCELED,
    (s) => {
      expect(s.account).toEqual({ state: "canceled", plan: "basic" });
      expect(s.deprovisionRequests).toEqual(["sub_p"]);
    },
  ],
  [
    "Stripe: created, checkout, upgraded, past_due, renewed, set to cancel at period end",
    STRIPE_CANCELS_AT_PERIOD_END,
    (s) => {
      expect(s.account).toEqual({ state: "active", plan: "pro" });
      expect(s.subscriptions[0]).toMatchObject({ status: "active", cancelAtPeriodEnd: true, ended: false, pastDue: false });
    },
  ],
  [
    "Stripe invoices: paid, failed, failed again, paid",
    STRIPE_INVOICES,
    (s) => expect(s.invoices.map((i) => [i.id, i.status])).toEqual([["in_a", "paid"], ["in_b", "paid"]]),
  ],
  [
    "Polar: created, order paid, past_due, canceled, revoked",
    POLAR_REVOKED,
    (s) => {
      expect(s.account).toEqual({ state: "canceled", plan: "basic" });
      expect(s.invoices).toHaveLength(1);
    },
  ],
];

describe("every permutation ends where in-order delivery ends", () => {
  for (const [name, lifecycle, check] of CASES) {
    test(name, async () => {
      const inOrder = await run(lifecycle, null);
      const expected = await finalState(inOrder.t, inOrder.userId);
      check(expected);
      const n = inOrder.deliveries.length;
      const orders = permutations([...Array(n).keys()]);
      for (const order of orders) {
        const { t, userId } = await run(lifecycle, order);
        const got = await finalState(t, userId);
        expect({ order: order.map((i) => inOrder.deliveries[i].name), state: got }).toEqual({
          order: order.map((i) => inOrder.deliveries[i].name),
          state: expected,
        });
      }
      // At least once: the whole lifecycle again, in reverse, changes nothing.
      for (const d of [...inOrder.deliveries].reverse()) await deliver(inOrder.t, d);
      expect(await finalState(inOrder.t, inOrder.userId)).toEqual(expected);
    }, 120_000);
  }
});
