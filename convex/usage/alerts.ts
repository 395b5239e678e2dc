// In-app alerts: quota thresholds (raised by the usage rollup) and account notices.
import { v } from "convex/values";
import { userMutation, userQuery } from "../functions";
import { fail } from "../lib/errors";
import schema from "../schema";

const alert = schema.tables.alerts.validator.fields;
const MAX_SHOWN = 50;

/** Undismissed alerts, newest first: dismissed ones are not even read, so they hide nothing. */
export const mine = userQuery({
  args: {},
  returns: v.array(
    v.object({ _id: v.id("alerts"), kind: alert.kind, severity: alert.severity, message: alert.message, at: alert.at }),
  ),
  handler: async (ctx) => {
    const open = await ctx.db
      .query("alerts")
      .withIndex("by_userId_and_dismissedAt_and_at", (q) => q.eq("userId", ctx.user._id).eq("dismissedAt", undefined))
      .order("desc")
      .take(MAX_SHOWN);
    return open.map((a) => ({ _id: a._id, kind: a.kind, severity: a.severity, message: a.message, at: a.at }));
  },
});

export const dismiss = userMutation({
  args: { alertId: v.id("alerts") },
  returns: v.null(),
  handler: async (ctx, { alertId }) => {
    const found = await ctx.db.get("alerts", alertId);
    if (found === null || found.userId !== ctx.user._id) fail("NOT_FOUND", "No such alert on your account.");
    if (found.dismissedAt === undefined) await ctx.db.patch("alerts", alertId, { dismissedAt: Date.now() });
    return null;
  },
});
