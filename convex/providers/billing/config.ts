// Billing settings read from the deployment's env, without loading any provider SDK (the
// webhook's mutations read the price book; only actions load stripe-node or the Polar SDK).
import { env } from "../../_generated/server";
import type { BillingProviderId } from "../../model/billing/facts";
import type { OverageMeter } from "../../model/billing/overage";

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

/** The event names the overage meters count, unless STRIPE_/POLAR_METER_EVENT_INPUT|OUTPUT say otherwise. */
export const DEFAULT_OVERAGE_EVENTS: Record<OverageMeter, string> = {
  input: "poindexter_input_tokens",
  output: "poindexter_output_tokens",
};

/** The usage event name of each overage meter on a provider (a Stripe meter's event_name; a Polar meter's filter). */
export function overageEventNames(id: BillingProviderId): Record<OverageMeter, string> {
  const input = id === "polar" ? env.POLAR_METER_EVENT_INPUT : env.STRIPE_METER_EVENT_INPUT;
  const output = id === "polar" ? env.POLAR_METER_EVENT_OUTPUT : env.STRIPE_METER_EVENT_OUTPUT;
  return { input: input?.trim() || DEFAULT_OVERAGE_EVENTS.input, output: output?.trim() || DEFAULT_OVERAGE_EVENTS.output };
}

/**
 * The metered Stripe prices a plan's checkout adds beside its monthly price, so the invoice bills
 * the overage meters at the plan's rates: STRIPE_PRICE_<PLAN>_OVERAGE_INPUT / _OUTPUT. Unset:
 * the subscription has no metered items and Stripe records the usage without billing it
 * (reconciliation still compares the meters).
 */
export function stripeOveragePrices(plan: PaidPlan): string[] {
  const prices = plan === "pro"
    ? [env.STRIPE_PRICE_PRO_OVERAGE_INPUT, env.STRIPE_PRICE_PRO_OVERAGE_OUTPUT]
    : [env.STRIPE_PRICE_BASIC_OVERAGE_INPUT, env.STRIPE_PRICE_BASIC_OVERAGE_OUTPUT];
  return prices.filter((p): p is string => typeof p === "string" && p.trim() !== "").map((p) => p.trim());
}
