// A user's usage as every reader sees it, and the ledger's one write of a settled request.
//
// The month's totals and the holds in flight live on ONE balance document per user and month
// (usageMonthly, model/quota/balance.ts), written by `quota.ledger.begin` and `settle` in the
// same transaction as their decision; reading a month costs one document however much history
// it has. The daily chart reads the rollup's usageDaily rows plus the few events after their
// cursor. Shared by the ledger, the meters, the Dex API, billing and the onboarding mails.
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import type { WithoutSystemFields } from "convex/server";
import { dayOf, isMonth, monthOf, monthRange, shiftMonth } from "../model/calendar";
import { fail } from "./errors";
import { getPlan } from "../model/plans";
import { type Balance, carryOver, heldTokens, nextHoldExpiry, settleUsage } from "../model/quota/balance";
import { summarize, type UsageSummary } from "../model/usage/summary";
import { byDayAndModel, type DayModelTotals, pickTotals, type UsageTotals, ZERO_TOTALS } from "../model/usage/totals";

/** A clear INVALID_ARGUMENT for a month key that is not "YYYY-MM". */
export function requireMonth(month: string): void {
  if (!isMonth(month)) fail("INVALID_ARGUMENT", `month must look like 2026-11; got '${month}'.`);
}

/** The user's balance document for the month, or null before its first request. */
export async function balanceDoc(ctx: QueryCtx, userId: Id<"users">, month: string): Promise<Doc<"usageMonthly"> | null> {
  return await ctx.db
    .query("usageMonthly")
    .withIndex("by_userId_and_month", (q) => q.eq("userId", userId).eq("month", month))
    .unique();
}

function balanceOf(doc: Doc<"usageMonthly">): Balance {
  return { ...pickTotals(doc), holds: doc.holds, buckets: doc.buckets, alertedPercent: doc.alertedPercent };
}

/**
 * The balance the ledger decides on: the month's document, or, before the month's first
 * request, the previous month's live holds and buckets carried over (one more read, once a
 * month). Everything `begin` and `settle` need about the user's quota is on this one document.
 * `knownId`: the document it was before (the proxy remembers it), fetched by id and taken only
 * if it is still this user's and this month's; otherwise it is looked up.
 */
export async function openBalance(
  ctx: QueryCtx,
  userId: Id<"users">,
  month: string,
  now: number,
  knownId?: Id<"usageMonthly">,
): Promise<{ doc: Doc<"usageMonthly"> | null; balance: Balance }> {
  const known = knownId === undefined ? null : await ctx.db.get("usageMonthly", knownId);
  const doc = known !== null && known.userId === userId && known.month === month ? known : await balanceDoc(ctx, userId, month);
  if (doc !== null) return { doc, balance: balanceOf(doc) };
  const previous = await balanceDoc(ctx, userId, shiftMonth(month, -1));
  return { doc: null, balance: carryOver(previous === null ? null : balanceOf(previous), now) };
}

/** A balance document as the ledger decides on it (the document itself, already read). */
export function openedFrom(doc: Doc<"usageMonthly">): { doc: Doc<"usageMonthly">; balance: Balance } {
  return { doc, balance: balanceOf(doc) };
}

/** Writes the balance back: one insert or one patch of the user's month document, whose id it returns. */
export async function saveBalance(
  ctx: MutationCtx,
  opened: { doc: Doc<"usageMonthly"> | null },
  key: { userId: Id<"users">; month: string },
  balance: Balance,
): Promise<Id<"usageMonthly">> {
  const fields = { ...balance, holdsExpireAt: nextHoldExpiry(balance.holds) };
  if (opened.doc === null) return await ctx.db.insert("usageMonthly", { ...key, ...fields });
  await ctx.db.patch("usageMonthly", opened.doc._id, fields);
  return opened.doc._id;
}

export type SettledEvent = Omit<WithoutSystemFields<Doc<"usageEvents">>, "quotaThresholds">;

/**
 * The ledger's record of one settled request: its usage added to the balance of the event's
 * month (its hold released, by requestId), and the append-only event. Thresholds of the
 * included tokens this usage crossed are stamped on the event for the rollup to alert on.
 * Reads the user and one balance (two at a month's first request); writes two documents.
 * `read`: the event's month's balance, when the caller has already read it.
 */
export async function recordUsage(
  ctx: MutationCtx,
  event: SettledEvent,
  now: number,
  read?: { doc: Doc<"usageMonthly">; balance: Balance },
): Promise<Id<"usageEvents">> {
  const user = await ctx.db.get("users", event.userId);
  const month = monthOf(event.at);
  if (read !== undefined && (read.doc.userId !== event.userId || read.doc.month !== month)) {
    throw new Error(`recordUsage: the balance given is another account's or month's (${read.doc.month}), not ${month}.`);
  }
  const opened = read ?? await openBalance(ctx, event.userId, month, now);
  const plan = getPlan(user?.plan ?? "trial");
  const settled = settleUsage(opened.balance, { plan, requestId: event.requestId, usage: event, now });
  // An account deleted mid-request still gets its event; it has no plan to alert against.
  const crossed = user === null ? [] : settled.crossed;
  await saveBalance(ctx, opened, { userId: event.userId, month }, settled.balance);
  return await ctx.db.insert("usageEvents", { ...event, ...(crossed.length > 0 ? { quotaThresholds: crossed } : {}) });
}

/** The month's consumption: the balance's totals (exact and live; zero before any request). */
export async function monthTotals(ctx: QueryCtx, userId: Id<"users">, month: string): Promise<{ totals: UsageTotals }> {
  const doc = await balanceDoc(ctx, userId, month);
  return { totals: doc === null ? ZERO_TOTALS : pickTotals(doc) };
}

/**
 * Quota held by requests in flight, by ONE rule everywhere: a hold counts while
 * expiresAt > now, and only on the current month's balance (holds in flight at a month's end
 * move to the next month's balance with its first request).
 */
export function heldOn(doc: Doc<"usageMonthly"> | null, month: string, now: number): number {
  if (doc === null || monthOf(now) !== month) return 0;
  return heldTokens(doc.holds, now);
}

export async function summaryFor(ctx: QueryCtx, user: Doc<"users">, month: string, now: number): Promise<UsageSummary> {
  const doc = await balanceDoc(ctx, user._id, month);
  const totals = doc === null ? ZERO_TOTALS : pickTotals(doc);
  return summarize(month, getPlan(user.plan), totals, heldOn(doc, month, now));
}

/**
 * The month by day and model: the rollup's usageDaily rows plus the user's events after the
 * highest cursor among those rows (the rollup folds events in time order for all users at
 * once, so every event of this user up to that cursor is in a row, and none after it). Reads
 * O(days x models) rows plus the events of the last rollup period, not every event of the month.
 */
export async function monthByDayAndModel(ctx: QueryCtx, userId: Id<"users">, month: string): Promise<DayModelTotals[]> {
  const { start, end } = monthRange(month);
  const rolled = await ctx.db
    .query("usageDaily")
    .withIndex("by_userId_and_day_and_model", (q) =>
      q.eq("userId", userId).gte("day", `${month}-01`).lte("day", `${month}-31`),
    )
    .collect();
  const after = rolled.reduce((c, r) => Math.max(c, r.rolledUpThrough), start - 1);
  const tail = await ctx.db
    .query("usageEvents")
    .withIndex("by_userId_and_at", (q) => q.eq("userId", userId).gt("at", after).lt("at", end))
    .collect();
  return byDayAndModel(rolled, tail.map((e) => ({ ...e, day: dayOf(e.at) })));
}
