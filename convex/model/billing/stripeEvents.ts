// Stripe events (verified by the webhook) as billing facts. The event's `created` (whole
// seconds) is the version of the state it carries. Only what the account needs is read; every
// other type is recorded and acknowledged.
//
// Handled: checkout.session.completed, checkout.session.async_payment_succeeded,
// checkout.session.async_payment_failed, customer.subscription.created / updated / deleted /
// paused / resumed, invoice.paid, invoice.payment_failed.
import {
  type BillingFact,
  type InvoiceStatus,
  type Json,
  idOf,
  isRecord,
  metadataOf,
  num,
  seconds,
  str,
} from "./facts";

export const STRIPE_HANDLED_TYPES = [
  "checkout.session.completed",
  "checkout.session.async_payment_succeeded",
  "checkout.session.async_payment_failed",
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "customer.subscription.paused",
  "customer.subscription.resumed",
  "invoice.paid",
  "invoice.payment_failed",
] as const;

/** The event's id, type and time, or null when the verified body is not a Stripe event. */
export function stripeEventHeader(event: unknown): { id: string; type: string; created: number } | null {
  if (!isRecord(event)) return null;
  const id = str(event.id);
  const type = str(event.type);
  const created = seconds(event.created);
  if (id === null || type === null || created === null) return null;
  return { id, type, created };
}

function items(subscription: Json): Json[] {
  const list = subscription.items;
  return isRecord(list) && Array.isArray(list.data) ? list.data.filter(isRecord) : [];
}

/**
 * The billing period. Since API 2025-03-31 it lives on each subscription item (all items of a
 * subscription share it); older versions put it on the subscription.
 */
function period(subscription: Json): { start: number | null; end: number | null } {
  const item = items(subscription).find((i) => num(i.current_period_end) !== null);
  const from = item ?? subscription;
  return { start: seconds(from.current_period_start), end: seconds(from.current_period_end) };
}

function subscriptionFact(type: string, created: number, s: Json): BillingFact {
  const subscriptionId = str(s.id);
  const status = str(s.status);
  if (subscriptionId === null || status === null) return { kind: "malformed", reason: `${type} without the subscription's id or status` };
  const metadata = metadataOf(s);
  const { start, end } = period(s);
  const ended = type === "customer.subscription.deleted" || status === "canceled" || status === "incomplete_expired" || num(s.ended_at) !== null;
  return {
    kind: "subscription",
    subscriptionId,
    customerId: idOf(s.customer),
    userHint: str(metadata.userId),
    // Every item, not just the first: the plan is whichever price is one of ours (a metered
    // overage price may sit beside it).
    priceIds: items(s).map((i) => idOf(i.price)).filter((p): p is string => p !== null),
    planHint: str(metadata.plan),
    status,
    ended,
    cancelAtPeriodEnd: s.cancel_at_period_end === true,
    cancelAt: seconds(s.cancel_at),
    currentPeriodStart: start,
    currentPeriodEnd: end,
    version: created,
  };
}

function checkoutFact(type: string, created: number, session: Json): BillingFact {
  const checkoutId = str(session.id);
  if (checkoutId === null) return { kind: "malformed", reason: `${type} without the session's id` };
  if (session.mode !== "subscription") return { kind: "ignored", reason: `checkout in ${String(session.mode)} mode` };
  const paymentStatus = str(session.payment_status) ?? "unknown";
  const metadata = metadataOf(session);
  return {
    kind: "checkout",
    checkoutId,
    subscriptionId: idOf(session.subscription),
    customerId: idOf(session.customer),
    userHint: str(session.client_reference_id) ?? str(metadata.userId),
    paymentStatus,
    // Only a paid (or free: a trial) checkout activates; an async method (a bank debit) is
    // settled later by checkout.session.async_payment_succeeded.
    paid: type !== "checkout.session.async_payment_failed" && (paymentStatus === "paid" || paymentStatus === "no_payment_required"),
    planHint: str(metadata.plan),
    version: created,
  };
}

function invoiceFact(type: string, created: number, invoice: Json): BillingFact {
  const invoiceId = str(invoice.id);
  if (invoiceId === null) return { kind: "malformed", reason: `${type} without the invoice's id` };
  const parent = isRecord(invoice.parent) ? invoice.parent : {};
  const details = isRecord(parent.subscription_details) ? parent.subscription_details : {};
  const paid = type === "invoice.paid";
  const status: InvoiceStatus = paid ? "paid" : "payment_failed";
  return {
    kind: "invoice",
    invoiceId,
    // Since API 2025-03-31 the subscription is under parent.subscription_details.
    subscriptionId: idOf(details.subscription) ?? idOf(invoice.subscription),
    customerId: idOf(invoice.customer),
    userHint: str(metadataOf(details).userId),
    status,
    amountCents: (paid ? num(invoice.amount_paid) : num(invoice.amount_due)) ?? num(invoice.total) ?? 0,
    currency: str(invoice.currency) ?? "usd",
    periodStart: seconds(invoice.period_start),
    periodEnd: seconds(invoice.period_end),
    hostedUrl: str(invoice.hosted_invoice_url),
    number: str(invoice.number),
    createdAt: seconds(invoice.created) ?? created,
    version: created,
  };
}

/** A verified Stripe event as a billing fact. */
export function normalizeStripeEvent(event: unknown): BillingFact {
  const header = stripeEventHeader(event);
  if (header === null || !isRecord(event)) return { kind: "malformed", reason: "not a Stripe event" };
  const { type, created } = header;
  const data = isRecord(event.data) && isRecord(event.data.object) ? event.data.object : null;
  if (!(STRIPE_HANDLED_TYPES as readonly string[]).includes(type)) return { kind: "ignored", reason: "event type not handled" };
  if (data === null) return { kind: "malformed", reason: `${type} without data.object` };
  if (type.startsWith("customer.subscription.")) return subscriptionFact(type, created, data);
  if (type.startsWith("checkout.session.")) return checkoutFact(type, created, data);
  return invoiceFact(type, created, data);
}

/** A subscription fetched from the API (a re-fetch after a tie) as a fact, versioned at fetch time. */
export function stripeSubscriptionFact(subscription: unknown, fetchedAt: number): BillingFact {
  if (!isRecord(subscription)) return { kind: "malformed", reason: "not a subscription" };
  return subscriptionFact("subscription.retrieve", fetchedAt, subscription);
}
