// Refunds from the console: support refunds all or part of a paid invoice through the account's
// billing provider (Stripe refund on the invoice's payment, Polar refund of the order).
//
//   request (mutation): checks the amount against what is left (model/admin/refunds.ts), inserts
//     an invoiceRefunds row `pending` under the console's idempotency key, audit row, and
//     enqueues `execute` on providerPool (retries with backoff on 5xx / network errors)
//   execute (action): provider.refundInvoice with the same key on every attempt (Stripe
//     Idempotency-Key; Polar metadata), so a retried call never refunds twice
//   recordOutcome (onComplete): the row `succeeded` (with the provider's refund id) or `failed`
//     with the reason; the invoice becomes partially_refunded / refunded from the succeeded rows
//
// The provider's own webhook (Polar order.refunded) may land before or after; invoice statuses
// only move forward, so either order ends in the same status.
import { vOnCompleteArgs, type RunResult } from "@convex-dev/workpool";
import { v, type Infer } from "convex/values";
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import type { ActionCtx, MutationCtx, QueryCtx } from "../_generated/server";
import { supportMutation, supportQuery, internalAction, internalMutation, internalQuery } from "../functions";
import { requireAccount } from "../lib/accounts";
import { actorOf, audit, type Actor } from "../lib/audit";
import { fail } from "../lib/errors";
import { providerPool } from "../lib/providerPool";
import { invoiceMovesForward } from "../model/billing/ordering";
import { decideRefund, isIdempotencyKey, MICROS_PER_CENT, refundableMicros, refundedMicros, statusAfterRefunds } from "../model/admin/refunds";
import { billingProvider, BillingProviderError } from "../providers/billing";
import schema from "../schema";
import { invoiceView, invoiceViewValidator } from "../billing/view";
import { requireReason } from "./reason";

const refundFields = schema.tables.invoiceRefunds.validator.fields;

export const refundRowValidator = v.object({
  _id: v.id("invoiceRefunds"),
  invoiceId: refundFields.invoiceId,
  amountMicros: refundFields.amountMicros,
  currency: refundFields.currency,
  status: refundFields.status,
  reason: refundFields.reason,
  actorLabel: refundFields.actorLabel,
  providerRefundId: refundFields.providerRefundId,
  error: refundFields.error,
  requestedAt: refundFields.requestedAt,
  settledAt: refundFields.settledAt,
});

function refundRow(r: Doc<"invoiceRefunds">): Infer<typeof refundRowValidator> {
  return {
    _id: r._id,
    invoiceId: r.invoiceId,
    amountMicros: r.amountMicros,
    currency: r.currency,
    status: r.status,
    reason: r.reason,
    actorLabel: r.actorLabel,
    providerRefundId: r.providerRefundId,
    error: r.error,
    requestedAt: r.requestedAt,
    settledAt: r.settledAt,
  };
}

/** Refunds asked for on one invoice; an invoice sees a handful at most, 100 is a hard ceiling. */
const MAX_REFUNDS_PER_INVOICE = 100;

async function refundsOf(ctx: QueryCtx, invoiceId: Id<"invoices">): Promise<Doc<"invoiceRefunds">[]> {
  return await ctx.db.query("invoiceRefunds").withIndex("by_invoiceId", (q) => q.eq("invoiceId", invoiceId)).take(MAX_REFUNDS_PER_INVOICE);
}

// Transient provider trouble: 5 attempts, 5 s doubling (about 1 min 15 s in all).
const REFUND_RETRY = { maxAttempts: 5, initialBackoffMs: 5_000, base: 2 } as const;

const REFUNDABLE = new Set<Doc<"invoices">["status"]>(["paid", "partially_refunded"]);

