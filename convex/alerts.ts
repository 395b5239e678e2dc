// In-app alerts: quota thresholds (raised by the usage rollup) and account notices.
import { v } from "convex/values";
import { fail, userMutation, userQuery } from "./functions";

export const mine = userQuery({
  args: {},
  returns: v.array(
    v.object({
      _id: v.id("alerts"),
      kind: v.string(),
      severity: v.union(v.literal("info"), v.literal("warning"), v.literal("critical")),
      message: v.string(),
      at: v.number(),
    }),
  ),
  handler: async (ctx) => {
    const recent = await ctx.db
      .query("alerts")
      .withIndex("by_userId_and_at", (q) => q.eq("userId", ctx.user._id))
      .order("desc")
      .take(200);
    return recent
      .filter((a) => a.dismissedAt === undefined)
      .slice(0, 50)
      .map((a) => ({ _id: a._id, kind: a.kind, severity: a.severity, message: a.message, at: a.at }));
  },
});

export const dismiss = userMutation({
  args: { alertId: v.id("alerts") },
  returns: v.null(),
  handler: async (ctx, { alertId }) => {
    const alert = await ctx.db.get(alertId);
    if (alert === null || alert.userId !== ctx.user._id) fail("NOT_FOUND", "No such alert on your account.");
    if (alert.dismissedAt === undefined) await ctx.db.patch(alertId, { dismissedAt: Date.now() });
    return null;
  },
});
