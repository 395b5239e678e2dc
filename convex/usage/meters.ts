// The customer's live usage meters: this month's summary, the daily chart by model, and the
// latest requests. The summary reads the month's balance document, which the ledger keeps
// exact; the chart reads the rollup's usageDaily rows plus the few events after their cursor
// (lib/usageTotals.ts). None reads a range that grows with the account's history.
import { v } from "convex/values";
import { userQuery } from "../functions";
import { monthByDayAndModel, requireMonth, summaryFor } from "../lib/usageTotals";
import { quotaUnits } from "../model/usage/totals";
import { pick } from "convex-helpers";
import { doc } from "convex-helpers/validators";
import schema from "../schema";
import { planValidator } from "../schema/validators";

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

/** This month (or any) so far, exact: the ledger's balance for the month. */
export const summary = userQuery({
  args: { month: v.string() },
  returns: summaryValidator,
  handler: async (ctx, { month }) => {
    requireMonth(month);
    return await summaryFor(ctx, ctx.user, month, Date.now());
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

const RECENT_FIELDS = [
  "_id", "at", "model", "kind", "tokensIn", "tokensOut", "characters", "costMicros", "status", "usageSource",
  "latencyMs", "httpStatus",
] as const;
const recentValidator = v.object({
  ...pick(doc(schema, "usageEvents").fields, [...RECENT_FIELDS]),
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
      if (e.apiKeyId && !prefixes.has(e.apiKeyId)) prefixes.set(e.apiKeyId, (await ctx.db.get("apiKeys", e.apiKeyId))?.prefix);
    }
    return events.map((e) => ({
      ...pick(e, [...RECENT_FIELDS]),
      keyPrefix: e.apiKeyId ? prefixes.get(e.apiKeyId) : undefined,
    }));
  },
});
