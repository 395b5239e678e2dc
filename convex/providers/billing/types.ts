// What billing needs from a payment provider. One adapter per provider (stripe.ts, polar.ts),
// chosen by BILLING_PROVIDER (index.ts); checkout, the portal and the Dex API speak only this.
// Webhook verification is per provider too (each adapter exports its verifier), since the
// wire formats differ; what a verified event means is decided in model/billing/.
import type { BillingProviderId } from "../../model/billing/facts";
import type { MeterQuantities, OverageMeter } from "../../model/billing/overage";
import type { PaidPlan } from "./config";

export type { BillingProviderId, MeterQuantities, OverageMeter, PaidPlan };

export interface CheckoutRequest {
  userId: string;
  email: string;
  plan: PaidPlan;
  /** Stripe: the customer made by ensureCustomer. Polar: unused (external_customer_id is the user). */
  customerId: string | null;
  successUrl: string;
  cancelUrl: string;
}

/** One chunk of overage as a provider usage event (Stripe meter event, Polar ingested event). */
export interface UsageReport {
  /** The dedupe key (Stripe `identifier`, Polar `external_id`): the same on every attempt. */
  identifier: string;
  eventName: string;
  /** Stripe: the customer the meter event bills. Polar: unused (the user id is the customer). */
  customerId: string | null;
  userId: string;
  /** Whole tokens (sent as a whole-number string to Stripe). */
  quantity: number;
  /** Unix seconds, inside the provider's window (model/billing/overage.ts `meterTimestampS`). */
  timestampS: number;
  month: string;
  meter: OverageMeter;
}

export interface ReportedUsageQuery {
  customerId: string | null;
  userId: string;
  eventNames: Record<OverageMeter, string>;
  /** [startS, endS) in Unix seconds, minute-aligned (a month's bounds are). */
  startS: number;
  endS: number;
}

/** A refund of (part of) one paid invoice, as support asked for it in the console. */
export interface RefundRequest {
  /** Stripe invoice id, Polar order id. */
  providerInvoiceId: string;
  /** Smallest currency unit, as both providers take it; at most what is left to refund. */
  amountCents: number;
  /**
   * Ours, fixed when support submitted the refund: Stripe's Idempotency-Key; for Polar (no
   * idempotency header) a metadata field the adapter looks for before creating another.
   */
  idempotencyKey: string;
  userId: string;
}

export interface RefundResult {
  refundId: string;
  /** The provider's own status: Stripe `succeeded`/`pending`/..., Polar `succeeded`/`pending`/... */
  status: string;
  amountCents: number;
}

export interface BillingProvider {
  readonly id: BillingProviderId;
  /**
   * The provider customer for a user, created once: Stripe under an idempotency key derived
   * from the user id, so two checkouts started together (or an abandoned one retried) get the
   * same customer. Null for Polar, whose checkout creates the customer from external_customer_id.
   */
  ensureCustomer(user: { userId: string; email: string }): Promise<string | null>;
  /** A hosted checkout for one paid plan; the URL is handed to the browser, never stored. */
  createCheckout(request: CheckoutRequest): Promise<{ id: string; url: string }>;
  /** A portal session for the customer, made on click; its URL is never stored or logged. */
  createPortal(request: { userId: string; customerId: string | null; returnUrl: string }): Promise<{ url: string }>;
  /**
   * Sends one usage event. `duplicate` when the provider already had the identifier: the event
   * counted once, on an earlier attempt whose answer was lost. Throws BillingProviderError
   * (retryable or not) when the provider refused or could not be reached.
   */
  reportUsage(report: UsageReport): Promise<{ duplicate: boolean }>;
  /**
   * The provider's own totals of the overage meters for one customer over a period, for
   * reconciliation; null when the provider's API offers no such summary.
   */
  reportedUsage(query: ReportedUsageQuery): Promise<MeterQuantities | null>;
  /**
   * Refunds part or all of a paid invoice through the provider, once per idempotency key: a
   * repeated call with the same key returns the first refund instead of making another.
   * Throws BillingProviderError (not retryable) when the provider refuses, e.g. more than the
   * unrefunded amount.
   */
  refundInvoice(request: RefundRequest): Promise<RefundResult>;
}

/** The provider refused or could not be reached; the message is safe to show (no secrets, no URLs). */
export class BillingProviderError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    /** The provider's answer says retrying can help (5xx, 429, network). */
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = "BillingProviderError";
  }
}

/** A deployment setting is missing (a key, a price id): the message names it. */
export class BillingConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BillingConfigError";
  }
}