export async function requestRefund(
  ctx: MutationCtx,
  actor: Actor,
  args: { invoiceId: Id<"invoices">; amountMicros?: number; reason: string; idempotencyKey: string },
): Promise<{ refundId: Id<"invoiceRefunds">; status: Doc<"invoiceRefunds">["status"]; amountMicros: number; replayed: boolean }> {
  const why = requireReason(args.reason);
  if (!isIdempotencyKey(args.idempotencyKey)) {
    fail("INVALID_ARGUMENT", "idempotencyKey must be 8 to 100 letters, digits, '-' or '_' (a UUID fits).");
  }
  const earlier = await ctx.db.query("invoiceRefunds").withIndex("by_idempotencyKey", (q) => q.eq("idempotencyKey", args.idempotencyKey)).unique();
  if (earlier !== null) {
    // The same submit again (a double click, a retried request): the first answer, nothing new.
    if (earlier.invoiceId !== args.invoiceId || (args.amountMicros !== undefined && args.amountMicros !== earlier.amountMicros)) {
      fail("CONFLICT", "That idempotency key was used for a different refund; open the refund form again for a new one.");
    }
    return { refundId: earlier._id, status: earlier.status, amountMicros: earlier.amountMicros, replayed: true };
  }
  const invoice = await ctx.db.get("invoices", args.invoiceId);
  if (invoice === null) fail("NOT_FOUND", "No such invoice.");
  if (!REFUNDABLE.has(invoice.status)) {
    fail("CONFLICT", `Only a paid invoice can be refunded; this one is ${invoice.status.replace("_", " ")}.`);
  }
  const decision = decideRefund({ paidMicros: invoice.amountMicros, refunds: await refundsOf(ctx, invoice._id) }, args.amountMicros);
  if (!decision.ok) fail(decision.code, decision.message);
  const now = Date.now();
  const refundId = await ctx.db.insert("invoiceRefunds", {
    invoiceId: invoice._id,
    userId: invoice.userId,
    provider: invoice.provider,
    providerInvoiceId: invoice.providerInvoiceId,
    amountMicros: decision.amountMicros,
    currency: invoice.currency,
    idempotencyKey: args.idempotencyKey,
    reason: why,
    actorId: actor.id,
    actorLabel: actor.label,
    status: "pending",
    requestedAt: now,
  });
  const workId = await providerPool.enqueueAction(ctx, internal.admin.refunds.execute, { refundId }, {
    retry: REFUND_RETRY,
    onComplete: internal.admin.refunds.recordOutcome,
    context: { refundId },
    name: "billing:refund",
  });
  await ctx.db.patch("invoiceRefunds", refundId, { workId });
  await audit(ctx, actor, "invoice.refund_requested", { type: "user", id: invoice.userId }, why, {
    invoiceId: invoice._id,
    provider: invoice.provider,
    providerInvoiceId: invoice.providerInvoiceId,
    amountMicros: decision.amountMicros,
    refundId,
  });
  return { refundId, status: "pending", amountMicros: decision.amountMicros, replayed: false };
}

/**
 * Refunds `amountMicros` of a paid invoice (all that is left when omitted; whole cents), with a
 * reason for the audit log. `idempotencyKey`: made by the console when the form opens, so a
 * repeated submit returns the first refund. The row is `pending` until the provider answers.
 */
export const request = supportMutation({
  args: { invoiceId: v.id("invoices"), amountMicros: v.optional(v.number()), reason: v.string(), idempotencyKey: v.string() },
  returns: v.object({
    refundId: v.id("invoiceRefunds"),
    status: refundFields.status,
    amountMicros: v.number(),
    replayed: v.boolean(),
  }),
  handler: async (ctx, args) => await requestRefund(ctx, actorOf(ctx.user), args),
});

/** An account's invoices (newest first) with what was refunded and what is left to refund. */
export const forAccount = supportQuery({
  args: { userId: v.id("users") },
  returns: v.array(
    v.object({
      invoice: invoiceViewValidator,
      refundedMicros: v.number(),
      refundableMicros: v.number(),
      refunds: v.array(refundRowValidator),
    }),
  ),
  handler: async (ctx, { userId }) => {
    await requireAccount(ctx, userId);
    const invoices = await ctx.db.query("invoices").withIndex("by_userId_and_createdAt", (q) => q.eq("userId", userId)).order("desc").take(50);
    return await Promise.all(
      invoices.map(async (invoice) => {
        const refunds = await refundsOf(ctx, invoice._id);
        return {
          invoice: invoiceView(invoice),
          refundedMicros: refundedMicros(refunds),
          refundableMicros: REFUNDABLE.has(invoice.status) ? refundableMicros({ paidMicros: invoice.amountMicros, refunds }) : 0,
          refunds: refunds.sort((a, b) => b.requestedAt - a.requestedAt).map(refundRow),
        };
      }),
    );
  },
});

