// The monthly reconciliation of overage: for every account that owed or reported overage in the
// month, the ledger's billable tokens, the reported-through cursor, the provider's
// acknowledgements and, where the provider's API offers one (Stripe's meter event summaries),
// the provider's own meter totals are compared meter by meter (model/billing/overage.ts
// `reconcileOverage`). Each check rewrites the account's overageReconciliations row, which the
// support console lists; a new set of discrepancies also raises an alert for support.
//
// The provider is read in a providerPool workpool action (retried with backoff); the comparison
// itself is one mutation that reads the ledger and the cursor fresh.
import { vOnCompleteArgs, type RunResult } from "@convex-dev/workpool";
import { v, type Infer } from "convex/values";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import type { ActionCtx, MutationCtx, QueryCtx } from "../_generated/server";
import { internalAction, internalMutation, internalQuery } from "../functions";
import { monthTotals } from "../lib/usageTotals";
import {
  billableTokens,
  describeDiscrepancy,
  meteredUsage,
  NO_QUANTITIES,
  reconcileOverage,
  type Discrepancy,
  type MeterQuantities,
} from "../model/billing/overage";
import { monthOf, monthRange, shiftMonth } from "../model/calendar";
import { billingProvider } from "../providers/billing";
import { overageEventNames } from "../providers/billing/config";
import { BillingConfigError, BillingProviderError } from "../providers/billing/types";
import { meterQuantitiesValidator } from "../schema/billing";
import { billingProviderValidator } from "../schema/validators";
import { providerPool } from "../lib/providerPool";

// A month-end report is not urgent: a few quick tries, then the check is recorded without the
// provider's figures (and says why).
export const RECONCILE_RETRY = { maxAttempts: 4, initialBackoffMs: 60_000, base: 2 } as const;


const SWEEP_PAGE = 100;

/** The account's cursor for the month, and the plan and provider its overage was priced by. */
async function monthState(ctx: QueryCtx, userId: Id<"users">, month: string) {
  const user = await ctx.db.get("users", userId);
  const cursor = await ctx.db
    .query("overageCursors")
    .withIndex("by_userId_and_month", (q) => q.eq("userId", userId).eq("month", month))
    .unique();
  // The plan of the month's last decision; without one, the account's plan now (the check runs
  // hours after the month ended).
  const plan = cursor?.plan ?? user?.plan ?? null;
  const provider = cursor?.provider ?? user?.billingProvider ?? null;
  return { user, cursor, plan, provider };
}

async function sweepHandler(ctx: MutationCtx, args: { month: string; cursor?: string }) {
  const page = await ctx.db
    .query("usageMonthly")
    .withIndex("by_month", (q) => q.eq("month", args.month))
    .paginate({ numItems: SWEEP_PAGE, cursor: args.cursor ?? null });
  let enqueued = 0;
  for (const row of page.page) {
    const { user, cursor, plan, provider } = await monthState(ctx, row.userId, args.month);
    if (user === null || plan === null || provider === null) continue;
    // Nothing reported and nothing billable (the rolled-up row is final by now): nothing to compare.
    if (cursor === null) {
      const billable = billableTokens(plan, meteredUsage(row));
      if (billable.input + billable.output === 0) continue;
    }
    await providerPool.enqueueAction(
      ctx,
      internal.billing.overageReconcile.check,
      { userId: row.userId, month: args.month },
      {
        retry: RECONCILE_RETRY,
        onComplete: internal.billing.overageReconcile.recordUnverified,
        context: { userId: row.userId, month: args.month },
        name: "billing:overage-reconcile",
      },
    );
    enqueued++;
  }
  if (!page.isDone) {
    await ctx.scheduler.runAfter(0, internal.billing.overageReconcile.sweep, { month: args.month, cursor: page.continueCursor });
  }
  return { enqueued, done: page.isDone };
}

const sweepResult = v.object({ enqueued: v.number(), done: v.boolean() });

export const sweep = internalMutation({
  args: { month: v.string(), cursor: v.optional(v.string()) },
  returns: sweepResult,
  handler: sweepHandler,
});

/** Cron, on the 1st after the close has sent the last chunks: the month that just ended. */
export const checkPreviousMonth = internalMutation({
  args: {},
  returns: sweepResult,
  handler: async (ctx) => await sweepHandler(ctx, { month: shiftMonth(monthOf(Date.now()), -1) }),
});

const subjectValidator = v.union(
  v.null(),
  v.object({ provider: billingProviderValidator, customerId: v.union(v.string(), v.null()), userId: v.id("users") }),
);

/** Whom to ask the provider about. */
async function subjectHandler(ctx: QueryCtx, args: { userId: Id<"users">; month: string }): Promise<Infer<typeof subjectValidator>> {
  const { user, provider } = await monthState(ctx, args.userId, args.month);
  if (user === null || provider === null) return null;
  return { provider, customerId: provider === "stripe" ? (user.stripeCustomerId ?? null) : null, userId: args.userId };
}

export const subject = internalQuery({
  args: { userId: v.id("users"), month: v.string() },
  returns: subjectValidator,
  handler: subjectHandler,
});

