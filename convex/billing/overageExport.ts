// Sending overage outbox rows. Each row is one providerPool workpool run (retries with backoff;
// the workpool's status is the one record of attempts, the row keeps its workId):
//
//   pending ──send: provider accepted, or already had the identifier──▶ acknowledge ──▶ sent
//      └──provider refused it, or retries ran out (onComplete)──▶ failed (+ alert; support resends)
//
// Every attempt sends the row's own identifier, fixed when the row was decided. If the process
// dies after the provider took the event and before `acknowledge` commits, the row is still
// pending and the workpool runs `send` again: the provider recognises the identifier (Stripe
// refuses it as existing, Polar counts it as a duplicate) and the retry acknowledges. The event
// counts once at the provider, and the row cannot be lost: it stays pending or failed, visible
// to reconciliation and support, until it is acknowledged.
import { vOnCompleteArgs, type RunResult } from "@convex-dev/workpool";
import { v, type Infer } from "convex/values";
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import type { ActionCtx, MutationCtx, QueryCtx } from "../_generated/server";
import { internalAction, internalMutation, internalQuery } from "../functions";
import { meterTimestampS } from "../model/billing/overage";
import { project } from "../model/rows";
import { billingProvider } from "../providers/billing";
import { BillingConfigError, BillingProviderError } from "../providers/billing/types";
import { overageMeterValidator } from "../schema/billing";
import { billingProviderValidator } from "../schema/validators";
import { providerPool } from "../lib/providerPool";

// Stripe enforces identifier uniqueness for at least 24 hours, so every retry must land well
// inside that: 8 attempts, 30 s doubling (the workpool scales each by 0.5-1.5), about an hour.
export const OVERAGE_RETRY = { maxAttempts: 8, initialBackoffMs: 30_000, base: 2 } as const;

// The same pool and parallelism as the email outbox and the re-fetch: one component, one setting.

/** Enqueues the send of one pending row, in the caller's transaction. */
export async function enqueueOverageExport(ctx: MutationCtx, outboxId: Id<"overageOutbox">): Promise<string> {
  return await providerPool.enqueueAction(
    ctx,
    internal.billing.overageExport.send,
    { outboxId },
    {
      retry: OVERAGE_RETRY,
      onComplete: internal.billing.overageExport.recordOutcome,
      context: { outboxId },
      name: "billing:overage",
    },
  );
}

const wireValidator = v.object({
  provider: billingProviderValidator,
  identifier: v.string(),
  eventName: v.string(),
  customerId: v.union(v.string(), v.null()),
  userId: v.id("users"),
  quantity: v.number(),
  occurredAt: v.number(),
  month: v.string(),
  meter: overageMeterValidator,
});

/** The row as the provider call needs it, or null when it is not pending (sent, failed, gone). */
async function loadHandler(ctx: QueryCtx, args: { outboxId: Id<"overageOutbox"> }): Promise<Infer<typeof wireValidator> | null> {
  const row = await ctx.db.get("overageOutbox", args.outboxId);
  if (row === null || row.status !== "pending") return null;
  return {
    ...project(row, ["provider", "identifier", "eventName", "userId", "occurredAt", "month", "meter"], ["customerId"]),
    quantity: row.to - row.from,
  };
}

export const load = internalQuery({
  args: { outboxId: v.id("overageOutbox") },
  returns: v.union(v.null(), wireValidator),
  handler: loadHandler,
});

const outcomeValidator = v.union(v.literal("accepted"), v.literal("duplicate"));

const sendResult = v.union(
  v.object({ kind: v.literal("skipped") }),
  v.object({ kind: v.literal("sent"), outcome: outcomeValidator }),
  v.object({ kind: v.literal("rejected"), error: v.string() }),
);
type SendOutcome = Infer<typeof sendResult>;

/**
 * One attempt: the provider call, then the acknowledgement. Throws (so the workpool retries)
 * when the provider could not be reached or answered 5xx/429, and when the acknowledgement
 * failed; returns `rejected` for a refusal that retrying cannot fix.
 */
