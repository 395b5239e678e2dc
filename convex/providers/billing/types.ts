// What billing needs from a payment provider. One adapter per provider (stripe.ts, polar.ts),
// chosen by BILLING_PROVIDER (index.ts); checkout, the portal and the Dex API speak only this.
// Webhook verification is per provider too (each adapter exports its verifier), since the
// wire formats differ; what a verified event means is decided in model/billing/.
import type { BillingProviderId } from "../../model/billing/facts";
import type { PaidPlan } from "./config";

export type { BillingProviderId, PaidPlan };

export interface CheckoutRequest {
  userId: string;
  email: string;
  plan: PaidPlan;
  /** Stripe: the customer made by ensureCustomer. Polar: unused (external_customer_id is the user). */
  customerId: string | null;
  successUrl: string;
  cancelUrl: string;
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
