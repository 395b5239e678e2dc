// What a billing provider's webhook says, in our terms: each provider's event is normalised
// (stripeEvents.ts, polarEvents.ts) into one of these facts, which convex/billing/ applies.
// A fact carries the provider's own time of the state it describes (`version`, epoch ms), so
// applying facts in any order ends in the same rows (ordering.ts).

export type BillingProviderId = "stripe" | "polar";

/** Who a fact is about: the provider's customer and what we put on the object (our user id). */
export interface Party {
  customerId: string | null;
  /** Our user id as we sent it to the provider (metadata.userId, client_reference_id, external_customer_id). */
  userHint: string | null;
}

/** A subscription as the provider describes it at `version`. */
export interface SubscriptionSnapshot {
  subscriptionId: string;
  /** The provider's status, verbatim (Stripe: incomplete, trialing, active, past_due, unpaid, paused, canceled, ...). */
  status: string;
  /** Deleted (Stripe) or revoked / canceled (Polar): access is over and nothing brings it back. */
  ended: boolean;
  cancelAtPeriodEnd: boolean;
  /** When a scheduled cancellation takes effect (Stripe cancel_at, Polar ends_at). */
  cancelAt: number | null;
  currentPeriodStart: number | null;
  currentPeriodEnd: number | null;
  /** The provider's time of this state (Stripe event.created, Polar modified_at), epoch ms. */
  version: number;
}

export type SubscriptionFact = { kind: "subscription" } & SubscriptionSnapshot &
  Party & {
    /** Every price (Stripe) or product (Polar) on the subscription; the plan is found among them. */
    priceIds: string[];
    /** metadata.plan as checkout set it: used only when no price is known. */
    planHint: string | null;
  };

export type CheckoutFact = { kind: "checkout" } & Party & {
    checkoutId: string;
    subscriptionId: string | null;
    paymentStatus: string;
    /** payment_status is paid or no_payment_required: only then does a checkout activate. */
    paid: boolean;
    planHint: string | null;
    version: number;
  };

export type InvoiceStatus = "open" | "payment_failed" | "uncollectible" | "paid" | "partially_refunded" | "refunded" | "void";

export type InvoiceFact = { kind: "invoice" } & Party & {
    invoiceId: string;
    subscriptionId: string | null;
    status: InvoiceStatus;
    amountCents: number;
    currency: string;
    periodStart: number | null;
    periodEnd: number | null;
    /** The provider's hosted invoice page, when it has one (Stripe hosted_invoice_url). */
    hostedUrl: string | null;
    number: string | null;
    createdAt: number;
    version: number;
  };

export type BillingFact =
  | SubscriptionFact
  | CheckoutFact
  | InvoiceFact
  /** A verified event we have no use for (recorded and acknowledged). */
  | { kind: "ignored"; reason: string }
  /** A verified event of a handled type whose object lacks what we need (a retry cannot fix it). */
  | { kind: "malformed"; reason: string };

// ---- small parsing helpers shared by the two normalisers ----

export type Json = Record<string, unknown>;

export function isRecord(x: unknown): x is Json {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

export function str(x: unknown): string | null {
  return typeof x === "string" && x !== "" ? x : null;
}

export function num(x: unknown): number | null {
  return typeof x === "number" && Number.isFinite(x) ? x : null;
}

/** Unix seconds -> epoch ms. */
export function seconds(x: unknown): number | null {
  const n = num(x);
  return n === null ? null : n * 1000;
}

/** ISO 8601 -> epoch ms. */
export function isoMs(x: unknown): number | null {
  const s = str(x);
  if (s === null) return null;
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? null : ms;
}

/** A Stripe reference is an id or, when expanded, the object with its id. */
export function idOf(x: unknown): string | null {
  return str(x) ?? (isRecord(x) ? str(x.id) : null);
}

export function metadataOf(x: unknown): Json {
  return isRecord(x) && isRecord(x.metadata) ? x.metadata : {};
}
