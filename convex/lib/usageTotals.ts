// A user's usage as every reader sees it: the month's rolled-up row plus the events after its
// cursor, and the quota held by requests still running. One rule each, shared by the ledger
// (admission), the meters, the Dex API and the rollup.
import type { Doc, Id } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import { dayOf, isMonth, monthRange } from "../model/calendar";
import { fail } from "./errors";
import { getPlan } from "../model/plans";
import { summarize, type UsageSummary } from "../model/usage/summary";
import { byDayAndModel, type DayModelTotals, pickTotals, sumEvents, type UsageTotals, ZERO_TOTALS } from "../model/usage/totals";

/** A clear INVALID_ARGUMENT for a month key that is not "YYYY-MM". */
export function requireMonth(month: string): void {
  if (!isMonth(month)) fail("INVALID_ARGUMENT", `month must look like 2026-11; got '${month}'.`);
}

/**
 * This month's consumption: the rolled-up row plus every event after its cursor. Reads an
 * index range of the user's events, which is what makes concurrent holds conflict (see
 * docs/proxy.md).
 */
export async function monthTotals(
  ctx: QueryCtx,
  userId: Id<"users">,
  month: string,
): Promise<{ totals: UsageTotals; tail: Doc<"usageEvents">[] }> {
  const { start, end } = monthRange(month);
  const row = await ctx.db
    .query("usageMonthly")
    .withIndex("by_userId_and_month", (q) => q.eq("userId", userId).eq("month", month))
    .unique();
  const after = row === null ? start - 1 : Math.max(row.rolledUpThrough, start - 1);
  // Bounded by the rollup period: the job runs every 10 s behind a 10 s lag, so the tail
  // is about 20 s of one user's requests (a third of the plan's requests per minute).
  const tail = await ctx.db
    .query("usageEvents")
    .withIndex("by_userId_and_at", (q) => q.eq("userId", userId).gt("at", after).lt("at", end))
    .collect();
  return { totals: sumEvents(row === null ? ZERO_TOTALS : pickTotals(row), tail), tail };
}

/**
 * The holds of requests that may still be running: expiresAt > now. A hold past its TTL stops
 * counting at once; the minute cron deletes it, which also re-runs the meters that showed it.
 */
export async function liveHolds(ctx: QueryCtx, userId: Id<"users">, now: number): Promise<Doc<"quotaHolds">[]> {
  return await ctx.db
    .query("quotaHolds")
    .withIndex("by_userId_and_expiresAt", (q) => q.eq("userId", userId).gt("expiresAt", now))
    .collect();
}

export function heldTokensOf(holds: ReadonlyArray<Doc<"quotaHolds">>): number {
  return holds.reduce((s, h) => s + h.tokens, 0);
}

export async function summaryFor(ctx: QueryCtx, user: Doc<"users">, month: string, now: number): Promise<UsageSummary> {
  const { totals } = await monthTotals(ctx, user._id, month);
  return summarize(month, getPlan(user.plan), totals, heldTokensOf(await liveHolds(ctx, user._id, now)));
}

/**
 * The month by day and model: the rolled-up usageDaily rows plus the events after the
 * month's rollup cursor (the same tail the live summary adds), so it is live and reads
 * O(days x models) rows rather than every event of the month.
 */
export async function monthByDayAndModel(ctx: QueryCtx, userId: Id<"users">, month: string): Promise<DayModelTotals[]> {
  const rolled = await ctx.db
    .query("usageDaily")
    .withIndex("by_userId_and_day_and_model", (q) =>
      q.eq("userId", userId).gte("day", `${month}-01`).lte("day", `${month}-31`),
    )
    .collect();
  const { tail } = await monthTotals(ctx, userId, month);
  return byDayAndModel(rolled, tail.map((e) => ({ ...e, day: dayOf(e.at) })));
}
