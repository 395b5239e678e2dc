// The quota ledger: hold before the upstream call, settle after it.
//
// `begin` is ONE mutation that authenticates the key, checks the account and the model,
// applies the per-plan rate limits and concurrency, and places a hold sized to the most the
// request can consume; a refusal is returned as a reason (model/quota/admission.ts), never as
// HTTP. `settle` is ONE mutation that records the provider-reported (or, for a broken stream,
// estimated) usage as an append-only usageEvents row and deletes the hold. Why concurrent
// requests cannot overspend, and the residual bound: docs/proxy.md ("Concurrency").
import { type ObjectType, v } from "convex/values";
import { MINUTE, RateLimiter } from "@convex-dev/rate-limiter";
import { components } from "../_generated/api";
import type { MutationCtx } from "../_generated/server";
import { internalMutation } from "../functions";
import { authenticateKeyHash } from "../lib/apiKeys";
import { heldTokensOf, liveHolds, monthTotals } from "../lib/usageTotals";
import { monthOf, monthRange } from "../model/calendar";
import { getPlan, type Plan } from "../model/plans";
import { PRICE_VERSION, speechCostMicros, tokenCostMicros } from "../model/pricing";
import { type Refusal, sizeRequest } from "../model/quota/admission";
import { admit, HOLD_TTL_MS } from "../model/quota/holds";
import { quotaUnits } from "../model/usage/totals";
import schema from "../schema";
import { refusalValidator, usageKindValidator } from "../schema/validators";

const rateLimiter = new RateLimiter(components.rateLimiter);

/** Token buckets per user; the plan decides the rate, so a plan change applies at once. */
function requestLimit(plan: Plan) {
  return { kind: "token bucket" as const, rate: plan.limits.requestsPerMinute, period: MINUTE };
}
function tokenLimit(plan: Plan) {
  return { kind: "token bucket" as const, rate: plan.limits.tokensPerMinute, period: MINUTE };
}

const rateValidator = v.object({
  limitRequests: v.number(),
  remainingRequests: v.number(),
  limitTokens: v.number(),
  remainingTokens: v.number(),
});
type RateSnapshot = typeof rateValidator.type;

/** Current bucket levels for the x-ratelimit-* headers (reads only). */
async function rateSnapshot(ctx: MutationCtx, key: string, plan: Plan): Promise<RateSnapshot> {
  const [requests, tokens] = await Promise.all([
    rateLimiter.getValue(ctx, "proxyRequests", { key, config: requestLimit(plan) }),
    rateLimiter.getValue(ctx, "proxyTokens", { key, config: tokenLimit(plan) }),
  ]);
  return {
    limitRequests: plan.limits.requestsPerMinute,
    remainingRequests: Math.max(0, Math.floor(requests.value)),
    limitTokens: plan.limits.tokensPerMinute,
    remainingTokens: Math.max(0, Math.floor(tokens.value)),
  };
}

const beginArgs = {
  keyHash: v.string(),
  ip: v.optional(v.string()),
  requestId: v.string(),
  kind: usageKindValidator,
  model: v.string(),
  /** Upper bound of the provider's prompt count (0 for speech). */
  promptTokens: v.number(),
  /** max_completion_tokens / max_tokens as sent, or null (chat only). */
  requestedMaxOutput: v.union(v.number(), v.null()),
  choices: v.number(),
  /** Characters billed for speech. */
  characters: v.number(),
};

const beginResult = v.union(
  v.object({
    ok: v.literal(true),
    userId: v.id("users"),
    apiKeyId: v.id("apiKeys"),
    holdTokens: v.number(),
    maxOutputTokens: v.number(),
    rate: rateValidator,
  }),
  v.object({
    ok: v.literal(false),
    refusal: refusalValidator,
    /** Rate-limit state for the x-ratelimit-* headers of a 429. */
    rate: v.optional(rateValidator),
  }),
);
type BeginResult = typeof beginResult.type;

