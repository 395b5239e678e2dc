// The anomaly policy as ctx helpers: reading the current policy, and what a firing key rule
// does beyond its alert (suspending the key when the policy says so). Used by the evaluator
// (alertsEvaluator.ts) and the staff functions (anomalies.ts).
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { audit } from "../lib/audit";
import { keyStatus } from "../model/apiKeyStatus";
import { actionFor, type AnomalyPolicy, DEFAULT_POLICY, suspensionReason } from "../model/ops/anomalies";

export const POLICY_NAME = "default";
/** A key support restored is not suspended again by the policy for this long (the alert still bumps). */
export const RESTORE_IMMUNITY_MS = 24 * 60 * 60 * 1000;

export async function policyRow(ctx: QueryCtx): Promise<Doc<"anomalyPolicy"> | null> {
  return await ctx.db.query("anomalyPolicy").withIndex("by_name", (q) => q.eq("name", POLICY_NAME)).unique();
}

export async function readPolicy(ctx: QueryCtx): Promise<AnomalyPolicy> {
  const row = await policyRow(ctx);
  return row === null ? DEFAULT_POLICY : { keyUsageSpike: row.keyUsageSpike, keyManyIps: row.keyManyIps };
}

/**
 * Suspends the key when the policy's action for the rule is alert_and_suspend, unless it is
 * already suspended or revoked, or support restored it within the last day (they vouched for
 * it). The key row's suspendedAt is what the proxy refuses on; the keySuspensions row is the
 * history support reads. Returns whether it suspended the key now.
 */
export async function applyAnomalyPolicy(
  ctx: MutationCtx,
  args: { rule: "key_usage_spike" | "key_many_ips"; key: Doc<"apiKeys">; alertId: Id<"opsAlerts"> },
): Promise<boolean> {
  const { rule, key, alertId } = args;
  const now = Date.now();
  if (actionFor(await readPolicy(ctx), rule) !== "alert_and_suspend") return false;
  if (key.suspendedAt !== undefined || keyStatus(key, now) === "revoked") return false;
  const last = await ctx.db
    .query("keySuspensions")
    .withIndex("by_apiKeyId_and_suspendedAt", (q) => q.eq("apiKeyId", key._id))
    .order("desc")
    .first();
  if (last?.restoredAt !== undefined && now - last.restoredAt < RESTORE_IMMUNITY_MS) return false;
  const reason = suspensionReason(rule);
  await ctx.db.patch("apiKeys", key._id, { suspendedAt: now, suspendedReason: reason });
  await ctx.db.insert("keySuspensions", { apiKeyId: key._id, userId: key.userId, rule, alertId, reason, suspendedAt: now });
  await ctx.db.patch("opsAlerts", alertId, { suspendedKeyId: key._id });
  await audit(ctx, { label: "anomaly policy" }, "apiKey.suspended", { type: "apiKey", id: key._id }, reason, {
    prefix: key.prefix,
    rule,
    alertId,
  });
  return true;
}
