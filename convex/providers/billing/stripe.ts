// Stripe adapter (stripe-node): customers, Checkout Sessions in subscription mode, Billing
// Portal sessions, subscription re-fetch, overage meter events and their summaries, and webhook
// verification. STRIPE_BASE_URL points the
// SDK elsewhere (the provider simulator in development and tests) through its host/port/protocol
// options and the fetch HTTP client, which Convex's runtime has.
import Stripe from "stripe";
import { env } from "../../_generated/server";
import { type PaidPlan, stripeOveragePrices, stripePriceBook } from "./config";
import {
  type BillingProvider,
  BillingConfigError,
  BillingProviderError,
  type CheckoutRequest,
  type MeterQuantities,
  type OverageMeter,
  type RefundRequest,
  type RefundResult,
  type ReportedUsageQuery,
  type UsageReport,
} from "./types";

/** Stripe signs webhooks with a 5-minute tolerance; we hold the future to the same bound. */
export const STRIPE_WEBHOOK_TOLERANCE_S = 300;

function client(): Stripe {
  const key = env.STRIPE_SECRET_KEY;
  if (!key) throw new BillingConfigError("STRIPE_SECRET_KEY is not set on this deployment: Stripe checkout is unavailable.");
  const options: Stripe.StripeConfig = {
    httpClient: Stripe.createFetchHttpClient(),
    // A click waits for this: two quick retries (stripe-node sends its own Idempotency-Key on
    // retried POSTs), then an error the page shows.
    maxNetworkRetries: 2,
    timeout: 15_000,
  };
  const base = env.STRIPE_BASE_URL;
  if (base) {
    const url = new URL(base);
    options.host = url.hostname;
    options.protocol = url.protocol === "http:" ? "http" : "https";
    if (url.port) options.port = Number(url.port);
  }
  return new Stripe(key, options);
}

function priceOf(plan: PaidPlan): string {
  const price = stripePriceBook()[plan];
  if (!price) throw new BillingConfigError(`STRIPE_PRICE_${plan.toUpperCase()} is not set on this deployment: the ${plan} plan cannot be bought yet.`);
  return price;
}

/** Stripe's error in our terms; the message never carries the key or a URL. */
function providerError(e: unknown, what: string): BillingProviderError {
  if (e instanceof Stripe.errors.StripeError) {
    const status = e.statusCode ?? null;
    const retryable = status === null || status === 429 || status >= 500 || e.type === "StripeConnectionError";
    return new BillingProviderError(`Stripe could not ${what}: ${e.message}`, status, retryable);
  }
  return new BillingProviderError(`Stripe could not ${what}: ${(e as Error).message}`, null, true);
}

/**
 * Stripe refuses a meter event whose identifier it has seen (within at least 24 hours) with a
 * 400 naming `identifier`: the event already counted, so for us it is a success.
 */
function isDuplicateIdentifier(e: unknown): boolean {
  if (!(e instanceof Stripe.errors.StripeInvalidRequestError)) return false;
  return e.code === "resource_already_exists" || (e.param === "identifier" && /already exists/i.test(e.message));
}

/** The active meter of each overage event name (null: no meter counts that event). */
async function metersFor(stripe: Stripe, eventNames: Record<OverageMeter, string>): Promise<Record<OverageMeter, string | null>> {
  const found: Record<OverageMeter, string | null> = { input: null, output: null };
  for await (const meter of stripe.billing.meters.list({ status: "active", limit: 100 })) {
    for (const m of ["input", "output"] as const) if (meter.event_name === eventNames[m]) found[m] = meter.id;
  }
  return found;
}

/** The idempotency key of a user's one customer: the same user always gets the same customer. */
export function customerIdempotencyKey(userId: string): string {
  return `poindexter-customer-${userId}`;
}

