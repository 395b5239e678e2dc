// The billing provider of an account (users.billingProvider: a customer stays with the provider
// that bills them) or of the deployment (BILLING_PROVIDER: stripe, the default, or polar).
// Loads both SDKs: import it from actions only; mutations read config.ts.
import { polarBilling } from "./polar";
import { stripeBilling } from "./stripe";
import { defaultProviderId } from "./config";
import type { BillingProvider, BillingProviderId } from "./types";

export * from "./types";

export function billingProvider(id: BillingProviderId = defaultProviderId()): BillingProvider {
  return id === "polar" ? polarBilling : stripeBilling;
}
