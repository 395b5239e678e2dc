// Deciding what overage to report. A cron sweeps the month's usage rows every few minutes and
// schedules `decide` for each account that can owe overage; `decide` is ONE mutation that reads
// the month's totals from the ledger and the account's reported-through cursor, writes one
// overageOutbox row per chunk (model/billing/overage.ts) with its export enqueued, and advances
// the cursor, all in the same transaction. Either the rows exist and the cursor covers them, or
// neither: a chunk is decided once, and a rerun finds nothing new. The export (overageExport.ts)
// sends each row under its fixed identifier until the provider acknowledges it.
//
// During a month only full chunks go out; once the month is over (and its last usage events are
// settled), `decide` also sends the partial chunks: the monthly close cron does that for every
// account, and any later run catches usage that settled after it.
import { v } from "convex/values";
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { internalMutation } from "../functions";
import { monthTotals } from "../lib/usageTotals";
import { decideOverage, meteredUsage, NO_QUANTITIES, overageIdentifier, usageTime } from "../model/billing/overage";
import { monthOf, monthRange, shiftMonth } from "../model/calendar";
import { getPlan, PLANS } from "../model/plans";
import { overageEventNames } from "../providers/billing/config";
import { enqueueOverageExport } from "./overageExport";

/** Usage rows read per sweep transaction; the rest of the month follows in the next one. */
const SWEEP_PAGE = 100;
/** Chunks one decision writes (each an outbox row and a workpool run); more follow at once. */
export const CHUNKS_PER_DECISION = 20;
/**
 * A month is closed (partial chunks reported) this long after it ends: usage events are stamped
 * when they settle and the rollup trails by seconds, so by then the month's totals are final.
 */
export const CLOSE_AFTER_MS = 10 * 60_000;

/** Below every paid plan's included amount nothing can be billable: no need to read the account. */
const LEAST_INCLUDED = Math.min(...Object.values(PLANS).filter((p) => p.overage !== null).map((p) => p.includedTokens));

/** An account whose plan bills overage and that has a provider to bill it. */
function reportsOverage(user: Doc<"users">): boolean {
  return getPlan(user.plan).overage !== null && user.billingProvider !== undefined;
}

async function sweepHandler(ctx: MutationCtx, args: { month: string; cursor?: string }) {
  const page = await ctx.db
    .query("usageMonthly")
    .withIndex("by_month", (q) => q.eq("month", args.month))
    .paginate({ numItems: SWEEP_PAGE, cursor: args.cursor ?? null });
  let scheduled = 0;
  for (const row of page.page) {
    // The rolled-up row trails the ledger by seconds; a run a few minutes later sees the rest.
    const used = meteredUsage(row);
    if (used.input + used.output <= LEAST_INCLUDED) continue;
    const user = await ctx.db.get("users", row.userId);
    if (user === null || !reportsOverage(user)) continue;
    // One transaction per account, so a busy account's ledger reads never retry the sweep.
    await ctx.scheduler.runAfter(0, internal.billing.overage.decide, { userId: row.userId, month: args.month });
    scheduled++;
  }
  if (!page.isDone) {
    await ctx.scheduler.runAfter(0, internal.billing.overage.sweep, { month: args.month, cursor: page.continueCursor });
  }
  return { scheduled, done: page.isDone };
}

const sweepResult = v.object({ scheduled: v.number(), done: v.boolean() });

export const sweep = internalMutation({
  args: { month: v.string(), cursor: v.optional(v.string()) },
  returns: sweepResult,
  handler: sweepHandler,
});

/** Cron, every few minutes: the full chunks of the month in progress. */
export const reportCurrentMonth = internalMutation({
  args: {},
  returns: sweepResult,
  handler: async (ctx) => await sweepHandler(ctx, { month: monthOf(Date.now()) }),
});

/** Cron, early on the 1st: the month that just ended, partial chunks included. */
export const closePreviousMonth = internalMutation({
  args: {},
  returns: sweepResult,
  handler: async (ctx) => await sweepHandler(ctx, { month: shiftMonth(monthOf(Date.now()), -1) }),
});

const decideResult = v.object({
  queued: v.number(),
  more: v.boolean(),
  final: v.boolean(),
  skipped: v.union(v.null(), v.literal("no_account"), v.literal("no_overage"), v.literal("no_customer")),
});

async function decideHandler(ctx: MutationCtx, args: { userId: Id<"users">; month: string }) {
  const user = await ctx.db.get("users", args.userId);
  if (user === null) return { queued: 0, more: false, final: false, skipped: "no_account" as const };
  const provider = user.billingProvider;
  if (!reportsOverage(user) || provider === undefined) return { queued: 0, more: false, final: false, skipped: "no_overage" as const };
  // Stripe bills a meter event to a customer; Polar finds it by external_customer_id (the user).
  const customerId = provider === "stripe" ? user.stripeCustomerId : undefined;
  if (provider === "stripe" && customerId === undefined) return { queued: 0, more: false, final: false, skipped: "no_customer" as const };

  const now = Date.now();
  const final = now >= monthRange(args.month).end + CLOSE_AFTER_MS;
  const { totals } = await monthTotals(ctx, args.userId, args.month);
  const cursor = await ctx.db
    .query("overageCursors")
    .withIndex("by_userId_and_month", (q) => q.eq("userId", args.userId).eq("month", args.month))
    .unique();
  const decision = decideOverage({
    plan: user.plan,
    used: meteredUsage(totals),
    reported: cursor?.reported ?? NO_QUANTITIES,
    final,
    limit: CHUNKS_PER_DECISION,
  });

  const occurredAt = usageTime(args.month, now);
  const eventNames = overageEventNames(provider);
  for (const chunk of decision.chunks) {
    const identifier = overageIdentifier(args.userId, args.month, chunk);
    const outboxId = await ctx.db.insert("overageOutbox", {
      userId: args.userId,
      month: args.month,
      provider,
      meter: chunk.meter,
      from: chunk.from,
      to: chunk.to,
      identifier,
      eventName: eventNames[chunk.meter],
      customerId,
      occurredAt,
      status: "pending",
      createdAt: now,
    });
    await ctx.db.patch("overageOutbox", outboxId, { workId: await enqueueOverageExport(ctx, outboxId) });
  }

  const closing = final && cursor?.closedAt === undefined;
  if (cursor === null) {
    if (decision.chunks.length > 0) {
      await ctx.db.insert("overageCursors", {
        userId: args.userId,
        month: args.month,
        provider,
        plan: user.plan,
        reported: decision.reportedThrough,
        sent: NO_QUANTITIES,
        decidedAt: now,
        ...(final ? { closedAt: now } : {}),
      });
    }
  } else if (decision.chunks.length > 0 || closing) {
    await ctx.db.patch("overageCursors", cursor._id, {
      provider,
      plan: user.plan,
      reported: decision.reportedThrough,
      decidedAt: now,
      ...(closing ? { closedAt: now } : {}),
    });
  }
  if (decision.more) await ctx.scheduler.runAfter(0, internal.billing.overage.decide, args);
  return { queued: decision.chunks.length, more: decision.more, final, skipped: null };
}

export const decide = internalMutation({
  args: { userId: v.id("users"), month: v.string() },
  returns: decideResult,
  handler: decideHandler,
});