export const stripeBilling: BillingProvider = {
  id: "stripe",

  async ensureCustomer({ userId, email }) {
    const stripe = client();
    try {
      const customer = await stripe.customers.create(
        { email, metadata: { userId } },
        { idempotencyKey: customerIdempotencyKey(userId) },
      );
      return customer.id;
    } catch (e) {
      throw providerError(e, "create the customer");
    }
  },

  async createCheckout(request: CheckoutRequest) {
    const price = priceOf(request.plan);
    if (request.customerId === null) throw new BillingProviderError("Stripe checkout needs the customer first.", null, false);
    const stripe = client();
    try {
      // No payment_method_types: the methods enabled in the Dashboard (cards, Link, wallets,
      // PayPal...) all apply.
      const session = await stripe.checkout.sessions.create({
        mode: "subscription",
        customer: request.customerId,
        client_reference_id: request.userId,
        // The plan's metered overage prices (no quantity: the meters supply it), when configured.
        line_items: [{ price, quantity: 1 }, ...stripeOveragePrices(request.plan).map((metered) => ({ price: metered }))],
        success_url: request.successUrl,
        cancel_url: request.cancelUrl,
        metadata: { userId: request.userId, plan: request.plan },
        subscription_data: { metadata: { userId: request.userId, plan: request.plan } },
      });
      if (!session.url) throw new BillingProviderError("Stripe returned a checkout session without a URL.", null, true);
      return { id: session.id, url: session.url };
    } catch (e) {
      if (e instanceof BillingProviderError) throw e;
      throw providerError(e, "start the checkout");
    }
  },

  async createPortal({ customerId, returnUrl }) {
    if (customerId === null) throw new BillingProviderError("There is no Stripe customer for this account yet.", null, false);
    const stripe = client();
    try {
      const session = await stripe.billingPortal.sessions.create({ customer: customerId, return_url: returnUrl });
      return { url: session.url };
    } catch (e) {
      throw providerError(e, "open the billing portal");
    }
  },

  async reportUsage(report: UsageReport) {
    if (report.customerId === null) throw new BillingProviderError("There is no Stripe customer to bill this usage to.", null, false);
    const stripe = client();
    try {
      await stripe.billing.meterEvents.create({
        event_name: report.eventName,
        payload: { stripe_customer_id: report.customerId, value: String(report.quantity) },
        identifier: report.identifier,
        timestamp: report.timestampS,
      });
      return { duplicate: false };
    } catch (e) {
      if (isDuplicateIdentifier(e)) return { duplicate: true };
      throw providerError(e, "record the usage");
    }
  },

  async reportedUsage(query: ReportedUsageQuery): Promise<MeterQuantities> {
    if (query.customerId === null) throw new BillingProviderError("There is no Stripe customer to read usage for.", null, false);
    const stripe = client();
    try {
      const meters = await metersFor(stripe, query.eventNames);
      const totals: MeterQuantities = { input: 0, output: 0 };
      for (const m of ["input", "output"] as const) {
        // No meter for the event name: Stripe counted none of those events, which is the truth
        // to compare with.
        const meterId = meters[m];
        if (meterId === null) continue;
        const summaries = stripe.billing.meters.listEventSummaries(meterId, {
          customer: query.customerId,
          start_time: query.startS,
          end_time: query.endS,
        });
        for await (const summary of summaries) totals[m] += summary.aggregated_value;
      }
      return totals;
    } catch (e) {
      throw providerError(e, "read the meter summaries");
    }
  },

  // Since API version 2025-03-31 an invoice names its payments only in `payments` (expandable);
  // the refund goes to the paid payment's PaymentIntent (or its charge for older payments).
  async refundInvoice(request: RefundRequest): Promise<RefundResult> {
    const stripe = client();
    let target: { payment_intent: string } | { charge: string };
    try {
      const invoice = await stripe.invoices.retrieve(request.providerInvoiceId, { expand: ["payments"] });
      const paid = invoice.payments?.data.find((p) => p.status === "paid");
      const intent = paid?.payment.payment_intent;
      const charge = paid?.payment.charge;
      if (intent) target = { payment_intent: typeof intent === "string" ? intent : intent.id };
      else if (charge) target = { charge: typeof charge === "string" ? charge : charge.id };
      else throw new BillingProviderError(`Stripe invoice ${request.providerInvoiceId} has no paid payment to refund.`, null, false);
    } catch (e) {
      if (e instanceof BillingProviderError) throw e;
      throw providerError(e, "read the invoice to refund");
    }
    try {
      const refund = await stripe.refunds.create(
        {
          ...target,
          amount: request.amountCents,
          reason: "requested_by_customer",
          metadata: { invoice: request.providerInvoiceId, userId: request.userId },
        },
        { idempotencyKey: refundIdempotencyKey(request.idempotencyKey) },
      );
      return { refundId: refund.id, status: refund.status ?? "pending", amountCents: refund.amount };
    } catch (e) {
      // A 4xx other than 429 (over the unrefunded amount, already refunded) is not retryable.
      throw providerError(e, "refund the invoice");
    }
  },
};

/** Stripe's Idempotency-Key of one console refund (the same on every retry of it). */
export function refundIdempotencyKey(key: string): string {
  return `poindexter-refund-${key}`;
}

/** The subscription as Stripe has it now (a re-fetch, run by the providerPool workpool). */
export async function retrieveStripeSubscription(subscriptionId: string): Promise<unknown> {
  try {
    return await client().subscriptions.retrieve(subscriptionId);
  } catch (e) {
    throw providerError(e, "fetch the subscription");
  }
}

function signedAt(header: string): number | null {
  const t = header.split(",").find((part) => part.trim().startsWith("t="));
  const n = t === undefined ? NaN : Number(t.trim().slice(2));
  return Number.isInteger(n) ? n : null;
}

/**
 * Verifies `Stripe-Signature` over the raw body (HMAC-SHA256 under the whsec_ secret, through
 * SubtleCrypto) and returns the event. Throws with the reason: a bad signature, or a timestamp
 * more than 5 minutes old; stripe-node accepts any future timestamp, so that side is checked here.
 */
export async function verifyStripeWebhook(body: string, signature: string, secret: string, nowMs = Date.now()): Promise<unknown> {
  const event = await Stripe.webhooks.constructEventAsync(
    body,
    signature,
    secret,
    STRIPE_WEBHOOK_TOLERANCE_S,
    Stripe.createSubtleCryptoProvider(),
  );
  const t = signedAt(signature);
  if (t !== null && t * 1000 > nowMs + STRIPE_WEBHOOK_TOLERANCE_S * 1000) {
    throw new Error("Timestamp outside the tolerance zone (in the future)");
  }
  return event;
}
