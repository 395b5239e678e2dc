// The metered proxy's ledger and the usage it records (docs/proxy.md).
import { defineTable } from "convex/server";
import { v } from "convex/values";
import { usageKindValidator, usageSourceValidator, usageStatusValidator } from "./validators";

export const usageTables = {
  // Append-only: one row per proxied request, never patched.
  usageEvents: defineTable({
    userId: v.id("users"),
    apiKeyId: v.optional(v.id("apiKeys")),
    instanceId: v.optional(v.string()),
    requestId: v.string(),
    kind: usageKindValidator,
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
  })
    .index("by_userId_and_at", ["userId", "at"])
    .index("by_requestId", ["requestId"])
    .index("by_at", ["at"]),

  // Written only by the rollup job, never by the proxy: holds every event of the
  // month with at <= rolledUpThrough. Readers add the events after that cursor.
  usageMonthly: defineTable({
    userId: v.id("users"),
    month: v.string(), // "2026-11" (UTC)
    tokensIn: v.number(),
    tokensOut: v.number(),
    characters: v.number(),
    costMicros: v.number(),
    requests: v.number(),
    rolledUpThrough: v.number(),
    // Highest included-token threshold already alerted (0, 80, 100).
    alertedPercent: v.number(),
  })
    .index("by_userId_and_month", ["userId", "month"])
    .index("by_month", ["month"]),

  // Per user, day (UTC) and model; written only by the rollup job alongside usageMonthly
  // (same cursor), so the daily chart and per-model reports read ~31 rows per model, not
  // every event of the month.
  usageDaily: defineTable({
    userId: v.id("users"),
    day: v.string(), // "2026-11-22" (UTC)
    model: v.string(),
    tokensIn: v.number(),
    tokensOut: v.number(),
    characters: v.number(),
    costMicros: v.number(),
    requests: v.number(),
  }).index("by_userId_and_day_and_model", ["userId", "day", "model"]),

  // Quota reserved by in-flight requests: placed before the upstream call, settled after.
  quotaHolds: defineTable({
    userId: v.id("users"),
    apiKeyId: v.optional(v.id("apiKeys")),
    requestId: v.string(),
    tokens: v.number(),
    expiresAt: v.number(),
    createdAt: v.number(),
  })
    .index("by_userId_and_expiresAt", ["userId", "expiresAt"])
    .index("by_requestId", ["requestId"])
    .index("by_expiresAt", ["expiresAt"]),

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
