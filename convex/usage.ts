// Usage for the dashboard and for Dex: live monthly summaries, daily series, recent requests,
// and the rollup job that folds events into usageMonthly.
//
// No document is written by every request: the proxy only appends usageEvents. usageMonthly
// rows are written by the rollup job alone (cron, every 10 s), which folds events with
// at <= cursor and advances each touched row's rolledUpThrough. Readers add the events after
// that cursor, so summaries are live without a hot counter.
import { v } from "convex/values";
import type { Doc, Id } from "./_generated/dataModel";
import type { MutationCtx, QueryCtx } from "./_generated/server";
import { internal } from "./_generated/api";
import { fail, internalMutation, internalQuery, userQuery } from "./functions";
import { getPlan } from "./model/plans";
import { dayOf, isMonth, monthOf, monthRange, quotaUnits } from "./model/quota";
import { summarize, thresholdsCrossed, type UsageSummary } from "./model/usageMath";
import { planValidator, usageKindValidator, usageSourceValidator, usageStatusValidator } from "./schema";
import { monthTotals } from "./quota";

/**
 * Events newer than this are left for the next run: an event's `at` is taken inside its
 * mutation, which may commit a little later than a rollup that already passed that time.
 */
export const ROLLUP_LAG_MS = 10_000;
const ROLLUP_BATCH = 1_000;
const ROLLUP_CURSOR = "usageMonthly";

export const summaryValidator = v.object({
  month: v.string(),
  plan: planValidator,
  includedTokens: v.number(),
  hardCapTokens: v.number(),
  tokensIn: v.number(),
  tokensOut: v.number(),
  totalTokens: v.number(),
  heldTokens: v.number(),
  remainingIncluded: v.number(),
  percentOfIncluded: v.number(),
  costMicros: v.number(),
  overageMicros: v.number(),
  requests: v.number(),
});

function requireMonth(month: string) {
  if (!isMonth(month)) fail("INVALID_ARGUMENT", `month must look like 2026-11; got '${month}'.`);
}

/**
 * Held tokens without reading the clock: every hold still present. Expired ones are
 * deleted by the minute cron, so this overstates by at most a minute of crashed requests.
 */
async function heldTokens(ctx: QueryCtx, userId: Id<"users">): Promise<number> {
  const holds = await ctx.db
    .query("quotaHolds")
    .withIndex("by_userId_and_expiresAt", (q) => q.eq("userId", userId))
    .collect();
  return holds.reduce((s, h) => s + h.tokens, 0);
}

export async function summaryFor(ctx: QueryCtx, user: Doc<"users">, month: string): Promise<UsageSummary> {
  const { totals } = await monthTotals(ctx, user._id, month);
  return summarize(month, getPlan(user.plan), totals, await heldTokens(ctx, user._id));
}

type DayModelRow = {
  day: string;
  model: string;
  tokensIn: number;
  tokensOut: number;
  characters: number;
  costMicros: number;
  requests: number;
};

/**
 * The month by day and model: the rolled-up usageDaily rows plus the events after the
 * month's rollup cursor (the same tail the live summary adds), so it is live and reads
 * O(days x models) rows rather than every event of the month.
 */
async function monthByDayAndModel(ctx: QueryCtx, userId: Id<"users">, month: string): Promise<DayModelRow[]> {
  const rolled = await ctx.db
    .query("usageDaily")
    .withIndex("by_userId_and_day_and_model", (q) =>
      q.eq("userId", userId).gte("day", `${month}-01`).lte("day", `${month}-31`),
    )
    .collect();
  const { tail } = await monthTotals(ctx, userId, month);
  const rows = new Map<string, DayModelRow>();
  for (const r of rolled) rows.set(`${r.day}|${r.model}`, { ...r });
  for (const e of tail) addToDayModel(rows, e);
  return [...rows.values()];
}

function addToDayModel(rows: Map<string, DayModelRow>, e: Doc<"usageEvents">) {
  const day = dayOf(e.at);
  const k = `${day}|${e.model}`;
  const row = rows.get(k) ?? { day, model: e.model, tokensIn: 0, tokensOut: 0, characters: 0, costMicros: 0, requests: 0 };
  row.tokensIn += e.tokensIn;
  row.tokensOut += e.tokensOut;
  row.characters += e.characters;
  row.costMicros += e.costMicros;
  row.requests += 1;
  rows.set(k, row);
}

