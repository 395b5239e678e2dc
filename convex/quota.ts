// The quota ledger: hold before the upstream call, settle after it.
//
// `begin` is ONE mutation that authenticates the key, checks the account and the model,
// applies the per-plan rate limits and concurrency, and places a hold sized to the most the
// request can consume. `settle` is ONE mutation that records the provider-reported (or, for a
// broken stream, estimated) usage as an append-only usageEvents row and deletes the hold.
//
// Why concurrent requests cannot overspend (real Convex, serializable OCC): `begin` reads the
// user's live holds (index range on quotaHolds by user), the month's rolled-up row and the
// user's events after its cursor (index range on usageEvents), then inserts a hold into the
// range it read. Two concurrent `begin`s for one user each write into the other's read set, so
// one of them fails validation and re-runs, seeing the other's hold. Placement is therefore
// serial per user and the invariant used + held <= hardCapTokens holds after every placement.
// Different users read and write disjoint index ranges and never conflict. A hold is an upper
// bound of what its request can consume (prompt upper bound + max output that the upstream is
// told to respect), so settling can only release quota, never add beyond the hold; the bound
// on overspend is therefore zero while the provider respects max tokens and counts no more
// prompt tokens than bytes (see docs/proxy.md for the residual cases).
import { v } from "convex/values";
import { MINUTE, RateLimiter } from "@convex-dev/rate-limiter";
import { components } from "./_generated/api";
import type { Doc, Id } from "./_generated/dataModel";
import type { MutationCtx, QueryCtx } from "./_generated/server";
import { internalMutation } from "./functions";
import { authenticateKeyHash } from "./apiKeys";
import { capabilities } from "./model/accountState";
import { getPlan, planAllowsModel, type Plan } from "./model/plans";
import { isPriced, priceOf, PRICE_VERSION, speechCostMicros, tokenCostMicros } from "./model/pricing";
import {
  admit,
  effectiveMaxOutput,
  HOLD_TTL_MS,
  holdTokens,
  monthOf,
  monthRange,
  quotaUnits,
} from "./model/quota";
import { sumEvents, ZERO_TOTALS, type UsageTotals } from "./model/usageMath";
import { usageKindValidator, usageSourceValidator, usageStatusValidator } from "./schema";

const rateLimiter = new RateLimiter(components.rateLimiter);

/** Token buckets per user; the plan decides the rate, so a plan change applies at once. */
function requestLimit(plan: Plan) {
  return { kind: "token bucket" as const, rate: plan.limits.requestsPerMinute, period: MINUTE };
}
function tokenLimit(plan: Plan) {
  return { kind: "token bucket" as const, rate: plan.limits.tokensPerMinute, period: MINUTE };
}