export const load = internalQuery({
  args: { refundId: v.id("invoiceRefunds") },
  returns: v.union(v.null(), schema.tables.invoiceRefunds.validator.extend({ _id: v.id("invoiceRefunds"), _creationTime: v.number() })),
  handler: async (ctx, { refundId }) => await ctx.db.get("invoiceRefunds", refundId),
});

const executeResult = v.union(
  v.object({ kind: v.literal("skipped") }),
  v.object({ kind: v.literal("refunded"), refundId: v.string(), status: v.string(), amountCents: v.number() }),
  v.object({ kind: v.literal("refused"), error: v.string() }),
);
type ExecuteResult = Infer<typeof executeResult>;

/** One attempt. Throws (the workpool retries) only when retrying can help. */
async function executeHandler(ctx: ActionCtx, { refundId }: { refundId: Id<"invoiceRefunds"> }): Promise<ExecuteResult> {
  const row = await ctx.runQuery(internal.admin.refunds.load, { refundId });
  if (row === null || row.status !== "pending") return { kind: "skipped" };
  try {
    const result = await billingProvider(row.provider).refundInvoice({
      providerInvoiceId: row.providerInvoiceId,
      amountCents: Math.round(row.amountMicros / MICROS_PER_CENT),
      idempotencyKey: row.idempotencyKey,
      userId: row.userId,
    });
    return { kind: "refunded", ...result };
  } catch (e) {
    if (e instanceof BillingProviderError && !e.retryable) return { kind: "refused", error: e.message };
    throw e;
  }
}

export const execute = internalAction({
  args: { refundId: v.id("invoiceRefunds") },
  returns: executeResult,
  handler: executeHandler,
});

const REFUND_ACTOR: Actor = { label: "billing" };

async function recordOutcomeHandler(
  ctx: MutationCtx,
  args: { context: { refundId: Id<"invoiceRefunds"> }; result: RunResult<ExecuteResult> },
): Promise<null> {
  const row = await ctx.db.get("invoiceRefunds", args.context.refundId);
  if (row === null || row.status !== "pending") return null;
  const { result } = args;
  const now = Date.now();
  const target = { type: "user", id: row.userId };
  if (result.kind === "success" && result.returnValue.kind === "refunded" && !["failed", "canceled"].includes(result.returnValue.status)) {
    const refunded = result.returnValue;
    await ctx.db.patch("invoiceRefunds", row._id, { status: "succeeded", providerRefundId: refunded.refundId, settledAt: now, error: undefined });
    const invoice = await ctx.db.get("invoices", row.invoiceId);
    if (invoice !== null) {
      const total = refundedMicros(await refundsOf(ctx, invoice._id));
      const status = statusAfterRefunds(invoice.amountMicros, total);
      // Forward only, like every invoice change: a provider webhook may have said more already.
      if (invoiceMovesForward(invoice.status, status)) await ctx.db.patch("invoices", invoice._id, { status });
    }
    await audit(ctx, REFUND_ACTOR, "invoice.refunded", target, row.reason, {
      invoiceId: row.invoiceId,
      amountMicros: row.amountMicros,
      providerRefundId: refunded.refundId,
      providerStatus: refunded.status,
    });
    return null;
  }
  const error =
    result.kind === "failed"
      ? `The provider kept failing; gave up after the last retry (${result.error}).`
      : result.kind === "canceled"
        ? "The refund was canceled before it reached the provider."
        : result.returnValue.kind === "refused"
          ? result.returnValue.error
          : result.returnValue.kind === "refunded"
            ? `The provider reported the refund ${result.returnValue.status}.`
            : "The refund was no longer pending.";
  await ctx.db.patch("invoiceRefunds", row._id, { status: "failed", error, settledAt: now });
  await audit(ctx, REFUND_ACTOR, "invoice.refund_failed", target, error, { invoiceId: row.invoiceId, amountMicros: row.amountMicros });
  return null;
}

export const recordOutcome = internalMutation({
  args: vOnCompleteArgs(v.object({ refundId: v.id("invoiceRefunds") })),
  returns: v.null(),
  handler: recordOutcomeHandler,
});
