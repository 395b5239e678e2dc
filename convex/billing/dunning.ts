// The grace period of a failed payment: scheduled when the account enters past_due
// (apply.ts `ensureGrace`, BILLING_GRACE_DAYS from the provider time of the failure), canceled
// when the subscription leaves past_due. If it still runs, it checks again and suspends only an
// account whose subscription is still past_due.
import { v } from "convex/values";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { internalMutation } from "../functions";
import { applyStateEvent } from "../lib/accounts";
import { alertAccount, BILLING_ACTOR } from "./apply";

async function graceExpiredHandler(ctx: MutationCtx, { subscriptionId }: { subscriptionId: Id<"subscriptions"> }): Promise<string> {
  const row = await ctx.db.get("subscriptions", subscriptionId);
  if (row === null) return "subscription gone";
  await ctx.db.patch("subscriptions", row._id, { graceJobId: undefined });
  if (row.ended || row.status !== "past_due") return "recovered";
  if (row.graceEndsAt !== undefined && row.graceEndsAt > Date.now()) {
    // Ran early (never expected): come back when the grace period really ends.
    const graceJobId = await ctx.scheduler.runAt(row.graceEndsAt, internal.billing.dunning.graceExpired, { subscriptionId });
    await ctx.db.patch("subscriptions", row._id, { graceJobId });
    return "not yet";
  }
  const user = await ctx.db.get("users", row.userId);
  if (user === null) return "account gone";
  if (user.state !== "past_due") return `account is ${user.state}`;
  await applyStateEvent(ctx, user, { type: "grace_expired" }, BILLING_ACTOR, "payment not recovered within the grace period");
  await alertAccount(ctx, user._id, "account_suspended");
  return "suspended";
}

export const graceExpired = internalMutation({
  args: { subscriptionId: v.id("subscriptions") },
  returns: v.string(),
  handler: graceExpiredHandler,
});
