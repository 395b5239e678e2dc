// Hosted checkout and portal sessions, for the SPA's actions (checkout.ts, portal.ts) and the Dex
// API (dexApi/billing.ts): one implementation, so both refuse the same cases in the same words.
// Session URLs go back to the caller and nowhere else: never stored, never logged.
import { ConvexError } from "convex/values";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { env, type ActionCtx } from "../_generated/server";
import { fail } from "../lib/errors";
import type { BillingProviderId } from "../model/billing/facts";
import { defaultProviderId, type PaidPlan } from "../providers/billing/config";
import { BillingConfigError, BillingProviderError, billingProvider } from "../providers/billing";

/** Error codes besides lib/errors.ts's: the deployment lacks a setting; the provider refused or is down. */
export type BillingErrorCode = "BILLING_NOT_CONFIGURED" | "BILLING_PROVIDER_ERROR";

function billingFail(code: BillingErrorCode, message: string): never {
  throw new ConvexError({ code, message });
}

/** "basic" or "pro", else INVALID_ARGUMENT saying so. */
export function requirePaidPlan(plan: unknown): PaidPlan {
  if (plan === "basic" || plan === "pro") return plan;
  fail("INVALID_ARGUMENT", `Choose the plan "basic" or "pro" (got ${JSON.stringify(plan) ?? "nothing"}); the trial cannot be bought.`);
}

function appUrl(): string {
  const url = env.APP_URL?.replace(/\/+$/, "");
  if (!url) billingFail("BILLING_NOT_CONFIGURED", "APP_URL is not set on this deployment: checkout has no page to return to.");
  return url;
}

/** Provider and configuration errors as ConvexErrors the SPA and the Dex API show. */
async function withClearErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof BillingConfigError) billingFail("BILLING_NOT_CONFIGURED", e.message);
    // The provider does not know the customer (deleted there, or a checkout never finished).
    if (e instanceof BillingProviderError && e.status === 404) fail("NOT_FOUND", e.message);
    if (e instanceof BillingProviderError) {
      billingFail("BILLING_PROVIDER_ERROR", `${e.message}${e.retryable ? " Try again in a minute." : ""}`);
    }
    throw e;
  }
}

export interface HostedSession {
  url: string;
  provider: BillingProviderId;
}

/**
 * A hosted checkout for `plan`. The account's provider customer is reused (Stripe: created once
 * under an idempotency key and stored before the session is made), so abandoned or concurrent
 * checkouts never make a second customer.
 */
export async function startCheckout(
  ctx: ActionCtx,
  userId: Id<"users">,
  plan: PaidPlan,
  // Where checkout returns to instead of /billing (the /connect consent page returns to its request).
  options: { returnPath?: string } = {},
): Promise<HostedSession> {
  const account = await ctx.runQuery(internal.billing.customers.checkoutContext, { userId });
  if (account.heldBySupport) fail("FORBIDDEN", "Your account is suspended by support; contact support before choosing a plan.");
  if (account.liveSubscription !== null) {
    fail(
      "CONFLICT",
      `You already have a subscription (${account.liveSubscription.status}). Use "Manage billing" to change your plan or payment method.`,
    );
  }
  const providerId = account.billingProvider ?? defaultProviderId();
  const provider = billingProvider(providerId);
  const base = appUrl();
  const path = options.returnPath ?? "/billing";
  const returnTo = `${path}${path.includes("?") ? "&" : "?"}`;
  return await withClearErrors(async () => {
    let customerId = providerId === "stripe" ? account.stripeCustomerId : null;
    if (customerId === null) {
      const created = await provider.ensureCustomer({ userId, email: account.email });
      customerId = await ctx.runMutation(internal.billing.customers.remember, {
        userId,
        provider: providerId,
        ...(created !== null ? { customerId: created } : {}),
      });
    }
    const session = await provider.createCheckout({
      userId,
      email: account.email,
      plan,
      customerId,
      // The return page shows the account's live state (it waits for the webhook), never a guess.
      successUrl: `${base}${returnTo}checkout=success`,
      cancelUrl: `${base}${returnTo}checkout=canceled`,
    });
    return { url: session.url, provider: providerId };
  });
}

/** A portal session (Stripe billing portal, Polar customer session), made on each click. */
export async function openPortal(ctx: ActionCtx, userId: Id<"users">): Promise<HostedSession> {
  const account = await ctx.runQuery(internal.billing.customers.checkoutContext, { userId });
  const providerId = account.billingProvider;
  if (providerId === null || (providerId === "stripe" && account.stripeCustomerId === null)) {
    fail("NOT_FOUND", "You have no billing account yet: choose a plan first.");
  }
  const base = appUrl();
  return await withClearErrors(async () => {
    const portal = await billingProvider(providerId).createPortal({
      userId,
      customerId: providerId === "stripe" ? account.stripeCustomerId : account.polarCustomerId,
      returnUrl: `${base}/billing`,
    });
    return { url: portal.url, provider: providerId };
  });
}