async function sendHandler(ctx: ActionCtx, args: { outboxId: Id<"overageOutbox"> }): Promise<SendOutcome> {
  const row = await ctx.runQuery(internal.billing.overageExport.load, args);
  if (row === null) return { kind: "skipped" };
  let duplicate: boolean;
  try {
    ({ duplicate } = await billingProvider(row.provider).reportUsage({
      identifier: row.identifier,
      eventName: row.eventName,
      customerId: row.customerId,
      userId: row.userId,
      quantity: row.quantity,
      // Computed per attempt: a send delayed past the provider's window still lands inside it.
      timestampS: meterTimestampS(row.occurredAt, Date.now()),
      month: row.month,
      meter: row.meter,
    }));
  } catch (e) {
    if (e instanceof BillingConfigError || (e instanceof BillingProviderError && !e.retryable)) return { kind: "rejected", error: e.message };
    throw e;
  }
  const outcome = duplicate ? "duplicate" : "accepted";
  await ctx.runMutation(internal.billing.overageExport.acknowledge, { outboxId: args.outboxId, outcome });
  return { kind: "sent", outcome };
}

export const send = internalAction({
  args: { outboxId: v.id("overageOutbox") },
  returns: sendResult,
  handler: sendHandler,
});

/**
 * The provider has the event: the row is sent and the month's acknowledged total grows by its
 * tokens, once (a second acknowledgement of a sent row changes nothing).
 */
async function acknowledgeHandler(ctx: MutationCtx, args: { outboxId: Id<"overageOutbox">; outcome: "accepted" | "duplicate" }): Promise<null> {
  const row = await ctx.db.get("overageOutbox", args.outboxId);
  if (row === null || row.status === "sent") return null;
  await ctx.db.patch("overageOutbox", row._id, { status: "sent", outcome: args.outcome, sentAt: Date.now(), lastError: undefined });
  const cursor = await ctx.db
    .query("overageCursors")
    .withIndex("by_userId_and_month", (q) => q.eq("userId", row.userId).eq("month", row.month))
    .unique();
  if (cursor !== null) {
    await ctx.db.patch("overageCursors", cursor._id, { sent: { ...cursor.sent, [row.meter]: cursor.sent[row.meter] + row.to - row.from } });
  }
  return null;
}

export const acknowledge = internalMutation({
  args: { outboxId: v.id("overageOutbox"), outcome: outcomeValidator },
  returns: v.null(),
  handler: acknowledgeHandler,
});

async function markFailed(ctx: MutationCtx, row: Doc<"overageOutbox">, error: string, alert: boolean): Promise<void> {
  await ctx.db.patch("overageOutbox", row._id, { status: "failed", lastError: error });
  if (alert) {
    // For support (no userId: not on the customer's dashboard): the row is resent from the
    // support console once the cause is fixed.
    await ctx.db.insert("alerts", {
      kind: "overage_export_failed",
      severity: "warning",
      message: `Overage for ${row.month} (${row.meter} tokens ${row.from}-${row.to}, ${row.identifier}) was not reported to ${row.provider}: ${error}`,
      at: Date.now(),
    });
  }
}

async function recordOutcomeHandler(
  ctx: MutationCtx,
  args: { context: { outboxId: Id<"overageOutbox"> }; result: RunResult<SendOutcome> },
): Promise<null> {
  const row = await ctx.db.get("overageOutbox", args.context.outboxId);
  // Sent rows were acknowledged by the run itself; failed ones are already recorded.
  if (row === null || row.status !== "pending") return null;
  const result = args.result;
  if (result.kind === "success" && result.returnValue.kind === "rejected") {
    await markFailed(ctx, row, `the provider refused it (${result.returnValue.error})`, true);
  } else if (result.kind === "failed") {
    await markFailed(ctx, row, `gave up after the last retry (${result.error})`, true);
  } else if (result.kind === "canceled") {
    await markFailed(ctx, row, "the send was canceled", false);
  }
  return null;
}

export const recordOutcome = internalMutation({
  args: vOnCompleteArgs(v.object({ outboxId: v.id("overageOutbox") })),
  returns: v.null(),
  handler: recordOutcomeHandler,
});

/** Support's resend of a failed row: pending again, under the same identifier. */
export async function requeueOverage(ctx: MutationCtx, row: Doc<"overageOutbox">): Promise<string> {
  const workId = await enqueueOverageExport(ctx, row._id);
  await ctx.db.patch("overageOutbox", row._id, { status: "pending", workId });
  return workId;
}
