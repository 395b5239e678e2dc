// cancel_subscription: each subscription the account still has is ended at its billing provider
// now (not at the period's end: the person asked for their data to go). The provider's own
// webhook then ends our row (billing/webhooks.ts), which await_providers waits for. Idempotent:
// a subscription the provider already ended is left as it is.
import Stripe from "stripe";
import { Polar } from "@polar-sh/sdk";
import { AlreadyCanceledSubscription } from "@polar-sh/sdk/models/errors/alreadycanceledsubscription.js";
import { v } from "convex/values";
import { internal } from "../_generated/api";
import { env } from "../_generated/server";
import { internalAction } from "../functions";

/** Stripe's client, pointed at STRIPE_BASE_URL when set (the simulator), as billing's adapter does. */
function stripeClient(): Stripe {
  const key = env.STRIPE_SECRET_KEY;
  if (!key) throw new Error("STRIPE_SECRET_KEY is not set on this deployment: the Stripe subscription cannot be canceled.");
  const options: Stripe.StripeConfig = { httpClient: Stripe.createFetchHttpClient(), maxNetworkRetries: 2, timeout: 15_000 };
  if (env.STRIPE_BASE_URL) {
    const url = new URL(env.STRIPE_BASE_URL);
    options.host = url.hostname;
    options.protocol = url.protocol === "http:" ? "http" : "https";
    if (url.port) options.port = Number(url.port);
  }
  return new Stripe(key, options);
}

function polarClient(): Polar {
  const accessToken = env.POLAR_ACCESS_TOKEN;
  if (!accessToken) throw new Error("POLAR_ACCESS_TOKEN is not set on this deployment: the Polar subscription cannot be revoked.");
  const server = env.POLAR_SERVER === "production" ? "production" : "sandbox";
  return new Polar({ accessToken, ...(env.POLAR_BASE_URL ? { serverURL: env.POLAR_BASE_URL.replace(/\/+$/, "") } : { server }), timeoutMs: 15_000 });
}

/** Ends one Stripe subscription now; "already ended" when Stripe has it canceled. */
export async function cancelStripe(subscriptionId: string): Promise<"canceled" | "already_ended"> {
  const stripe = stripeClient();
  const current = await stripe.subscriptions.retrieve(subscriptionId);
  if (current.status === "canceled" || current.status === "incomplete_expired") return "already_ended";
  await stripe.subscriptions.cancel(subscriptionId);
  return "canceled";
}

/** Revokes one Polar subscription (access ends now); "already ended" when Polar says so. */
export async function revokePolar(subscriptionId: string): Promise<"canceled" | "already_ended"> {
  try {
    await polarClient().subscriptions.revoke({ id: subscriptionId });
    return "canceled";
  } catch (e) {
    // 403 AlreadyCanceledSubscription: Polar's answer for a subscription already revoked.
    if (e instanceof AlreadyCanceledSubscription) return "already_ended";
    throw e;
  }
}

export const cancelSubscriptions = internalAction({
  args: { requestId: v.id("deletionRequests") },
  returns: v.null(),
  handler: async (ctx, { requestId }) => {
    const subscriptions = await ctx.runQuery(internal.privacy.process.liveSubscriptions, { requestId });
    try {
      const outcomes: string[] = [];
      for (const s of subscriptions) {
        const result = s.provider === "stripe" ? await cancelStripe(s.providerSubscriptionId) : await revokePolar(s.providerSubscriptionId);
        outcomes.push(`${s.provider} ${s.providerSubscriptionId} ${result === "canceled" ? "canceled" : "already ended"}`);
      }
      const note = outcomes.length === 0 ? "no live subscription" : outcomes.join("; ");
      await ctx.runMutation(internal.privacy.process.recordCancel, { requestId, result: { ok: true, note } });
    } catch (e) {
      // The message names the provider's refusal; never a key or URL (the SDKs' messages carry none).
      await ctx.runMutation(internal.privacy.process.recordCancel, { requestId, result: { ok: false, error: (e as Error).message } });
    }
    return null;
  },
});
