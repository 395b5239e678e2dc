// The usage rollup (cron, every 10 s): folds usage events into usageMonthly and usageDaily and
// raises the 80%/100% quota alerts once per month.
//
// No document is written by every request: the proxy only appends usageEvents. usageMonthly
// rows are written by this job alone, which folds events with at <= cursor and advances each
// touched row's rolledUpThrough. Readers add the events after that cursor, so summaries are
// live without a hot counter.
import { v } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { internal } from "../_generated/api";
import { internalMutation } from "../functions";
import { dayOf, monthOf } from "../model/calendar";
import { getPlan } from "../model/plans";
import { quotaAlertMessage, thresholdsCrossed } from "../model/usage/summary";
import { byDayAndModel, pickTotals, quotaUnits, sumEvents, ZERO_TOTALS } from "../model/usage/totals";

/**
 * Events newer than this are left for the next run: an event's `at` is taken inside its
 * mutation, which may commit a little later than a rollup that already passed that time.
 */
export const ROLLUP_LAG_MS = 10_000;
const ROLLUP_BATCH = 1_000;
const ROLLUP_CURSOR = "usageMonthly";

/**
 * Folds events with cursor < at <= now - lag, advances each touched row's rolledUpThrough and
 * the global cursor, and reschedules itself while a backlog remains.
 */
async function foldEventsHandler(ctx: MutationCtx) {
  const state = await ctx.db
    .query("rollupState")
    .withIndex("by_name", (q) => q.eq("name", ROLLUP_CURSOR))
    .unique();
  const from = state?.cursor ?? 0;
  const until = Date.now() - ROLLUP_LAG_MS;
  if (until <= from) return { events: 0, cursor: from };
  let events = await ctx.db
    .query("usageEvents")
    .withIndex("by_at", (q) => q.gt("at", from).lte("at", until))
    .take(ROLLUP_BATCH);
  let cursor = until;
  const more = events.length === ROLLUP_BATCH;
  if (more) {
    // Never split one millisecond across runs: the cursor must cover all events at it.
    const last = events[events.length - 1].at;
    const before = events.filter((e) => e.at < last);
    if (before.length > 0) {
      events = before;
      cursor = last - 1;
    } else {
      events = await ctx.db.query("usageEvents").withIndex("by_at", (q) => q.eq("at", last)).collect();
      cursor = last;
    }
  }

  const groups = new Map<string, { userId: Id<"users">; month: string; events: Doc<"usageEvents">[] }>();
  for (const e of events) {
    const month = monthOf(e.at);
    const k = `${e.userId}|${month}`;
    const g = groups.get(k) ?? { userId: e.userId, month, events: [] };
    g.events.push(e);
    groups.set(k, g);
  }
  for (const g of groups.values()) await foldInto(ctx, g.userId, g.month, g.events, cursor);

  if (state === null) await ctx.db.insert("rollupState", { name: ROLLUP_CURSOR, cursor });
  else await ctx.db.patch("rollupState", state._id, { cursor });
  if (more) await ctx.scheduler.runAfter(0, internal.usage.rollup.foldEvents, {});
  return { events: events.length, cursor };
}

export const foldEvents = internalMutation({
  args: {},
  returns: v.object({ events: v.number(), cursor: v.number() }),
  handler: foldEventsHandler,
});

async function foldInto(
  ctx: MutationCtx,
  userId: Id<"users">,
  month: string,
  events: Doc<"usageEvents">[],
  cursor: number,
) {
  const row = await ctx.db
    .query("usageMonthly")
    .withIndex("by_userId_and_month", (q) => q.eq("userId", userId).eq("month", month))
    .unique();
  const next = { ...sumEvents(row === null ? ZERO_TOTALS : pickTotals(row), events), rolledUpThrough: cursor };
  let alertedPercent = row?.alertedPercent ?? 0;
  const user = await ctx.db.get("users", userId);
  if (user !== null) {
    const plan = getPlan(user.plan);
    const crossed = thresholdsCrossed(alertedPercent, quotaUnits(next), plan.includedTokens);
    const now = Date.now();
    for (const t of crossed) {
      await ctx.db.insert("alerts", {
        userId,
        kind: `quota_${t}`,
        severity: t >= 100 ? "critical" : "warning",
        message: quotaAlertMessage(plan, month, t),
        at: now,
      });
    }
    if (crossed.length > 0) alertedPercent = Math.max(...crossed);
  }
  if (row === null) await ctx.db.insert("usageMonthly", { userId, month, ...next, alertedPercent });
  else await ctx.db.patch("usageMonthly", row._id, { ...next, alertedPercent });
  await foldDaily(ctx, userId, events);
}

/** Adds the batch to the user's usageDaily rows (one upsert per day and model touched). */
async function foldDaily(ctx: MutationCtx, userId: Id<"users">, events: Doc<"usageEvents">[]) {
  for (const add of byDayAndModel([], events.map((e) => ({ ...e, day: dayOf(e.at) })))) {
    const existing = await ctx.db
      .query("usageDaily")
      .withIndex("by_userId_and_day_and_model", (q) =>
        q.eq("userId", userId).eq("day", add.day).eq("model", add.model),
      )
      .unique();
    if (existing === null) {
      await ctx.db.insert("usageDaily", { userId, ...add });
    } else {
      const [merged] = byDayAndModel([existing, add], []);
      await ctx.db.patch("usageDaily", existing._id, pickTotals(merged));
    }
  }
}
