// The console's overview: usage (tokens, cost, requests, active accounts) and revenue (paid
// invoices, refunds) for this month and the 11 before it, and accounts by state and plan.
//
// Bounded reads: the page reads at most 12 month rows and one accounts row (adminMonthlyTotals,
// adminAccountTotals). Those are recomputed by a refresh that walks usageMonthly (by_month, one
// month at a time), invoices and users in batches of BATCH documents, one mutation each,
// carrying its sums in one adminOverviewRuns row, and writes them all in its last step. Every
// 10 minutes by cron, or at once from the page's "Refresh now". Why not maintained counters:
// the balance document is written on every proxied request and is the designed serialization
// point per user; a global counter there would serialize the proxy across users (OCC). Why not
// @convex-dev/aggregate: it is not installed here, and it too would need a write beside every
// ledger, invoice and account change, all owned by other domains. The cost is freshness (at
// most ~10 minutes behind, "computedAt" on the page) and one full walk per refresh.
import { v } from "convex/values";
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { internalMutation, supportMutation, supportQuery } from "../functions";
import { monthOf } from "../model/calendar";
import { addInvoice, addUsage, bump, emptyFigures, monthsEndingAt, type MonthFigures } from "../model/admin/overview";
import { refundedMicros } from "../model/admin/refunds";
import { monthFiguresValidator } from "../schema/admin";

/** Documents read per refresh step: far inside a mutation's read limits. */
export const BATCH = 200;
/** A run older than this is presumed dead (a failed step) and a new refresh replaces it. */
const RUN_STALE_MS = 30 * 60 * 1000;

const overviewValidator = v.object({
  months: v.array(v.object({ month: v.string(), ...monthFiguresValidator.fields })),
  accounts: v.union(v.null(), v.object({ total: v.number(), byState: v.record(v.string(), v.number()), byPlan: v.record(v.string(), v.number()) })),
  computedAt: v.union(v.number(), v.null()),
  refreshing: v.union(v.null(), v.object({ startedAt: v.number(), phase: v.string() })),
});

export const get = supportQuery({
  args: {},
  returns: overviewValidator,
  handler: async (ctx) => {
    const [months, accounts, run] = await Promise.all([
      ctx.db.query("adminMonthlyTotals").withIndex("by_month").order("desc").take(12),
      ctx.db.query("adminAccountTotals").withIndex("by_name", (q) => q.eq("name", "accounts")).unique(),
      ctx.db.query("adminOverviewRuns").first(),
    ]);
    return {
      months: months.reverse().map(({ _id, _creationTime, computedAt, ...figures }) => {
        void _id;
        void _creationTime;
        void computedAt;
        return figures;
      }),
      accounts: accounts === null ? null : { total: accounts.total, byState: accounts.byState, byPlan: accounts.byPlan },
      computedAt: accounts?.computedAt ?? null,
      refreshing: run === null ? null : { startedAt: run.startedAt, phase: run.phase },
    };
  },
});

/** Starts a refresh unless one is running; returns whether this call started it. */
async function startRefresh(ctx: MutationCtx): Promise<boolean> {
  const now = Date.now();
  const running = await ctx.db.query("adminOverviewRuns").first();
  if (running !== null) {
    if (now - running.startedAt < RUN_STALE_MS) return false;
    await ctx.db.delete("adminOverviewRuns", running._id);
  }
  const runId = await ctx.db.insert("adminOverviewRuns", {
    phase: "usage",
    cursor: null,
    months: monthsEndingAt(now),
    monthIndex: 0,
    sums: {},
    total: 0,
    byState: {},
    byPlan: {},
    startedAt: now,
    steps: 0,
  });
  await ctx.scheduler.runAfter(0, internal.admin.overview.step, { runId });
  return true;
}

/** "Refresh now" on the overview page. */
export const refresh = supportMutation({
  args: {},
  returns: v.object({ started: v.boolean() }),
  handler: async (ctx) => ({ started: await startRefresh(ctx) }),
});

