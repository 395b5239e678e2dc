// The dashboard's first-visit wizard: your key, paste it into Dex, make a first request, choose
// a plan. Progress is derived from what the account has done (keys, usage), so it turns green
// live when the first usage event lands; only the dismissal is stored.
import { v } from "convex/values";
import { userMutation, userQuery } from "../functions";
import { keyStatus } from "../model/apiKeyStatus";

export const progress = userQuery({
  args: {},
  returns: v.object({
    hasLiveKey: v.boolean(),
    firstRequestAt: v.union(v.number(), v.null()),
    onPaidPlan: v.boolean(),
    dismissedAt: v.union(v.number(), v.null()),
  }),
  handler: async (ctx) => {
    const userId = ctx.user._id;
    const [first, unrevoked] = await Promise.all([
      ctx.db.query("usageEvents").withIndex("by_userId_and_at", (q) => q.eq("userId", userId)).first(),
      ctx.db
        .query("apiKeys")
        .withIndex("by_userId_and_revokedAt", (q) => q.eq("userId", userId).eq("revokedAt", undefined))
        .take(20),
    ]);
    const now = Date.now();
    return {
      hasLiveKey: unrevoked.some((k) => keyStatus(k, now) !== "revoked"),
      firstRequestAt: first?.at ?? null,
      onPaidPlan: ctx.user.plan !== "trial",
      dismissedAt: ctx.user.onboardingDismissedAt ?? null,
    };
  },
});

/** Hides the wizard (finished or skipped); it stays reachable from the dashboard. */
export const dismiss = userMutation({
  args: { dismissed: v.boolean() },
  returns: v.null(),
  handler: async (ctx, { dismissed }) => {
    await ctx.db.patch("users", ctx.user._id, { onboardingDismissedAt: dismissed ? Date.now() : undefined });
    return null;
  },
});