/** Current bucket levels for the x-ratelimit-* headers (reads only). */
async function rateSnapshot(ctx: MutationCtx, key: string, plan: Plan) {
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

/**
 * This month's consumption: the rolled-up row plus every event after its cursor. Reads
 * an index range of the user's events, which is what makes concurrent holds conflict.
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
  const base: UsageTotals =
    row === null
      ? ZERO_TOTALS
      : {
          tokensIn: row.tokensIn,
          tokensOut: row.tokensOut,
          characters: row.characters,
          costMicros: row.costMicros,
          requests: row.requests,
        };
  return { totals: sumEvents(base, tail), tail };
}

/** Holds whose request may still be running (expiresAt > now). */
export async function liveHolds(ctx: QueryCtx, userId: Id<"users">, now: number) {
  return await ctx.db
    .query("quotaHolds")
    .withIndex("by_userId_and_expiresAt", (q) => q.eq("userId", userId).gt("expiresAt", now))
    .collect();
}

const rateHeadersValidator = v.object({
  limitRequests: v.number(),
  remainingRequests: v.number(),
  limitTokens: v.number(),
  remainingTokens: v.number(),
});

const rejectionValidator = v.object({
  ok: v.literal(false),
  status: v.number(),
  type: v.string(),
  code: v.string(),
  param: v.union(v.string(), v.null()),
  message: v.string(),
  retryAfterSeconds: v.optional(v.number()),
  /** 429s that a retry cannot fix soon (quota spent, request larger than the bucket). */
  shouldRetry: v.optional(v.boolean()),
  /** Rate-limit state for the x-ratelimit-* headers of a 429. */
  rate: v.optional(rateHeadersValidator),
});

export type Rejection = typeof rejectionValidator.type;

function reject(
  status: number,
  type: string,
  code: string,
  message: string,
  extra: Partial<Pick<Rejection, "param" | "retryAfterSeconds" | "shouldRetry" | "rate">> = {},
): Rejection {
  return { ok: false, status, type, code, message, param: extra.param ?? null, ...extra };
}

const STATE_MESSAGES: Record<Doc<"users">["state"], string> = {
  pending: "Your account is not set up yet. Finish signing up in the Poindexter dashboard.",
  trial: "",
  active: "",
  past_due: "",
  suspended: "Your account is suspended. Contact Poindexter support.",
  canceled: "Your subscription is canceled. Choose a plan in the Poindexter dashboard to use the AI proxy again.",
};

export const begin = internalMutation({
  args: {
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
  },
  returns: v.union(
    v.object({
      ok: v.literal(true),
      userId: v.id("users"),
      apiKeyId: v.id("apiKeys"),
      holdTokens: v.number(),
      maxOutputTokens: v.number(),
      rate: rateHeadersValidator,
    }),
    rejectionValidator,
  ),
  handler: async (ctx, args) => {
    const now = Date.now();
    const auth = await authenticateKeyHash(ctx, args.keyHash, args.ip, now);
    if (!auth.ok) return reject(401, "invalid_request_error", "invalid_api_key", auth.message);
    const { user, key } = auth;
    if (!capabilities(user.state).useProxy) {
      return reject(403, "permission_error", "account_inactive", STATE_MESSAGES[user.state]);
    }
    if (!isPriced(args.model)) {
      return reject(404, "invalid_request_error", "model_not_found",
        `The model '${args.model}' does not exist or is not available through Poindexter.`, { param: "model" });
    }
    const price = priceOf(args.model);
    const expectedKind = args.kind === "completion" ? "chat" : args.kind;
    if (price.kind !== expectedKind) {
      return reject(400, "invalid_request_error", "model_not_supported",
        `The model '${args.model}' cannot be used with this endpoint.`, { param: "model" });
    }
    const plan = getPlan(user.plan);
    if (!planAllowsModel(plan.id, args.model)) {
      return reject(403, "permission_error", "model_not_in_plan",
        `Your ${plan.name} plan does not include '${args.model}'. Upgrade in the Poindexter dashboard.`, { param: "model" });
    }

    const maxOutputTokens = args.kind === "chat" || args.kind === "completion"
      ? effectiveMaxOutput(args.requestedMaxOutput, plan)
      : 0;
    const hold = args.kind === "speech"
      ? args.characters
      : holdTokens(args.promptTokens, maxOutputTokens, args.choices);

    const rateKey = user._id as string;
    if (hold > plan.limits.tokensPerMinute) {
      return reject(429, "tokens", "request_too_large",
        `This request may use up to ${hold} tokens, more than your ${plan.name} plan's ${plan.limits.tokensPerMinute} tokens per minute. Shorten the input or lower max_tokens.`,
        { shouldRetry: false, rate: await rateSnapshot(ctx, rateKey, plan) });
    }

    const holds = await liveHolds(ctx, user._id, now);
    const month = monthOf(now);
    const { totals } = await monthTotals(ctx, user._id, month);
    const decision = admit({
      plan,
      usedTokens: quotaUnits(totals),
      heldTokens: holds.reduce((s, h) => s + h.tokens, 0),
      liveHolds: holds.length,
      newHoldTokens: hold,
    });
    if (!decision.ok && decision.reason === "concurrency") {
      return reject(429, "requests", "concurrency_limit_exceeded",
        `Your ${plan.name} plan allows ${decision.limit} requests at a time. Wait for one to finish.`,
        { retryAfterSeconds: 1, rate: await rateSnapshot(ctx, rateKey, plan) });
    }
    if (!decision.ok) {
      const resetsIn = Math.ceil((monthRange(month).end - now) / 1000);
      return reject(429, "insufficient_quota", "insufficient_quota",
        plan.overage === null
          ? `Your ${plan.name} plan's ${plan.hardCapTokens} tokens are used up (${decision.remaining} left, this request needs up to ${hold}). Choose a plan in the Poindexter dashboard.`
          : `This month's cap of ${plan.hardCapTokens} tokens is reached (${decision.remaining} left, this request needs up to ${hold}). Contact support to raise it.`,
        { retryAfterSeconds: resetsIn, shouldRetry: false, rate: await rateSnapshot(ctx, rateKey, plan) });
    }

    // Consume the request bucket first: a request refused for tokens per minute still counts
    // as a request, as it does at OpenAI; a request refused for requests takes no tokens.
    const requests = await rateLimiter.limit(ctx, "proxyRequests", { key: rateKey, config: requestLimit(plan) });
    const tokens = requests.ok
      ? await rateLimiter.limit(ctx, "proxyTokens", { key: rateKey, count: hold, config: tokenLimit(plan) })
      : null;
    if (!requests.ok || !tokens?.ok) {
      const retryAfterMs = requests.retryAfter ?? tokens?.retryAfter ?? 0;
      return reject(429, requests.ok ? "tokens" : "requests", "rate_limit_exceeded",
        requests.ok
          ? `Rate limit reached: ${plan.limits.tokensPerMinute} tokens per minute on the ${plan.name} plan.`
          : `Rate limit reached: ${plan.limits.requestsPerMinute} requests per minute on the ${plan.name} plan.`,
        { retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)), rate: await rateSnapshot(ctx, rateKey, plan) });
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
    return {
      ok: true as const,
      userId: user._id,
      apiKeyId: key._id,
      holdTokens: hold,
      maxOutputTokens,
      rate,
    };
  },
});

