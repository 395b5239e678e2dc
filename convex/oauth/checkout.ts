// "Choose a plan" on /connect: a hosted checkout that comes back to the same connect request.
// Its own module, so the consent page's queries and mutations do not load the billing SDKs.
import { v } from "convex/values";
import { internal } from "../_generated/api";
import { requirePaidPlan, startCheckout } from "../billing/sessions";
import { internalMutation, internalQuery, userAction } from "../functions";
import { fail } from "../lib/errors";
import { PENDING_CONNECT_TTL_MS, requestFingerprint } from "../model/oauth/consent";
import { billingProviderValidator } from "../schema/validators";
import { authorizationParams, check } from "./consent";
import { sweepPendingConnects } from "./store";

/** The request as checked for the checkout action (actions cannot read the db). */
export const checkForCheckout = internalQuery({
  args: { userId: v.id("users"), params: authorizationParams },
  returns: v.union(v.object({ ok: v.literal(true), fingerprint: v.string(), newCustomer: v.boolean() }), v.object({ ok: v.literal(false), description: v.string() })),
  handler: async (ctx, { userId, params }) => {
    const user = await ctx.db.get("users", userId);
    if (user === null) return { ok: false as const, description: "The account no longer exists." };
    const result = await check(ctx, user, params);
    if (!result.ok) return { ok: false as const, description: result.description };
    // A new customer: never had a subscription. Only they skip the second consent on return.
    const anySubscription = await ctx.db.query("subscriptions").withIndex("by_userId", (q) => q.eq("userId", userId)).first();
    return { ok: true as const, fingerprint: await requestFingerprint(result.request), newCustomer: anySubscription === null };
  },
});

export const rememberPendingConnect = internalMutation({
  args: { userId: v.id("users"), requestHash: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, requestHash }) => {
    const now = Date.now();
    const existing = await ctx.db
      .query("oauthPendingConnects")
      .withIndex("by_userId_and_requestHash", (q) => q.eq("userId", userId).eq("requestHash", requestHash))
      .first();
    if (existing === null) await ctx.db.insert("oauthPendingConnects", { userId, requestHash, createdAt: now });
    else await ctx.db.patch("oauthPendingConnects", existing._id, { createdAt: now });
    await sweepPendingConnects(ctx, now, PENDING_CONNECT_TTL_MS);
    return null;
  },
});

/**
 * "Choose a plan" on /connect: a hosted checkout that returns to this same /connect request. A
 * new customer's request is remembered, so it is approved on return without a second click
 * (the signup + connect flow); anyone else confirms on return.
 */
export const start = userAction({
  args: { plan: v.string(), params: authorizationParams },
  returns: v.object({ url: v.string(), provider: billingProviderValidator }),
  handler: async (ctx, { plan, params }) => {
    const paid = requirePaidPlan(plan);
    const checked = await ctx.runQuery(internal.oauth.checkout.checkForCheckout, { userId: ctx.user._id, params });
    if (!checked.ok) fail("INVALID_ARGUMENT", checked.description);
    if (checked.newCustomer) {
      await ctx.runMutation(internal.oauth.checkout.rememberPendingConnect, { userId: ctx.user._id, requestHash: checked.fingerprint });
    }
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) if (typeof value === "string") query.set(key, value);
    return await startCheckout(ctx, ctx.user._id, paid, { returnPath: `/connect?${query.toString()}` });
  },
});