const recordResult = v.object({ status: v.union(v.literal("ok"), v.literal("discrepancy")), discrepancies: v.number(), alerted: v.boolean() });
type RecordResult = Infer<typeof recordResult>;

/**
 * Reads the provider's totals (Stripe) and records the comparison. Retryable provider errors
 * are thrown for the workpool to retry; a refusal is recorded as the reason the provider's
 * figures are missing.
 */
async function checkHandler(ctx: ActionCtx, args: { userId: Id<"users">; month: string }): Promise<RecordResult | null> {
  const who = await ctx.runQuery(internal.billing.overageReconcile.subject, args);
  if (who === null) return null;
  const { start, end } = monthRange(args.month);
  let providerTotals: MeterQuantities | null = null;
  let providerNote: string | undefined;
  try {
    providerTotals = await billingProvider(who.provider).reportedUsage({
      customerId: who.customerId,
      userId: who.userId,
      eventNames: overageEventNames(who.provider),
      startS: start / 1_000,
      endS: end / 1_000,
    });
    if (providerTotals === null) providerNote = `${who.provider} offers no meter summary here: checked against the ledger and acknowledgements only.`;
  } catch (e) {
    if (!(e instanceof BillingConfigError || (e instanceof BillingProviderError && !e.retryable))) throw e;
    providerNote = (e as Error).message;
  }
  return await ctx.runMutation(internal.billing.overageReconcile.record, { ...args, providerTotals, providerNote });
}

export const check = internalAction({
  args: { userId: v.id("users"), month: v.string() },
  returns: v.union(v.null(), recordResult),
  handler: checkHandler,
});

/** Field by field: a stored document need not keep its fields' order. */
function sameDiscrepancies(a: Discrepancy[], b: Discrepancy[]): boolean {
  const key = (d: Discrepancy) => `${d.kind}|${d.meter}|${d.expected}|${d.actual}`;
  return a.length === b.length && a.every((d, i) => key(d) === key(b[i]));
}

async function recordHandler(
  ctx: MutationCtx,
  args: { userId: Id<"users">; month: string; providerTotals: MeterQuantities | null; providerNote?: string },
): Promise<RecordResult> {
  const { user, cursor, plan, provider } = await monthState(ctx, args.userId, args.month);
  if (user === null || plan === null || provider === null) return { status: "ok", discrepancies: 0, alerted: false };
  const { totals } = await monthTotals(ctx, args.userId, args.month);
  const billable = billableTokens(plan, meteredUsage(totals));
  const reported = cursor?.reported ?? NO_QUANTITIES;
  const sent = cursor?.sent ?? NO_QUANTITIES;
  const discrepancies = reconcileOverage({ billable, reported, sent, provider: args.providerTotals });
  const status = discrepancies.length === 0 ? "ok" : "discrepancy";
  const previous = await ctx.db
    .query("overageReconciliations")
    .withIndex("by_userId_and_month", (q) => q.eq("userId", args.userId).eq("month", args.month))
    .unique();
  // One alert per new finding: a rerun that finds the same discrepancies stays quiet.
  let alertId = previous?.alertId;
  const alerted = status === "discrepancy" && (previous === null || !sameDiscrepancies(previous.discrepancies, discrepancies));
  if (alerted) {
    // For support (no userId: not on the customer's dashboard); the discrepancy itself is listed
    // by billing/overageSupport.ts.
    alertId = await ctx.db.insert("alerts", {
      kind: "overage_discrepancy",
      severity: "warning",
      message: `Overage for ${user.email} in ${args.month} does not reconcile: ${discrepancies.map(describeDiscrepancy).join("; ")}.`,
      at: Date.now(),
    });
  }
  const fields = {
    userId: args.userId,
    month: args.month,
    provider,
    plan,
    status,
    billable,
    reported,
    sent,
    providerTotals: args.providerTotals,
    providerNote: args.providerNote,
    discrepancies,
    checkedAt: Date.now(),
    alertId,
  } as const;
  if (previous === null) await ctx.db.insert("overageReconciliations", fields);
  else await ctx.db.replace("overageReconciliations", previous._id, fields);
  return { status, discrepancies: discrepancies.length, alerted };
}

export const record = internalMutation({
  args: {
    userId: v.id("users"),
    month: v.string(),
    providerTotals: v.union(meterQuantitiesValidator, v.null()),
    providerNote: v.optional(v.string()),
  },
  returns: recordResult,
  handler: recordHandler,
});

/** The provider stayed unreachable through every retry: the comparison is recorded without it. */
async function recordUnverifiedHandler(
  ctx: MutationCtx,
  args: { context: { userId: Id<"users">; month: string }; result: RunResult<RecordResult | null> },
): Promise<null> {
  if (args.result.kind === "success") return null;
  const note = args.result.kind === "failed" ? `the provider's meter totals could not be read: ${args.result.error}` : "the check was canceled";
  await recordHandler(ctx, { ...args.context, providerTotals: null, providerNote: note });
  return null;
}

export const recordUnverified = internalMutation({
  args: vOnCompleteArgs(v.object({ userId: v.id("users"), month: v.string() })),
  returns: v.null(),
  handler: recordUnverifiedHandler,
});
