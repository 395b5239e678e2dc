// Polar webhooks (Standard Webhooks, verified by the webhook) as billing facts. A subscription's
// `modified_at` (else `created_at`) is the version of the state it carries; the message id
// (`webhook-id`) is the event id, as Polar keeps it across retries.
//
// Handled: subscription.created / active / updated / canceled / uncanceled / past_due /
// revoked, order.paid, order.refunded. Polar's "canceled" event keeps access to the period's
// end (cancel_at_period_end); "revoked" ends it now.
import { type BillingFact, type InvoiceStatus, type Json, isoMs, isRecord, metadataOf, num, str } from "./facts";

export const POLAR_SUBSCRIPTION_TYPES = [
  "subscription.created",
  "subscription.active",
  "subscription.updated",
  "subscription.canceled",
  "subscription.uncanceled",
  "subscription.past_due",
  "subscription.revoked",
] as const;
export const POLAR_ORDER_TYPES = ["order.paid", "order.refunded"] as const;

/** The event type of a verified body, or null when it is not a Polar event. */
export function polarEventType(body: unknown): string | null {
  return isRecord(body) ? str(body.type) : null;
}

function customerOf(object: Json): { customerId: string | null; userHint: string | null } {
  const customer = isRecord(object.customer) ? object.customer : {};
  return {
    customerId: str(object.customer_id) ?? str(customer.id),
    // Checkout sets external_customer_id to our user id; metadata.userId is the fallback.
    userHint: str(customer.external_id) ?? str(metadataOf(object).userId),
  };
}

function versionOf(object: Json): number | null {
  return isoMs(object.modified_at) ?? isoMs(object.created_at);
}

function subscriptionFact(type: string, s: Json): BillingFact {
  const subscriptionId = str(s.id);
  const status = str(s.status);
  const version = versionOf(s);
  if (subscriptionId === null || status === null || version === null) {
    return { kind: "malformed", reason: `${type} without the subscription's id, status or timestamps` };
  }
  const cancelAtPeriodEnd = s.cancel_at_period_end === true;
  return {
    kind: "subscription",
    subscriptionId,
    ...customerOf(s),
    priceIds: [...new Set([str(s.product_id), isRecord(s.product) ? str(s.product.id) : null].filter((p): p is string => p !== null))],
    planHint: str(metadataOf(s).plan),
    status,
    // Polar's status becomes "canceled" only when access has ended (revoked, or the period of
    // a canceled subscription ran out).
    ended: type === "subscription.revoked" || status === "canceled" || status === "incomplete_expired" || isoMs(s.ended_at) !== null,
    cancelAtPeriodEnd,
    cancelAt: cancelAtPeriodEnd ? isoMs(s.ends_at) : null,
    currentPeriodStart: isoMs(s.current_period_start),
    currentPeriodEnd: isoMs(s.current_period_end),
    version,
  };
}

function orderFact(type: string, order: Json): BillingFact {
  const invoiceId = str(order.id);
  const version = versionOf(order);
  if (invoiceId === null || version === null) return { kind: "malformed", reason: `${type} without the order's id or timestamps` };
  const subscription = isRecord(order.subscription) ? order.subscription : {};
  const refundedStatus: InvoiceStatus = order.status === "partially_refunded" ? "partially_refunded" : "refunded";
  return {
    kind: "invoice",
    invoiceId,
    subscriptionId: str(order.subscription_id),
    ...customerOf(order),
    status: type === "order.refunded" ? refundedStatus : "paid",
    amountCents: num(order.total_amount) ?? num(order.net_amount) ?? 0,
    currency: str(order.currency) ?? "usd",
    periodStart: isoMs(subscription.current_period_start),
    periodEnd: isoMs(subscription.current_period_end),
    // Polar renders invoices on request (POST /v1/orders/{id}/invoice); there is no stored link.
    hostedUrl: null,
    number: str(order.invoice_number),
    createdAt: isoMs(order.created_at) ?? version,
    version,
  };
}

/** A verified Polar event body `{type, timestamp, data}` as a billing fact. */
export function normalizePolarEvent(body: unknown): BillingFact {
  const type = polarEventType(body);
  if (type === null || !isRecord(body)) return { kind: "malformed", reason: "not a Polar event" };
  const handled = (POLAR_SUBSCRIPTION_TYPES as readonly string[]).includes(type) || (POLAR_ORDER_TYPES as readonly string[]).includes(type);
  if (!handled) return { kind: "ignored", reason: "event type not handled" };
  if (!isRecord(body.data)) return { kind: "malformed", reason: `${type} without data` };
  return type.startsWith("subscription.") ? subscriptionFact(type, body.data) : orderFact(type, body.data);
}

