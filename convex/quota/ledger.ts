// The quota ledger: hold before the upstream call, settle after it.
//
// Both halves work on ONE balance document per user and month (usageMonthly,
// model/quota/balance.ts). `begin` is ONE mutation that authenticates the caller (an API key,
// or an OAuth access token with the `ai` scope: lib/callerAuth.ts), checks the
// account and the model, and on the balance checks concurrency and quota against the live
// holds, takes from the per-minute request and token buckets, and places a hold sized to the
// most the request can consume; a refusal is returned as a reason (model/quota/admission.ts),
// never as HTTP. `settle` is ONE mutation that adds the provider-reported (or, for a broken
// stream, estimated) usage to the balance, releases the hold and appends the usageEvents row.
// Documents read and written per request are constant, whatever the history or the request
// rate; why concurrent requests cannot overspend: docs/proxy.md ("Concurrency").
import { type ObjectType, v } from "convex/values";
import type { MutationCtx } from "../_generated/server";
import { internalMutation } from "../functions";
import { AI_SCOPE, authenticateBearer, secretKindValidator } from "../lib/callerAuth";
import { openBalance, openedFrom, recordUsage, saveBalance } from "../lib/usageTotals";
import { monthOf, monthRange } from "../model/calendar";
import { getPlan } from "../model/plans";
import { PRICE_VERSION, speechCostMicros, tokenCostMicros } from "../model/pricing";
import { sizeRequest } from "../model/quota/admission";
import { liveHolds, nextHoldExpiry, placeHold, rateSnapshot } from "../model/quota/balance";
import { HOLD_TTL_MS } from "../model/quota/holds";
import schema from "../schema";
import { refusalValidator } from "../schema/validators";

/** The kinds of request the proxy meters (model/quota/admission.ts UsageKind); other usage kinds are not held or priced here. */
const proxyKindValidator = v.union(v.literal("chat"), v.literal("completion"), v.literal("embedding"), v.literal("speech"));

const rateValidator = v.object({
  limitRequests: v.number(),
  remainingRequests: v.number(),
  limitTokens: v.number(),
  remainingTokens: v.number(),
});

const beginArgs = {
  /**
   * The Bearer secret's hash: an API key's SHA-256, or an access token's keyed hash
   * (model/oauth/secrets.ts), or for a provider credential or session token
   * `<lookupId>.<presented hash>` (model/credentials/tokens.ts).
   */
  keyHash: v.string(),
  /** Which of the two the hash is of (proxy/request.ts decides by the secret's prefix); a key when absent. */
  secretKind: v.optional(secretKindValidator),
  ip: v.optional(v.string()),
  requestId: v.string(),
  kind: proxyKindValidator,
  model: v.string(),
  /** Upper bound of the provider's prompt count (0 for speech). */
  promptTokens: v.number(),
  /** max_completion_tokens / max_tokens as sent, or null (chat only). */
  requestedMaxOutput: v.union(v.number(), v.null()),
  choices: v.number(),
  /** Characters billed for speech. */
  characters: v.number(),
  /**
   * What this secret's previous request resolved to (its result's `apiKeyId` and `heldOn`, which
   * the proxy remembers): fetched by id and used only if they still match, else looked up.
   */
  knownKeyId: v.optional(v.id("apiKeys")),
  knownBalanceId: v.optional(v.id("usageMonthly")),
};

const beginResult = v.union(
  v.object({
    ok: v.literal(true),
    userId: v.id("users"),
    /** The key, for a key's request. */
    apiKeyId: v.optional(v.id("apiKeys")),
    /** The grant and its instance, for an access token's request. */
    grantId: v.optional(v.id("oauthGrants")),
    instanceId: v.optional(v.string()),
    /** For a rotating provider credential: when it stops working (the answer tells its holder to refresh). */
    credentialRotatingUntil: v.optional(v.number()),
    holdTokens: v.number(),
    maxOutputTokens: v.number(),
    rate: rateValidator,
    /** Where the hold was placed: the balance document and its month (settle's `heldOn`). */
    heldOn: v.object({ balanceId: v.id("usageMonthly"), month: v.string() }),
  }),
  v.object({
    ok: v.literal(false),
    refusal: refusalValidator,
    /** Rate-limit state for the x-ratelimit-* headers of a 429. */
    rate: v.optional(rateValidator),
  }),
);
type BeginResult = typeof beginResult.type;