async function beginHandler(ctx: MutationCtx, args: ObjectType<typeof beginArgs>): Promise<BeginResult> {
  const now = Date.now();
  const auth = await authenticateKeyHash(ctx, args.keyHash, args.ip, now);
  if (!auth.ok) {
    const { ok: _ok, ...refusal } = auth;
    return { ok: false, refusal };
  }
  const { user, key } = auth;
  const sized = sizeRequest(user, args);
  const plan = getPlan(user.plan);
  const rateKey = user._id as string;
  // 429s carry the buckets' state; other refusals do not touch them.
  const refuse = async (refusal: Refusal, withRate: boolean): Promise<BeginResult> =>
    withRate ? { ok: false, refusal, rate: await rateSnapshot(ctx, rateKey, plan) } : { ok: false, refusal };
  if (!sized.ok) return await refuse(sized.refusal, sized.refusal.reason === "request_too_large");
  const hold = sized.holdTokens;

  const holds = await liveHolds(ctx, user._id, now);
  const month = monthOf(now);
  const { totals } = await monthTotals(ctx, user._id, month);
  const decision = admit({
    plan,
    usedTokens: quotaUnits(totals),
    heldTokens: heldTokensOf(holds),
    liveHolds: holds.length,
    newHoldTokens: hold,
  });
  if (!decision.ok && decision.reason === "concurrency") {
    return await refuse({ reason: "concurrency_limit", plan: plan.id }, true);
  }
  if (!decision.ok) {
    return await refuse({
      reason: "quota_exhausted",
      plan: plan.id,
      holdTokens: hold,
      remainingTokens: decision.remaining,
      resetsAt: monthRange(month).end,
    }, true);
  }

  // Consume the request bucket first: a request refused for tokens per minute still counts
  // as a request, as it does at OpenAI; a request refused for requests takes no tokens.
  const requests = await rateLimiter.limit(ctx, "proxyRequests", { key: rateKey, config: requestLimit(plan) });
  const tokens = requests.ok
    ? await rateLimiter.limit(ctx, "proxyTokens", { key: rateKey, count: hold, config: tokenLimit(plan) })
    : null;
  if (!requests.ok || !tokens?.ok) {
    return await refuse({
      reason: "rate_limited",
      plan: plan.id,
      limit: requests.ok ? "tokens" : "requests",
      retryAfterMs: requests.retryAfter ?? tokens?.retryAfter ?? 0,
    }, true);
  }
  const rate = await rateSnapshot(ctx, rateKey, plan);

  await ctx.db.insert("quotaHolds", {
    userId: user._id,
    apiKeyId: key._id,
    requestId: args.requestId,
    tokens: hold,
    expiresAt: now + HOLD_TTL_MS,
    createdAt: now,
  });
  return { ok: true, userId: user._id, apiKeyId: key._id, holdTokens: hold, maxOutputTokens: sized.maxOutputTokens, rate };
}

export const begin = internalMutation({ args: beginArgs, returns: beginResult, handler: beginHandler });

// What settle records is exactly a usage event's own fields, less those it derives itself.
const eventFields = schema.tables.usageEvents.validator.fields;
const settleArgs = {
  requestId: eventFields.requestId,
  userId: eventFields.userId,
  apiKeyId: eventFields.apiKeyId,
  instanceId: eventFields.instanceId,
  kind: eventFields.kind,
  provider: eventFields.provider,
  model: eventFields.model,
  tokensIn: eventFields.tokensIn,
  cachedTokensIn: v.number(),
  /** Part of tokensIn written to the provider's prompt cache (Anthropic), billed at its cache-write rate. */
  cacheWriteTokensIn: v.optional(v.number()),
  tokensOut: eventFields.tokensOut,
  characters: eventFields.characters,
  usageSource: eventFields.usageSource,
  status: eventFields.status,
  httpStatus: eventFields.httpStatus,
  latencyMs: eventFields.latencyMs,
};

async function settleHandler(ctx: MutationCtx, args: ObjectType<typeof settleArgs>) {
  // Idempotent: a retried settle must not bill twice.
  const existing = await ctx.db
    .query("usageEvents")
    .withIndex("by_requestId", (q) => q.eq("requestId", args.requestId))
    .unique();
  if (existing !== null) return { costMicros: existing.costMicros, eventId: existing._id };

  // Throws for an unpriced model: begin refused those, so reaching here is a bug, and a
  // zero-cost row must never be written in its place.
  const costMicros = args.kind === "speech"
    ? speechCostMicros(args.model, args.characters)
    : tokenCostMicros(args.model, {
        tokensIn: args.tokensIn,
        cachedTokensIn: args.cachedTokensIn,
        cacheWriteTokensIn: args.cacheWriteTokensIn,
        tokensOut: args.tokensOut,
      });

  const hold = await ctx.db
    .query("quotaHolds")
    .withIndex("by_requestId", (q) => q.eq("requestId", args.requestId))
    .unique();
  if (hold !== null) await ctx.db.delete("quotaHolds", hold._id);

  const { cachedTokensIn: _cached, cacheWriteTokensIn: _written, ...event } = args;
  const eventId = await ctx.db.insert("usageEvents", {
    ...event,
    costMicros,
    priceVersion: PRICE_VERSION,
    latencyMs: Math.max(0, Math.round(args.latencyMs)),
    at: Date.now(),
  });
  return { costMicros, eventId };
}

export const settle = internalMutation({
  args: settleArgs,
  returns: v.object({ costMicros: v.number(), eventId: v.id("usageEvents") }),
  handler: settleHandler,
});

/** Cron: holds of requests that crashed or hung past their TTL are removed (they already stopped counting). */
export const deleteExpiredHolds = internalMutation({
  args: {},
  returns: v.number(),
  handler: async (ctx) => {
    const now = Date.now();
    const expired = await ctx.db
      .query("quotaHolds")
      .withIndex("by_expiresAt", (q) => q.lte("expiresAt", now))
      .take(1000);
    for (const h of expired) await ctx.db.delete("quotaHolds", h._id);
    return expired.length;
  },
});