export const settle = internalMutation({
  args: {
    requestId: v.string(),
    userId: v.id("users"),
    apiKeyId: v.optional(v.id("apiKeys")),
    instanceId: v.optional(v.string()),
    kind: usageKindValidator,
    provider: v.string(),
    model: v.string(),
    tokensIn: v.number(),
    cachedTokensIn: v.number(),
    tokensOut: v.number(),
    characters: v.number(),
    usageSource: usageSourceValidator,
    status: usageStatusValidator,
    httpStatus: v.number(),
    latencyMs: v.number(),
  },
  returns: v.object({ costMicros: v.number(), eventId: v.id("usageEvents") }),
  handler: async (ctx, args) => {
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
          tokensOut: args.tokensOut,
        });

    const hold = await ctx.db
      .query("quotaHolds")
      .withIndex("by_requestId", (q) => q.eq("requestId", args.requestId))
      .unique();
    if (hold !== null) await ctx.db.delete(hold._id);

    const eventId = await ctx.db.insert("usageEvents", {
      userId: args.userId,
      apiKeyId: args.apiKeyId,
      instanceId: args.instanceId,
      requestId: args.requestId,
      kind: args.kind,
      provider: args.provider,
      model: args.model,
      tokensIn: args.tokensIn,
      tokensOut: args.tokensOut,
      characters: args.characters,
      costMicros,
      priceVersion: PRICE_VERSION,
      usageSource: args.usageSource,
      latencyMs: Math.max(0, Math.round(args.latencyMs)),
      status: args.status,
      httpStatus: args.httpStatus,
      at: Date.now(),
    });
    return { costMicros, eventId };
  },
});

/** Cron: holds of requests that crashed or hung past their TTL stop counting and are removed. */
export const expireHolds = internalMutation({
  args: {},
  returns: v.number(),
  handler: async (ctx: MutationCtx) => {
    const now = Date.now();
    const expired = await ctx.db
      .query("quotaHolds")
      .withIndex("by_expiresAt", (q) => q.lte("expiresAt", now))
      .take(1000);
    for (const h of expired) await ctx.db.delete(h._id);
    return expired.length;
  },
});
