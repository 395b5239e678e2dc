// GET /v1/usage (the month's summary with a per-model breakdown) and /v1/usage/remaining
// (live figures Dex can act on before sending a request).
import { v } from "convex/values";
import { httpAction } from "../_generated/server";
import type { ActionCtx } from "../_generated/server";
import { internal } from "../_generated/api";
import { pick } from "convex-helpers";
import { internalQuery } from "../functions";
import { requireAccount } from "../lib/accounts";
import { monthByDayAndModel, requireMonth, summaryFor } from "../lib/usageTotals";
import { isMonth, monthOf, monthRange } from "../model/calendar";
import { byModel } from "../model/usage/totals";
import schema from "../schema";
import { summaryValidator } from "../usage/meters";
import { authenticateCaller } from "../proxy/callers";
import { badRequest, jsonResponse, withOpenAiErrors } from "../proxy/respond";

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

function monthParam(request: Request): string | Response {
  const month = new URL(request.url).searchParams.get("month") ?? monthOf(Date.now());
  return isMonth(month) ? month : badRequest("'month' must look like 2026-11.", "month");
}

async function usageReportHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  const auth = await authenticateCaller(ctx, request);
  if (!auth.ok) return auth.response;
  const month = monthParam(request);
  if (month instanceof Response) return month;
  const report = await ctx.runQuery(internal.dexApi.usage.monthReport, { userId: auth.caller.userId, month });
  return jsonResponse(200, { ...report.summary, models: report.models });
}

async function usageRemainingHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  const auth = await authenticateCaller(ctx, request);
  if (!auth.ok) return auth.response;
  const month = monthParam(request);
  if (month instanceof Response) return month;
  return jsonResponse(200, await ctx.runQuery(internal.dexApi.usage.remaining, { userId: auth.caller.userId, month }));
}

export const usageReport = httpAction(withOpenAiErrors(usageReportHandler));
export const usageRemaining = httpAction(withOpenAiErrors(usageRemainingHandler));