/** This month (or any) so far, including events the rollup has not folded in yet. */
export const summary = userQuery({
  args: { month: v.string() },
  returns: summaryValidator,
  handler: async (ctx, { month }) => {
    requireMonth(month);
    return await summaryFor(ctx, ctx.user, month);
  },
});

const dailyRowValidator = v.object({ day: v.string(), model: v.string(), tokens: v.number(), costMicros: v.number() });

export const daily = userQuery({
  args: { month: v.string() },
  returns: v.array(dailyRowValidator),
  handler: async (ctx, { month }) => {
    requireMonth(month);
    const rows = await monthByDayAndModel(ctx, ctx.user._id, month);
    return rows
      .map((r) => ({ day: r.day, model: r.model, tokens: quotaUnits(r), costMicros: r.costMicros }))
      .sort((a, b) => a.day.localeCompare(b.day) || a.model.localeCompare(b.model));
  },
});

const recentValidator = v.object({
  _id: v.id("usageEvents"),
  at: v.number(),
  model: v.string(),
  kind: usageKindValidator,
  tokensIn: v.number(),
  tokensOut: v.number(),
  characters: v.number(),
  costMicros: v.number(),
  status: usageStatusValidator,
  usageSource: usageSourceValidator,
  latencyMs: v.number(),
  httpStatus: v.number(),
  keyPrefix: v.optional(v.string()),
});

export const recent = userQuery({
  args: { limit: v.optional(v.number()) },
  returns: v.array(recentValidator),
  handler: async (ctx, { limit }) => {
    const n = Math.max(1, Math.min(100, Math.floor(limit ?? 20)));
    const events = await ctx.db
      .query("usageEvents")
      .withIndex("by_userId_and_at", (q) => q.eq("userId", ctx.user._id))
      .order("desc")
      .take(n);
    const prefixes = new Map<string, string | undefined>();
    for (const e of events) {
      if (e.apiKeyId && !prefixes.has(e.apiKeyId)) prefixes.set(e.apiKeyId, (await ctx.db.get(e.apiKeyId))?.prefix);
    }
    return events.map((e) => ({
      _id: e._id,
      at: e.at,
      model: e.model,
      kind: e.kind,
      tokensIn: e.tokensIn,
      tokensOut: e.tokensOut,
      characters: e.characters,
      costMicros: e.costMicros,
      status: e.status,
      usageSource: e.usageSource,
      latencyMs: e.latencyMs,
      httpStatus: e.httpStatus,
      keyPrefix: e.apiKeyId ? prefixes.get(e.apiKeyId) : undefined,
    }));
  },
});

const modelRowValidator = v.object({
  model: v.string(),
  requests: v.number(),
  tokensIn: v.number(),
  tokensOut: v.number(),
  characters: v.number(),
  costMicros: v.number(),
});

/** For GET /v1/usage: the summary plus a per-model breakdown. */
export const reportForUser = internalQuery({
  args: { userId: v.id("users"), month: v.string() },
  returns: v.object({ summary: summaryValidator, models: v.array(modelRowValidator) }),
  handler: async (ctx, { userId, month }) => {
    const user = await ctx.db.get(userId);
    if (user === null) fail("NOT_FOUND", "This account no longer exists.");
    requireMonth(month);
    const models = new Map<string, typeof modelRowValidator.type>();
    for (const e of await monthByDayAndModel(ctx, userId, month)) {
      const row = models.get(e.model) ?? { model: e.model, requests: 0, tokensIn: 0, tokensOut: 0, characters: 0, costMicros: 0 };
      row.requests += e.requests;
      row.tokensIn += e.tokensIn;
      row.tokensOut += e.tokensOut;
      row.characters += e.characters;
      row.costMicros += e.costMicros;
      models.set(e.model, row);
    }
    return {
      summary: await summaryFor(ctx, user, month),
      models: [...models.values()].sort((a, b) => b.costMicros - a.costMicros),
    };
  },
});