/** The cron's entry point (crons.ts). */
export const refreshScheduled = internalMutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    await startRefresh(ctx);
    return null;
  },
});

function sumsOf(run: Doc<"adminOverviewRuns">, month: string): MonthFigures {
  return run.sums[month] ?? emptyFigures();
}

async function finish(ctx: MutationCtx, run: Doc<"adminOverviewRuns">): Promise<void> {
  const now = Date.now();
  for (const month of run.months) {
    const figures = sumsOf(run, month);
    const existing = await ctx.db.query("adminMonthlyTotals").withIndex("by_month", (q) => q.eq("month", month)).unique();
    if (existing === null) await ctx.db.insert("adminMonthlyTotals", { month, ...figures, computedAt: now });
    else await ctx.db.replace("adminMonthlyTotals", existing._id, { month, ...figures, computedAt: now });
  }
  const totals = { name: "accounts", total: run.total, byState: run.byState, byPlan: run.byPlan, computedAt: now };
  const existing = await ctx.db.query("adminAccountTotals").withIndex("by_name", (q) => q.eq("name", "accounts")).unique();
  if (existing === null) await ctx.db.insert("adminAccountTotals", totals);
  else await ctx.db.replace("adminAccountTotals", existing._id, totals);
  await ctx.db.delete("adminOverviewRuns", run._id);
}

async function stepHandler(ctx: MutationCtx, { runId }: { runId: Id<"adminOverviewRuns"> }): Promise<null> {
  const run = await ctx.db.get("adminOverviewRuns", runId);
  // Replaced by a newer run (this one was presumed dead): stop.
  if (run === null) return null;
  const paging = { numItems: BATCH, cursor: run.cursor };
  let next: Partial<Doc<"adminOverviewRuns">> = {};
  if (run.phase === "usage") {
    const month = run.months[run.monthIndex];
    const page = await ctx.db.query("usageMonthly").withIndex("by_month", (q) => q.eq("month", month)).paginate(paging);
    let figures = sumsOf(run, month);
    for (const row of page.page) figures = addUsage(figures, row);
    const sums = { ...run.sums, [month]: figures };
    if (!page.isDone) next = { sums, cursor: page.continueCursor };
    else if (run.monthIndex + 1 < run.months.length) next = { sums, cursor: null, monthIndex: run.monthIndex + 1 };
    else next = { sums, cursor: null, phase: "invoices" };
  } else if (run.phase === "invoices") {
    const page = await ctx.db.query("invoices").paginate(paging);
    const sums = { ...run.sums };
    const window = new Set(run.months);
    for (const invoice of page.page) {
      const month = monthOf(invoice.createdAt);
      if (!window.has(month)) continue;
      const refunds = invoice.status === "paid" ? [] : await ctx.db.query("invoiceRefunds").withIndex("by_invoiceId", (q) => q.eq("invoiceId", invoice._id)).take(100);
      sums[month] = addInvoice(sums[month] ?? emptyFigures(), invoice, refundedMicros(refunds));
    }
    next = page.isDone ? { sums, cursor: null, phase: "accounts" } : { sums, cursor: page.continueCursor };
  } else {
    const page = await ctx.db.query("users").paginate(paging);
    let { byState, byPlan } = run;
    for (const user of page.page) {
      byState = bump(byState, user.state);
      byPlan = bump(byPlan, user.plan);
    }
    const counted = { byState, byPlan, total: run.total + page.page.length };
    if (page.isDone) {
      await finish(ctx, { ...run, ...counted });
      return null;
    }
    next = { ...counted, cursor: page.continueCursor };
  }
  await ctx.db.patch("adminOverviewRuns", run._id, { ...next, steps: run.steps + 1 });
  await ctx.scheduler.runAfter(0, internal.admin.overview.step, { runId });
  return null;
}

export const step = internalMutation({
  args: { runId: v.id("adminOverviewRuns") },
  returns: v.null(),
  handler: stepHandler,
});
