// Ops alerts and the usage anomaly detector (operations issue #13, item 4): the alerts staff
// see on /admin/alerts, the evaluator's folds of the usage events (per provider and minute,
// per key and hour, per key and client-IP hash), the anomaly policy, and key suspensions.
// Customers never read these tables: subjects name providers, keys and IP hashes.
import { defineTable } from "convex/server";
import { v } from "convex/values";

export const opsRuleValidator = v.union(
  v.literal("error_rate"),
  v.literal("latency_p99"),
  v.literal("provisioning_failed"),
  v.literal("payment_failed"),
  v.literal("provider_outage"),
  v.literal("key_usage_spike"),
  v.literal("key_many_ips"),
  v.literal("signup_burst"),
);
export const opsSeverityValidator = v.union(v.literal("info"), v.literal("warning"), v.literal("critical"));
export const opsAlertStatusValidator = v.union(v.literal("open"), v.literal("acknowledged"), v.literal("resolved"));
export const anomalyActionValidator = v.union(v.literal("alert"), v.literal("alert_and_suspend"));

export const alertsTables = {
  // One row per incident: at most one row per (rule, subject) is open or acknowledged at a time;
  // a repeated detection bumps count and lastSeenAt on it (lib/opsAlerts.ts raiseOpsAlert).
  opsAlerts: defineTable({
    rule: opsRuleValidator,
    severity: opsSeverityValidator,
    // What the alert is about: a provider id, an API key id, an account id, "ip:<hash prefix>"
    // or "global". Staff only.
    subject: v.string(),
    // How staff read the subject ("pk_live_AbCd1234…", an account's email), when it is an id.
    subjectLabel: v.optional(v.string()),
    // The account concerned, when there is one (key and payment rules): links to its console page.
    userId: v.optional(v.id("users")),
    message: v.string(),
    firstSeenAt: v.number(),
    lastSeenAt: v.number(),
    count: v.number(),
    status: opsAlertStatusValidator,
    acknowledgedBy: v.optional(v.id("users")),
    acknowledgedByLabel: v.optional(v.string()),
    acknowledgedAt: v.optional(v.number()),
    note: v.optional(v.string()),
    resolvedAt: v.optional(v.number()),
    // "auto" when the condition cleared, else the staff member who resolved it.
    resolvedBy: v.optional(v.string()),
    // The key the anomaly policy suspended for this alert, if it did.
    suspendedKeyId: v.optional(v.id("apiKeys")),
    at: v.number(),
  })
    // The newest row of a (rule, subject): the one a repeated detection bumps or reopens.
    .index("by_rule_and_subject_and_firstSeenAt", ["rule", "subject", "firstSeenAt"])
    .index("by_status_and_lastSeenAt", ["status", "lastSeenAt"])
    .index("by_rule_and_status_and_lastSeenAt", ["rule", "status", "lastSeenAt"])
    .index("by_severity_and_status_and_lastSeenAt", ["severity", "status", "lastSeenAt"])
    // An account's alerts (account deletion finds them without a scan).
    .index("by_userId", ["userId"]),

  // Requests per provider and minute, folded from usageEvents by the evaluator (ops/alerts.ts):
  // the error-rate and latency windows read a handful of these instead of every event.
  opsMinuteStats: defineTable({
    provider: v.string(),
    minute: v.number(), // epoch ms of the minute's start (UTC)
    requests: v.number(),
    // Requests answered with a 5xx by the proxy.
    errors: v.number(),
    // Time to first byte histogram (model/ops/alerts.ts LATENCY_BOUNDS_MS; last = above them all)
    // of the requests whose headers come at once (streams, embeddings, speech).
    ttfbCounts: v.array(v.number()),
  })
    .index("by_provider_and_minute", ["provider", "minute"])
    .index("by_minute", ["minute"]),

  // Tokens per API key and hour (UTC), folded by the evaluator: the key's own baseline.
  keyUsageHourly: defineTable({
    apiKeyId: v.id("apiKeys"),
    userId: v.id("users"),
    hour: v.number(), // epoch ms of the hour's start
    tokens: v.number(),
    requests: v.number(),
  })
    .index("by_apiKeyId_and_hour", ["apiKeyId", "hour"])
    .index("by_hour", ["hour"]),

  // When a key was last used from each client IP (as the signup HMAC, never the address).
  keyIpSightings: defineTable({
    apiKeyId: v.id("apiKeys"),
    ipHash: v.string(),
    lastSeenAt: v.number(),
  })
    .index("by_apiKeyId_and_ipHash", ["apiKeyId", "ipHash"])
    .index("by_apiKeyId_and_lastSeenAt", ["apiKeyId", "lastSeenAt"])
    .index("by_lastSeenAt", ["lastSeenAt"]),

  // The evaluator's cursor over usageEvents (by_at) and when it last ran.
  opsEvaluatorState: defineTable({
    name: v.string(),
    cursor: v.number(),
    ranAt: v.number(),
  }).index("by_name", ["name"]),

  // What each fraud rule does beyond alerting (one row, "default"; absent = alert only).
  anomalyPolicy: defineTable({
    name: v.string(),
    keyUsageSpike: anomalyActionValidator,
    keyManyIps: anomalyActionValidator,
    updatedAt: v.number(),
    updatedBy: v.optional(v.id("users")),
    updatedByLabel: v.string(),
  }).index("by_name", ["name"]),

  // Keys the policy suspended, and their restoration: the history support reads. The key row
  // itself carries suspendedAt, which the proxy checks.
  keySuspensions: defineTable({
    apiKeyId: v.id("apiKeys"),
    userId: v.id("users"),
    rule: opsRuleValidator,
    alertId: v.optional(v.id("opsAlerts")),
    reason: v.string(),
    suspendedAt: v.number(),
    restoredAt: v.optional(v.number()),
    restoredByLabel: v.optional(v.string()),
    restoreReason: v.optional(v.string()),
  })
    .index("by_apiKeyId_and_suspendedAt", ["apiKeyId", "suspendedAt"])
    .index("by_restoredAt_and_suspendedAt", ["restoredAt", "suspendedAt"])
    .index("by_userId", ["userId"]),
};
