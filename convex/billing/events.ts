// A verified billing webhook, recorded and applied in ONE transaction: the webhookEvents row
// (provider + event id) is both the idempotency record and the outcome, so a redelivery finds
// it and changes nothing, and an event is never applied without its record. Support's re-apply
// of a failed event goes through the same apply (support.ts).
import { v } from "convex/values";
import type { MutationCtx } from "../_generated/server";
import { internalMutation } from "../functions";
import type { BillingFact, BillingProviderId } from "../model/billing/facts";
import { billingFactValidator, webhookStatusValidator } from "../schema/billing";
import { billingProviderValidator } from "../schema/validators";
import { applyFact } from "./apply";
import { enqueueRefetch } from "./refetch";

export const recordResultValidator = v.object({
  outcome: v.string(),
  status: webhookStatusValidator,
  replayed: v.boolean(),
});

async function recordHandler(
  ctx: MutationCtx,
  args: { provider: BillingProviderId; eventId: string; type: string; fact: BillingFact },
): Promise<{ outcome: string; status: "applied" | "ignored" | "failed"; replayed: boolean }> {
  const seen = await ctx.db
    .query("webhookEvents")
    .withIndex("by_provider_and_eventId", (q) => q.eq("provider", args.provider).eq("eventId", args.eventId))
    .unique();
  if (seen !== null) return { outcome: seen.outcome, status: seen.status ?? "applied", replayed: true };
  const result = await applyFact(ctx, args.provider, args.fact);
  const rowId = await ctx.db.insert("webhookEvents", {
    provider: args.provider,
    eventId: args.eventId,
    type: args.type,
    receivedAt: Date.now(),
    outcome: result.outcome,
    status: result.status,
    userId: result.userId,
    fact: args.fact,
  });
  if (result.refetch !== undefined) {
    const workId = await enqueueRefetch(ctx, { ...result.refetch, eventRowId: rowId });
    await ctx.db.patch("webhookEvents", rowId, { refetchWorkId: workId });
  }
  return { outcome: result.outcome, status: result.status, replayed: false };
}

export const record = internalMutation({
  args: { provider: billingProviderValidator, eventId: v.string(), type: v.string(), fact: billingFactValidator },
  returns: recordResultValidator,
  handler: recordHandler,
});
