// Re-fetching a subscription from the provider, off the webhook's path: when two events of one
// subscription carry the same provider second (Stripe's event.created has whole seconds) and
// differ, the ordering's tie-breakers decide at once and this job asks Stripe for the truth.
// It runs in the providerPool workpool (retries with backoff; the workpool's status is the one
// record of attempts, the webhook event row keeps the workId).
import { vOnCompleteArgs, type RunResult } from "@convex-dev/workpool";
import { v } from "convex/values";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import type { ActionCtx, MutationCtx } from "../_generated/server";
import { internalAction, internalMutation } from "../functions";
import { stripeSubscriptionFact } from "../model/billing/stripeEvents";
import { retrieveStripeSubscription } from "../providers/billing/stripe";
import { BillingProviderError } from "../providers/billing/types";
import { billingFactValidator } from "../schema/billing";
import { applyFact } from "./apply";
import { providerPool } from "../lib/providerPool";

// Stripe's API recovers from most hiccups within minutes: 5 attempts, 10 s doubling.
export const REFETCH_RETRY = { maxAttempts: 5, initialBackoffMs: 10_000, base: 2 } as const;

// The same pool and parallelism as the email outbox (lib/emailOutbox.ts): one component, one setting.

export async function enqueueRefetch(
  ctx: MutationCtx,
  args: { subscriptionId: string; atVersion: number; eventRowId: Id<"webhookEvents"> },
): Promise<string> {
  return await providerPool.enqueueAction(
    ctx,
    internal.billing.refetch.fetchSubscription,
    { subscriptionId: args.subscriptionId, atVersion: args.atVersion },
    {
      retry: REFETCH_RETRY,
      onComplete: internal.billing.refetch.recordOutcome,
      context: { eventRowId: args.eventRowId },
      name: "billing:refetch",
    },
  );
}

const fetchResult = v.object({ outcome: v.string() });

async function fetchSubscriptionHandler(ctx: ActionCtx, args: { subscriptionId: string; atVersion: number }): Promise<{ outcome: string }> {
  let raw: unknown;
  try {
    raw = await retrieveStripeSubscription(args.subscriptionId);
  } catch (e) {
    // Thrown errors are retried by the workpool; a permanent refusal (404, bad key) is not.
    if (e instanceof BillingProviderError && !e.retryable) return { outcome: `not fetched: ${e.message}` };
    throw e;
  }
  const fact = stripeSubscriptionFact(raw, args.atVersion);
  return await ctx.runMutation(internal.billing.refetch.applyFetched, { fact, atVersion: args.atVersion });
}

export const fetchSubscription = internalAction({
  args: { subscriptionId: v.string(), atVersion: v.number() },
  returns: fetchResult,
  handler: fetchSubscriptionHandler,
});

export const applyFetched = internalMutation({
  args: { fact: billingFactValidator, atVersion: v.number() },
  returns: fetchResult,
  handler: async (ctx, { fact, atVersion }) => {
    const result = await applyFact(ctx, "stripe", fact, { forceAtVersion: atVersion });
    return { outcome: `refetched: ${result.outcome}` };
  },
});

async function recordOutcomeHandler(
  ctx: MutationCtx,
  args: { context: { eventRowId: Id<"webhookEvents"> }; result: RunResult<{ outcome: string }> },
): Promise<null> {
  const row = await ctx.db.get("webhookEvents", args.context.eventRowId);
  if (row === null) return null;
  const note = args.result.kind === "success" ? args.result.returnValue.outcome : `refetch ${args.result.kind}${args.result.kind === "failed" ? `: ${args.result.error}` : ""}`;
  await ctx.db.patch("webhookEvents", row._id, { outcome: `${row.outcome}; ${note}` });
  if (args.result.kind === "failed") {
    // For support (no userId: not on the customer's dashboard): the tie stays as the tie-breakers settled it.
    await ctx.db.insert("alerts", {
      kind: "billing_refetch_failed",
      severity: "warning",
      message: `Re-fetching a Stripe subscription after event ${row.eventId} failed: ${args.result.error}`,
      at: Date.now(),
    });
  }
  return null;
}

export const recordOutcome = internalMutation({
  args: vOnCompleteArgs(v.object({ eventRowId: v.id("webhookEvents") })),
  returns: v.null(),
  handler: recordOutcomeHandler,
});
