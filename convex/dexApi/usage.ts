// GET /v1/usage (the month's summary with a per-model breakdown and the Dex API's operations by
// kind) and /v1/usage/remaining (live figures Dex can act on before sending a request); scope `usage`.
import { v } from "convex/values";
import type { ActionCtx } from "../_generated/server";
import { internal } from "../_generated/api";
import { pick } from "convex-helpers";
import { internalQuery } from "../functions";
import { requireAccount } from "../lib/accounts";
import { monthByDayAndModel, requireMonth, summaryFor } from "../lib/usageTotals";
import { monthOf, monthRange } from "../model/calendar";
import { byModel } from "../model/usage/totals";
import schema from "../schema";
import { summaryValidator } from "../usage/meters";
import { splitOperations } from "../model/dexApi/usage";
import { jsonResponse } from "../proxy/respond";
import { type Call, dexEndpoint } from "./endpoint";

// A month's usage of one model: the same counters as a usageDaily row.
const modelRowValidator = v.object(
  pick(schema.tables.usageDaily.validator.fields, ["model", "requests", "tokensIn", "tokensOut", "characters", "costMicros"]),
);

export const monthReport = internalQuery({
  args: { userId: v.id("users"), month: v.string() },
  returns: v.object({ summary: summaryValidator, models: v.array(modelRowValidator) }),
  handler: async (ctx, { userId, month }) => {
    const user = await requireAccount(ctx, userId);
    requireMonth(month);
    return {
      summary: await summaryFor(ctx, user, month, Date.now()),
      models: byModel(await monthByDayAndModel(ctx, userId, month)),
    };
  },
});

export const remaining = internalQuery({
  args: { userId: v.id("users"), month: v.string() },
  returns: v.object({
    month: v.string(),
    plan: summaryValidator.fields.plan,
    includedTokens: v.number(),
    hardCapTokens: v.number(),
    usedTokens: v.number(),
    heldTokens: v.number(),
    remainingIncluded: v.number(),
    remainingTokens: v.number(),
    resetsAt: v.number(),
  }),
  handler: async (ctx, { userId, month }) => {
    const user = await requireAccount(ctx, userId);
    requireMonth(month);
    const s = await summaryFor(ctx, user, month, Date.now());
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

type MonthQuery = { month?: string };

async function usageReportHandler(ctx: ActionCtx, call: Call<MonthQuery>): Promise<Response> {
  const month = call.query.month ?? monthOf(Date.now());
  const report = await ctx.runQuery(internal.dexApi.usage.monthReport, { userId: call.principal.userId, month });
  // Dex API operations are counted under `dex:<kind>` models (dexApi/record.ts): shown apart.
  const { models, operations } = splitOperations(report.models);
  return jsonResponse(200, { ...report.summary, models, operations });
}

async function usageRemainingHandler(ctx: ActionCtx, call: Call<MonthQuery>): Promise<Response> {
  const month = call.query.month ?? monthOf(Date.now());
  return jsonResponse(200, await ctx.runQuery(internal.dexApi.usage.remaining, { userId: call.principal.userId, month }));
}

export const usageReport = dexEndpoint("getUsage", usageReportHandler);
export const usageRemaining = dexEndpoint("getUsageRemaining", usageRemainingHandler);