export async function beginHandler(ctx: MutationCtx, args: ObjectType<typeof beginArgs>): Promise<BeginResult> {
  const now = Date.now();
  const auth = await authenticateBearer(ctx, {
    hash: args.keyHash,
    kind: args.secretKind ?? "api_key",
    ip: args.ip,
    now,
    scope: AI_SCOPE,
    // A provider credential's scopes are checked against the request's model and endpoint.
    request: { model: args.model, kind: args.kind },
    knownKeyId: args.knownKeyId,
  });
  if (!auth.ok) return auth;
  const { user } = auth;
  const plan = getPlan(user.plan);
  const month = monthOf(now);
  const sized = sizeRequest(user, args);
  if (!sized.ok) {
    if (sized.refusal.reason !== "request_too_large") return { ok: false, refusal: sized.refusal };
    // A 429 carries the buckets' state, so the balance is read for it (nothing is written).
    const { balance } = await openBalance(ctx, user._id, month, now, args.knownBalanceId);
    return { ok: false, refusal: sized.refusal, rate: rateSnapshot(balance.buckets, plan, now) };
  }

  const opened = await openBalance(ctx, user._id, month, now, args.knownBalanceId);
  const placed = placeHold(opened.balance, { plan, requestId: args.requestId, tokens: sized.holdTokens, now, ttlMs: HOLD_TTL_MS });
  if (!placed.ok) {
    // A request refused for tokens per minute still took one from the request bucket.
    if (placed.balance !== null) await saveBalance(ctx, opened, { userId: user._id, month }, placed.balance);
    const r = placed.refusal;
    const refusal = r.reason === "concurrency"
      ? { reason: "concurrency_limit" as const, plan: plan.id }
      : r.reason === "quota"
        ? {
            reason: "quota_exhausted" as const,
            plan: plan.id,
            holdTokens: sized.holdTokens,
            remainingTokens: r.remaining,
            resetsAt: monthRange(month).end,
          }
        : { reason: "rate_limited" as const, plan: plan.id, limit: r.limit, retryAfterMs: r.retryAfterMs };
    return { ok: false, refusal, rate: placed.rate };
  }
  const balanceId = await saveBalance(ctx, opened, { userId: user._id, month }, placed.balance);
  return {
    ok: true,
    userId: user._id,
    ...(auth.apiKeyId !== undefined ? { apiKeyId: auth.apiKeyId } : {}),
    ...(auth.grantId !== undefined ? { grantId: auth.grantId, instanceId: auth.instanceId } : {}),
    ...(auth.credentialRotatingUntil !== undefined ? { credentialRotatingUntil: auth.credentialRotatingUntil } : {}),
    holdTokens: sized.holdTokens,
    maxOutputTokens: sized.maxOutputTokens,
    rate: placed.rate,
    heldOn: { balanceId, month },
  };
}

export const begin = internalMutation({ args: beginArgs, returns: beginResult, handler: beginHandler });

// What settle records is exactly a usage event's own fields, less those it derives itself.
const eventFields = schema.tables.usageEvents.validator.fields;
const settleArgs = {
  requestId: eventFields.requestId,
  userId: eventFields.userId,
  apiKeyId: eventFields.apiKeyId,
  instanceId: eventFields.instanceId,
  kind: proxyKindValidator,
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
  /** The client IP's HMAC (signup/limits.ts hashClientIp), for the anomaly rules. */
  ipHash: eventFields.ipHash,
  /** Time to the upstream's headers, for requests whose headers come at once. */
  ttfbMs: eventFields.ttfbMs,
  /** Where begin placed the request's hold (its `heldOn`); without it, the balance is looked up. */
  heldOn: v.optional(v.object({ balanceId: v.id("usageMonthly"), month: v.string() })),
};

export async function settleHandler(ctx: MutationCtx, args: ObjectType<typeof settleArgs>) {
  const now = Date.now();
  // Idempotent: a retried settle must not bill twice. The hold still on the balance begin put
  // it on proves the request unsettled (settle removes it in the transaction that records the
  // event, and request ids are never reused), so the usual case reads that one document by id
  // instead of searching the events. Only while that balance is the current month's: a request
  // settled in a later month is recorded on that month's balance, and its hold stays on the
  // old one (where it no longer counts) for a retry to find.
  const { heldOn, ...settled } = args;
  const month = monthOf(now);
  let held: ReturnType<typeof openedFrom> | undefined;
  if (heldOn?.month === month) {
    const doc = await ctx.db.get("usageMonthly", heldOn.balanceId);
    if (doc?.userId === args.userId && doc.month === month && doc.holds.some((h) => h.requestId === args.requestId)) {
      held = openedFrom(doc);
    }
  }
  if (held === undefined) {
    const existing = await ctx.db
      .query("usageEvents")
      .withIndex("by_requestId", (q) => q.eq("requestId", args.requestId))
      .unique();
    if (existing !== null) return { costMicros: existing.costMicros, eventId: existing._id };
  }

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

  const { cachedTokensIn: _cached, cacheWriteTokensIn: _written, ...event } = settled;
  const eventId = await recordUsage(ctx, {
    ...event,
    costMicros,
    priceVersion: PRICE_VERSION,
    latencyMs: Math.max(0, Math.round(args.latencyMs)),
    at: now,
  }, now, held);
  return { costMicros, eventId };
}

export const settle = internalMutation({
  args: settleArgs,
  returns: v.object({ costMicros: v.number(), eventId: v.id("usageEvents") }),
  handler: settleHandler,
});

/** Balances swept per run; a backlog continues in the next run a minute later. */
const SWEEP_BATCH = 200;

/**
 * Cron: removes expired holds from the balances that carry one (found through
 * by_holdsExpireAt, never by scanning balances). Admission never needs it (an expired hold
 * stops counting at its expiresAt); it keeps stored balances tidy and re-runs the cached
 * meters that still show such a hold.
 */
export const deleteExpiredHolds = internalMutation({
  args: {},
  returns: v.number(),
  handler: async (ctx) => {
    const now = Date.now();
    const due = await ctx.db
      .query("usageMonthly")
      .withIndex("by_holdsExpireAt", (q) => q.gte("holdsExpireAt", 0).lte("holdsExpireAt", now))
      .take(SWEEP_BATCH);
    let removed = 0;
    for (const doc of due) {
      const holds = liveHolds(doc.holds, now);
      removed += doc.holds.length - holds.length;
      await ctx.db.patch("usageMonthly", doc._id, { holds, holdsExpireAt: nextHoldExpiry(holds) });
    }
    return removed;
  },
});
