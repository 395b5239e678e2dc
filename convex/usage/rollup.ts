// The usage rollup (cron, every 10 s): folds usage events into usageDaily (the daily chart and
// per-model reports) and raises the 80%/100% quota alerts that settle stamped on events.
//
// Off the proxy's path: the ledger's totals live on the balance (usageMonthly), which begin and
// settle keep exact; this job reads only the append-only events, by time, and writes only
// usageDaily, alerts and its own cursor, so it never conflicts with a request in flight.
import { v } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { internal } from "../_generated/api";
import { internalMutation } from "../functions";
import { pageAfter, usageEventsByAt } from "../lib/cursorPages";
import { dayOf, monthOf } from "../model/calendar";
import { getPlan } from "../model/plans";
import { quotaAlertMessage } from "../model/usage/summary";
import { byDayAndModel, pickTotals } from "../model/usage/totals";

/**
 * Events newer than this are left for the next run: an event's `at` is taken inside its
 * mutation, which may commit a little later than a rollup that already passed that time.
 */
export const ROLLUP_LAG_MS = 10_000;
const ROLLUP_BATCH = 1_000;
// The cursor's historical name (it once folded usageMonthly too); renaming it would fold
// every event into usageDaily a second time.
const ROLLUP_CURSOR = "usageMonthly";

/**
 * Folds events with cursor < at <= now - lag into usageDaily (each touched row's
 * rolledUpThrough set to the new cursor), raises their stamped alerts, advances the cursor,
 * and reschedules itself while a backlog remains.
 */
async function foldEventsHandler(ctx: MutationCtx) {
  const state = await ctx.db
    .query("rollupState")
    .withIndex("by_name", (q) => q.eq("name", ROLLUP_CURSOR))
    .unique();
  const from = state?.cursor ?? 0;
  const until = Date.now() - ROLLUP_LAG_MS;
  if (until <= from) return { events: 0, cursor: from };
  const { rows: events, cursor, more } = await pageAfter(usageEventsByAt(ctx), from, until, ROLLUP_BATCH);

  const byUser = new Map<Id<"users">, Doc<"usageEvents">[]>();
  for (const e of events) {
    const list = byUser.get(e.userId);
    if (list) list.push(e);
    else byUser.set(e.userId, [e]);
  }
  for (const [userId, userEvents] of byUser) {
    await foldDaily(ctx, userId, userEvents, cursor);
    await raiseAlerts(ctx, userId, userEvents);
  }

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

/**
 * The alerts settle decided on the balance (each threshold once per month) and stamped on
 * the event that crossed it.
 */
async function raiseAlerts(ctx: MutationCtx, userId: Id<"users">, events: Doc<"usageEvents">[]) {
  const crossing = events.filter((e) => (e.quotaThresholds?.length ?? 0) > 0);
  if (crossing.length === 0) return;
  const user = await ctx.db.get("users", userId);
  if (user === null) return;
  const plan = getPlan(user.plan);
  for (const e of crossing) {
    for (const t of e.quotaThresholds ?? []) {
      await ctx.db.insert("alerts", {
        userId,
        kind: `quota_${t}`,
        severity: t >= 100 ? "critical" : "warning",
        message: quotaAlertMessage(plan, monthOf(e.at), t),
        at: e.at,
      });
    }
  }
}

/** Adds the batch to the user's usageDaily rows (one upsert per day and model touched). */
async function foldDaily(ctx: MutationCtx, userId: Id<"users">, events: Doc<"usageEvents">[], cursor: number) {
  for (const add of byDayAndModel([], events.map((e) => ({ ...e, day: dayOf(e.at) })))) {
    const existing = await ctx.db
      .query("usageDaily")
      .withIndex("by_userId_and_day_and_model", (q) =>
        q.eq("userId", userId).eq("day", add.day).eq("model", add.model),
      )
      .unique();
    if (existing === null) {
      await ctx.db.insert("usageDaily", { userId, ...add, rolledUpThrough: cursor });
    } else {
      const [merged] = byDayAndModel([existing, add], []);
      await ctx.db.patch("usageDaily", existing._id, { ...pickTotals(merged), rolledUpThrough: cursor });
    }
  }
}
