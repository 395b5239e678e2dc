// API keys (hashed secrets, rotation grace).
import { defineTable } from "convex/server";
import { v } from "convex/values";

export const apiKeysTables = {
  apiKeys: defineTable({
    userId: v.id("users"),
    name: v.string(),
    environment: v.union(v.literal("live"), v.literal("test")),
    // First characters of the secret, safe to display ("pk_live_AbCd1234").
    prefix: v.string(),
    // SHA-256 hex of the full secret; the secret itself is never stored.
    hash: v.string(),
    scopes: v.array(v.string()),
    createdAt: v.number(),
    createdBy: v.union(v.literal("dashboard"), v.literal("cli"), v.literal("dex"), v.literal("signup")),
    lastUsedAt: v.optional(v.number()),
    lastUsedIp: v.optional(v.string()),
    expiresAt: v.optional(v.number()),
    revokedAt: v.optional(v.number()),
    // Set on the old key when it is rotated: it keeps working until graceEndsAt.
    replacedByKeyId: v.optional(v.id("apiKeys")),
    graceEndsAt: v.optional(v.number()),
    // Set by the anomaly policy (ops/anomalies): the proxy refuses the key with a 403 until
    // support restores it; the reason is shown to the owner on the Keys page.
    suspendedAt: v.optional(v.number()),
    suspendedReason: v.optional(v.string()),
  })
    .index("by_hash", ["hash"])
    // Listings are newest first (creation order); the longer index below sorts by revokedAt.
    // eslint-disable-next-line @convex-dev/no-duplicate-indexes
    .index("by_userId", ["userId"])
    // Unrevoked keys of a user (revokedAt undefined): the live-key cap reads only these.
    .index("by_userId_and_revokedAt", ["userId", "revokedAt"])
    .index("by_graceEndsAt", ["graceEndsAt"]),
};
