// The metered proxy's ledger and the usage it records (docs/proxy.md).
import { defineTable } from "convex/server";
import { v } from "convex/values";
import { usageEventKindValidator, usageSourceValidator, usageStatusValidator } from "./validators";

export const usageTables = {
  // Append-only: one row per proxied request, never patched (history, charts, reconciliation).
  usageEvents: defineTable({
    userId: v.id("users"),
    apiKeyId: v.optional(v.id("apiKeys")),
    instanceId: v.optional(v.string()),
    requestId: v.string(),
    kind: usageEventKindValidator,
    provider: v.string(),
    model: v.string(),
    tokensIn: v.number(),
    tokensOut: v.number(),
    characters: v.number(),
    costMicros: v.number(),
    priceVersion: v.string(),
    usageSource: usageSourceValidator,
    latencyMs: v.number(),
    status: usageStatusValidator,
    httpStatus: v.number(),
    at: v.number(),
    // Included-token thresholds (80, 100) this request's usage crossed, decided by settle on
    // the balance; the rollup job raises their alerts, so settle writes no alert itself.
    quotaThresholds: v.optional(v.array(v.number())),
    // The client IP as the signup HMAC (signup/limits.ts hashClientIp), never the address: the
    // anomaly evaluator counts distinct addresses per key (ops/anomalies).
    ipHash: v.optional(v.string()),
    // Time to the upstream's response headers, for requests whose headers come at once
    // (streams, embeddings, speech): the latency alert's sample (model/ops/alerts.ts).
    ttfbMs: v.optional(v.number()),
  })
    .index("by_userId_and_at", ["userId", "at"])
    .index("by_requestId", ["requestId"])
    .index("by_at", ["at"]),

  // The quota balance of one user and month: the ledger's one document per user (docs/proxy.md,
  // "The balance document"). `begin` places holds and takes from the buckets here, `settle`
  // adds each request's usage and releases its hold, both in the same transaction as their
  // decision, so the totals are exact and live. Different users never share a document.
  usageMonthly: defineTable({
    userId: v.id("users"),
    month: v.string(), // "2026-11" (UTC)
    tokensIn: v.number(),
    tokensOut: v.number(),
    characters: v.number(),
    costMicros: v.number(),
    requests: v.number(),
    // Highest included-token threshold already alerted (0, 80, 100).
    alertedPercent: v.number(),
    // Requests in flight (at most the plan's concurrency live at once); each stops counting at
    // expiresAt, so a crashed request cannot block the account.
    holds: v.array(v.object({ requestId: v.string(), tokens: v.number(), expiresAt: v.number() })),
    // Earliest expiresAt among holds, absent without holds: the sweep's index.
    holdsExpireAt: v.optional(v.number()),
    // Per-minute token buckets (requests, tokens); absent until the first admission (full).
    buckets: v.optional(
      v.object({
        requests: v.object({ value: v.number(), ts: v.number() }),
        tokens: v.object({ value: v.number(), ts: v.number() }),
      }),
    ),
  })
    .index("by_userId_and_month", ["userId", "month"])
    .index("by_month", ["month"])
    .index("by_holdsExpireAt", ["holdsExpireAt"]),

  // Per user, day (UTC) and model, for the daily chart and per-model reports: folded from the
  // events by the rollup job, off the proxy's path, so those read ~31 rows per model, not
  // every event of the month. rolledUpThrough is the job's cursor when it last touched the
  // row: the highest one among a user's rows of a month says which of their events are in.
  usageDaily: defineTable({
    userId: v.id("users"),
    day: v.string(), // "2026-11-22" (UTC)
    model: v.string(),
    tokensIn: v.number(),
    tokensOut: v.number(),
    characters: v.number(),
    costMicros: v.number(),
    requests: v.number(),
    rolledUpThrough: v.number(),
  }).index("by_userId_and_day_and_model", ["userId", "day", "model"]),

  // Cursor of the usage rollup job (one document, written only by that job).
  rollupState: defineTable({
    name: v.string(),
    cursor: v.number(),
  }).index("by_name", ["name"]),

  alerts: defineTable({
    userId: v.optional(v.id("users")),
    kind: v.string(), // "quota_80", "quota_100", "payment_failed", "provider_down"...
    severity: v.union(v.literal("info"), v.literal("warning"), v.literal("critical")),
    message: v.string(),
    at: v.number(),
    dismissedAt: v.optional(v.number()),
  })
    .index("by_userId_and_at", ["userId", "at"])
    // Undismissed alerts of a user (dismissedAt undefined), newest first.
    .index("by_userId_and_dismissedAt_and_at", ["userId", "dismissedAt", "at"])
    .index("by_kind_and_at", ["kind", "at"]),
};
