// The counters behind GET /metrics (convex/ops/metrics.ts, model/ops/metrics.ts). Convex
// functions share no process memory, so counters are documents, written only by the metrics
// cron that folds the append-only rows off the request path; the one exception is
// identityStepOutcomes, a write-once row per finished step that the cron folds and deletes.
// No row here names a user, key, email or instance: labels are closed sets of short tokens.
import { defineTable } from "convex/server";
import { v } from "convex/values";
import { identityStepNameValidator } from "./identity";

export const metricsTables = {
  // One row per endpoint (usage kind) x provider x HTTP status class x outcome: request count,
  // latency histogram (per-bucket counts, not cumulative, indexed by LATENCY_BUCKETS_MS with
  // +Inf last) and the sums. A few dozen rows in all.
  metricsProxy: defineTable({
    endpoint: v.string(),
    provider: v.string(),
    status: v.string(),
    outcome: v.string(),
    requests: v.number(),
    latencyBuckets: v.array(v.number()),
    latencySumMs: v.number(),
    tokensIn: v.number(),
    tokensOut: v.number(),
    characters: v.number(),
    costMicros: v.number(),
    updatedAt: v.number(),
  }).index("by_endpoint_and_provider_and_status_and_outcome", ["endpoint", "provider", "status", "outcome"]),

  // Plain counters by metric and label set (webhook outcomes, identity step outcomes); `key` is
  // the label set's stable form (model/ops/metrics.ts labelKey).
  metricsCounters: defineTable({
    metric: v.union(v.literal("webhook_events"), v.literal("identity_steps")),
    key: v.string(),
    labels: v.record(v.string(), v.string()),
    value: v.number(),
    updatedAt: v.number(),
  }).index("by_metric_and_key", ["metric", "key"]),

  // One row per identity step that finished (done, failed, skipped), inserted by the step's
  // outcome mutation (identity/lifecycle.ts applyEvent): an insert reads nothing, so concurrent
  // activations never conflict on a shared counter. The metrics cron folds these into
  // metricsCounters and deletes them, so the table holds at most a few seconds' worth.
  identityStepOutcomes: defineTable({
    step: identityStepNameValidator,
    outcome: v.union(v.literal("done"), v.literal("failed"), v.literal("skipped")),
  }),
};
