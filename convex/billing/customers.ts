// What checkout and the portal (actions) read and write about an account's billing: its
// provider customer (one per user and provider, reused across checkouts) and whether it already
// has a live subscription.
import { v } from "convex/values";
import { internalMutation, internalQuery } from "../functions";
import { requireAccount } from "../lib/accounts";
import { billingProviderValidator } from "../schema/validators";
import { governingRow, rememberCustomer, subscriptionsOf } from "./apply";

const nullableString = v.union(v.string(), v.null());

export const checkoutContextValidator = v.object({
  email: v.string(),
  /** Suspended by support (not by an unpaid bill): no checkout until support lifts it. */
  heldBySupport: v.boolean(),
  billingProvider: v.union(billingProviderValidator, v.null()),
  stripeCustomerId: nullableString,
  polarCustomerId: nullableString,
  /** A subscription that is not ended and past its first payment: change it in the portal instead. */
  liveSubscription: v.union(v.null(), v.object({ provider: billingProviderValidator, status: v.string() })),
});

export const checkoutContext = internalQuery({
  args: { userId: v.id("users") },
  returns: checkoutContextValidator,
  handler: async (ctx, { userId }) => {
    const user = await requireAccount(ctx, userId);
    const gov = governingRow(await subscriptionsOf(ctx, userId));
    const live = gov !== null && !gov.ended && gov.status !== "incomplete" && gov.status !== "incomplete_expired";
    return {
      email: user.email,
      heldBySupport: user.state === "suspended" && user.stateBeforeSuspension !== undefined,
      billingProvider: user.billingProvider ?? null,
      stripeCustomerId: user.stripeCustomerId ?? null,
      polarCustomerId: user.polarCustomerId ?? null,
      liveSubscription: live ? { provider: gov.provider, status: gov.status } : null,
    };
  },
});

/**
 * Records the provider an account checks out with and, for Stripe, its customer. Returns the
 * customer the account keeps: the first one stored (two checkouts started together both asked
 * Stripe under the same idempotency key, so both got this same customer anyway).
 */
export const remember = internalMutation({
  args: { userId: v.id("users"), provider: billingProviderValidator, customerId: v.optional(v.string()) },
  returns: nullableString,
  handler: async (ctx, { userId, provider, customerId }) => {
    const user = await requireAccount(ctx, userId);
    if (customerId !== undefined) return await rememberCustomer(ctx, user, provider, customerId);
    if (user.billingProvider === undefined) await ctx.db.patch("users", userId, { billingProvider: provider });
    return (provider === "stripe" ? user.stripeCustomerId : user.polarCustomerId) ?? null;
  },
});
