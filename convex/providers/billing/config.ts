// Billing settings read from the deployment's env, without loading any provider SDK (the
// webhook's mutations read the price book; only actions load stripe-node or the Polar SDK).
import { env } from "../../_generated/server";
import type { BillingProviderId } from "../../model/billing/facts";

export type PaidPlan = "basic" | "pro";

/** BILLING_PROVIDER: stripe (the default) or polar. */
export function defaultProviderId(): BillingProviderId {
  return env.BILLING_PROVIDER?.trim().toLowerCase() === "polar" ? "polar" : "stripe";
}

/** The Stripe price of each plan: STRIPE_PRICE_BASIC / STRIPE_PRICE_PRO. */
export function stripePriceBook(): Partial<Record<PaidPlan, string>> {
  return {
    ...(env.STRIPE_PRICE_BASIC ? { basic: env.STRIPE_PRICE_BASIC } : {}),
    ...(env.STRIPE_PRICE_PRO ? { pro: env.STRIPE_PRICE_PRO } : {}),
  };
}

/** The Polar product of each plan: POLAR_PRODUCT_BASIC / POLAR_PRODUCT_PRO. */
export function polarProductBook(): Partial<Record<PaidPlan, string>> {
  return {
    ...(env.POLAR_PRODUCT_BASIC ? { basic: env.POLAR_PRODUCT_BASIC } : {}),
    ...(env.POLAR_PRODUCT_PRO ? { pro: env.POLAR_PRODUCT_PRO } : {}),
  };
}

/** Price (Stripe) or product (Polar) ids of each paid plan, as configured. */
export function priceBook(id: BillingProviderId): Partial<Record<PaidPlan, string>> {
  return id === "polar" ? polarProductBook() : stripePriceBook();
}