/** For GET /v1/usage/remaining: live figures Dex can act on before sending a request. */
export const remainingForUser = internalQuery({
  args: { userId: v.id("users"), month: v.string() },
  returns: v.object({
    month: v.string(),
    plan: planValidator,
    includedTokens: v.number(),
    hardCapTokens: v.number(),
    usedTokens: v.number(),
    heldTokens: v.number(),
    remainingIncluded: v.number(),
    remainingTokens: v.number(),
    resetsAt: v.number(),
  }),
  handler: async (ctx, { userId, month }) => {
    const user = await ctx.db.get(userId);
    if (user === null) fail("NOT_FOUND", "This account no longer exists.");
    const s = await summaryFor(ctx, user, month);
    return {
      month,
      plan: s.plan,
      includedTokens: s.includedTokens,
      hardCapTokens: s.hardCapTokens,
      usedTokens: s.totalTokens,
      heldTokens: s.heldTokens,
      remainingIncluded: s.remainingIncluded,
      remainingTokens: Math.max(0, s.hardCapTokens - s.totalTokens - s.heldTokens),
      resetsAt: monthRange(month).end,
    };
  },
});

/**
 * The rollup job: folds events with cursor < at <= now - lag into usageMonthly, advances each
 * touched row's rolledUpThrough and the global cursor, and raises 80%/100% alerts once per
 * month. Reschedules itself while a backlog remains.
 */
export const rollup = internalMutation({
  args: {},
  returns: v.object({ events: v.number(), cursor: v.number() }),
  handler: async (ctx) => {
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
    else await ctx.db.patch(state._id, { cursor });
    if (more) await ctx.scheduler.runAfter(0, internal.usage.rollup, {});
    return { events: events.length, cursor };
  },
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
  const next = {
    tokensIn: (row?.tokensIn ?? 0) + events.reduce((s, e) => s + e.tokensIn, 0),
    tokensOut: (row?.tokensOut ?? 0) + events.reduce((s, e) => s + e.tokensOut, 0),
    characters: (row?.characters ?? 0) + events.reduce((s, e) => s + e.characters, 0),
    costMicros: (row?.costMicros ?? 0) + events.reduce((s, e) => s + e.costMicros, 0),
    requests: (row?.requests ?? 0) + events.length,
    rolledUpThrough: cursor,
  };
  let alertedPercent = row?.alertedPercent ?? 0;
  const user = await ctx.db.get(userId);
  if (user !== null) {
    const plan = getPlan(user.plan);
    const crossed = thresholdsCrossed(alertedPercent, quotaUnits(next), plan.includedTokens);
    const now = Date.now();
    for (const t of crossed) {
      await ctx.db.insert("alerts", {
        userId,
        kind: `quota_${t}`,
        severity: t >= 100 ? "critical" : "warning",
        message: t >= 100
          ? plan.overage === null
            ? `You have used all ${plan.includedTokens.toLocaleString("en-US")} tokens of your ${plan.name} plan for ${month}. Choose a plan to keep using the AI proxy.`
            : `You have used all ${plan.includedTokens.toLocaleString("en-US")} tokens included in your ${plan.name} plan for ${month}; further use is billed as overage.`
          : `You have used ${t}% of the ${plan.includedTokens.toLocaleString("en-US")} tokens included in your ${plan.name} plan for ${month}.`,
        at: now,
      });
    }
    if (crossed.length > 0) alertedPercent = Math.max(...crossed);
  }
  if (row === null) await ctx.db.insert("usageMonthly", { userId, month, ...next, alertedPercent });
  else await ctx.db.patch(row._id, { ...next, alertedPercent });
  await foldDaily(ctx, userId, events);
}

/** Adds the batch to the user's usageDaily rows (one upsert per day and model touched). */
async function foldDaily(ctx: MutationCtx, userId: Id<"users">, events: Doc<"usageEvents">[]) {
  const batch = new Map<string, DayModelRow>();
  for (const e of events) addToDayModel(batch, e);
  for (const add of batch.values()) {
    const existing = await ctx.db
      .query("usageDaily")
      .withIndex("by_userId_and_day_and_model", (q) =>
        q.eq("userId", userId).eq("day", add.day).eq("model", add.model),
      )
      .unique();
    if (existing === null) {
      await ctx.db.insert("usageDaily", { userId, ...add });
    } else {
      await ctx.db.patch(existing._id, {
        tokensIn: existing.tokensIn + add.tokensIn,
        tokensOut: existing.tokensOut + add.tokensOut,
        characters: existing.characters + add.characters,
        costMicros: existing.costMicros + add.costMicros,
        requests: existing.requests + add.requests,
      });
    }
  }
}
