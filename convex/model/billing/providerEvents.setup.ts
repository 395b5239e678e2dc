// Tests only: provider events in the shapes Stripe (API 2026, items carry the period) and Polar
// send them, as the provider simulator (dev/simulator/stripe.ts, polar.ts) builds them.
const S = 1000;

let seq = 0;
const next = (prefix: string) => `${prefix}_test${++seq}`;

export interface StripeSubscriptionOptions {
  id: string;
  customer: string;
  status?: string;
  price?: string;
  periodStart?: number; // seconds
  periodEnd?: number; // seconds
  cancelAtPeriodEnd?: boolean;
  cancelAt?: number | null;
  endedAt?: number | null;
  metadata?: Record<string, string>;
}

export function stripeSubscription(o: StripeSubscriptionOptions) {
  const start = o.periodStart ?? 1_790_000_000;
  const end = o.periodEnd ?? start + 30 * 86_400;
  return {
    id: o.id,
    object: "subscription",
    customer: o.customer,
    status: o.status ?? "active",
    cancel_at_period_end: o.cancelAtPeriodEnd ?? false,
    cancel_at: o.cancelAt ?? null,
    canceled_at: null,
    ended_at: o.endedAt ?? null,
    metadata: o.metadata ?? {},
    items: {
      object: "list",
      data: [
        {
          id: `si_${o.id}`,
          object: "subscription_item",
          current_period_start: start,
          current_period_end: end,
          price: { id: o.price ?? "price_basic_test", object: "price", unit_amount: 5000 },
          quantity: 1,
        },
      ],
    },
  };
}

export function stripeEvent(type: string, object: unknown, createdSeconds: number, id = next("evt")) {
  return { id, object: "event", api_version: "2026-10-28.endive", created: createdSeconds, data: { object }, livemode: false, type };
}

export function stripeCheckoutSession(o: {
  id?: string;
  customer: string;
  subscription: string | null;
  paymentStatus?: string;
  userId?: string;
  plan?: string;
  mode?: string;
}) {
  return {
    id: o.id ?? next("cs"),
    object: "checkout.session",
    mode: o.mode ?? "subscription",
    status: "complete",
    payment_status: o.paymentStatus ?? "paid",
    customer: o.customer,
    subscription: o.subscription,
    client_reference_id: o.userId ?? null,
    metadata: { ...(o.userId ? { userId: o.userId } : {}), ...(o.plan ? { plan: o.plan } : {}) },
  };
}

export function stripeInvoice(o: {
  id?: string;
  customer: string;
  subscription: string;
  status?: string;
  amount?: number; // cents
  created?: number; // seconds
  hostedUrl?: string | null;
}) {
  const amount = o.amount ?? 5000;
  const paid = o.status !== "open";
  return {
    id: o.id ?? next("in"),
    object: "invoice",
    customer: o.customer,
    status: o.status ?? "paid",
    currency: "usd",
    amount_due: amount,
    amount_paid: paid ? amount : 0,
    number: "SIM-0001",
    hosted_invoice_url: o.hostedUrl === undefined ? "https://invoice.stripe.test/i/abc" : o.hostedUrl,
    period_start: 1_790_000_000,
    period_end: 1_792_592_000,
    parent: { type: "subscription_details", subscription_details: { subscription: o.subscription, metadata: {} } },
    created: o.created ?? 1_790_000_000,
  };
}

export interface PolarSubscriptionOptions {
  id: string;
  customerId?: string;
  externalId: string | null;
  status?: string;
  productId?: string;
  modifiedAt: number; // ms
  periodStart?: number; // ms
  periodEnd?: number; // ms
  cancelAtPeriodEnd?: boolean;
  endsAt?: number | null;
  endedAt?: number | null;
}

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

export function polarSubscription(o: PolarSubscriptionOptions) {
  const start = o.periodStart ?? 1_790_000_000 * S;
  const customerId = o.customerId ?? "6b0e0000-0000-4000-8000-00000000c001";
  return {
    id: o.id,
    created_at: iso(start),
    modified_at: iso(o.modifiedAt),
    amount: 5000,
    currency: "usd",
    recurring_interval: "month",
    status: o.status ?? "active",
    current_period_start: iso(start),
    current_period_end: iso(o.periodEnd ?? start + 30 * 86_400 * S),
    cancel_at_period_end: o.cancelAtPeriodEnd ?? false,
    canceled_at: null,
    started_at: iso(start),
    ends_at: iso(o.endsAt),
    ended_at: iso(o.endedAt),
    customer_id: customerId,
    product_id: o.productId ?? "0b9f7c2e-1d3a-4c5b-8e6f-7a8b9c0d1e2f",
    metadata: {},
    customer: { id: customerId, external_id: o.externalId, email: "customer@example.com" },
    product: { id: o.productId ?? "0b9f7c2e-1d3a-4c5b-8e6f-7a8b9c0d1e2f", name: "Basic" },
  };
}

export function polarOrder(o: {
  id?: string;
  subscriptionId: string;
  externalId: string | null;
  customerId?: string;
  status?: string;
  amount?: number; // cents
  createdAt: number; // ms
  modifiedAt?: number | null; // ms
}) {
  const customerId = o.customerId ?? "6b0e0000-0000-4000-8000-00000000c001";
  return {
    id: o.id ?? `0rd00000-0000-4000-8000-${String(++seq).padStart(12, "0")}`,
    created_at: iso(o.createdAt),
    modified_at: iso(o.modifiedAt ?? null),
    status: o.status ?? "paid",
    paid: true,
    total_amount: o.amount ?? 5000,
    net_amount: o.amount ?? 5000,
    currency: "usd",
    billing_reason: "subscription_create",
    invoice_number: "SIM-0001",
    customer_id: customerId,
    subscription_id: o.subscriptionId,
    metadata: {},
    customer: { id: customerId, external_id: o.externalId },
    subscription: { id: o.subscriptionId, current_period_start: iso(o.createdAt), current_period_end: iso(o.createdAt + 30 * 86_400 * S) },
  };
}

export function polarEvent(type: string, data: unknown, at = Date.now()) {
  return { type, timestamp: new Date(at).toISOString(), data };
}
