// The anomaly policy and key suspensions, for the Alerts page: staff read the policy and the
// suspended keys and restore a key; only admins change the policy. Every change is audited.
// The rules themselves: model/ops/anomalies.ts; the evaluator: alertsEvaluator.ts.
import { v } from "convex/values";
import { adminMutation, supportMutation, supportQuery } from "../functions";
import { actorOf, audit } from "../lib/audit";
import { fail } from "../lib/errors";
import { KEY_SPIKE, MANY_IPS, SIGNUP_BURST } from "../model/ops/anomalies";
import { anomalyActionValidator, opsRuleValidator } from "../schema/alerts";
import { POLICY_NAME, policyRow, readPolicy } from "./anomaliesPolicy";

const policyView = v.object({
  keyUsageSpike: anomalyActionValidator,
  keyManyIps: anomalyActionValidator,
  updatedAt: v.union(v.number(), v.null()),
  updatedByLabel: v.union(v.string(), v.null()),
  /** The thresholds in force (model/ops/anomalies.ts), for the editor's explanations. */
  thresholds: v.object({
    spikeFactor: v.number(),
    spikeFloorTokens: v.number(),
    spikeBaselineHours: v.number(),
    manyIpsDistinct: v.number(),
    manyIpsWindowMinutes: v.number(),
    signupGlobal: v.number(),
    signupPerIp: v.number(),
    signupWindowMinutes: v.number(),
  }),
});

export const policy = supportQuery({
  args: {},
  returns: policyView,
  handler: async (ctx) => {
    const row = await policyRow(ctx);
    const current = await readPolicy(ctx);
    return {
      ...current,
      updatedAt: row?.updatedAt ?? null,
      updatedByLabel: row?.updatedByLabel ?? null,
      thresholds: {
        spikeFactor: KEY_SPIKE.factor,
        spikeFloorTokens: KEY_SPIKE.floorTokens,
        spikeBaselineHours: KEY_SPIKE.baselineHours,
        manyIpsDistinct: MANY_IPS.minDistinct,
        manyIpsWindowMinutes: MANY_IPS.windowMs / 60_000,
        signupGlobal: SIGNUP_BURST.minGlobal,
        signupPerIp: SIGNUP_BURST.minPerIp,
        signupWindowMinutes: SIGNUP_BURST.windowMs / 60_000,
      },
    };
  },
});

/** What each key rule does: alert only, or alert and suspend the key. Admins only; audited with the change. */
export const setPolicy = adminMutation({
  args: { keyUsageSpike: anomalyActionValidator, keyManyIps: anomalyActionValidator, reason: v.string() },
  returns: v.null(),
  handler: async (ctx, { keyUsageSpike, keyManyIps, reason }) => {
    const why = reason.trim();
    if (why.length === 0 || why.length > 500) fail("INVALID_ARGUMENT", "Say why the policy changes (1 to 500 characters).");
    const row = await policyRow(ctx);
    const before = await readPolicy(ctx);
    const fields = { keyUsageSpike, keyManyIps, updatedAt: Date.now(), updatedBy: ctx.user._id, updatedByLabel: ctx.user.email };
    if (row === null) await ctx.db.insert("anomalyPolicy", { name: POLICY_NAME, ...fields });
    else await ctx.db.patch("anomalyPolicy", row._id, fields);
    await audit(ctx, actorOf(ctx.user), "anomalyPolicy.updated", { type: "anomalyPolicy", id: POLICY_NAME }, why, {
      keyUsageSpikeFrom: before.keyUsageSpike,
      keyUsageSpikeTo: keyUsageSpike,
      keyManyIpsFrom: before.keyManyIps,
      keyManyIpsTo: keyManyIps,
    });
    return null;
  },
});

const SUSPENSIONS_LIMIT = 100;

const suspensionView = v.object({
  _id: v.id("keySuspensions"),
  apiKeyId: v.id("apiKeys"),
  userId: v.id("users"),
  keyPrefix: v.string(),
  keyName: v.string(),
  ownerEmail: v.union(v.string(), v.null()),
  rule: opsRuleValidator,
  alertId: v.union(v.id("opsAlerts"), v.null()),
  reason: v.string(),
  suspendedAt: v.number(),
});

/** Keys the policy has suspended and support has not restored, newest first. */
export const suspensions = supportQuery({
  args: {},
  returns: v.array(suspensionView),
  handler: async (ctx) => {
    const rows = await ctx.db
      .query("keySuspensions")
      .withIndex("by_restoredAt_and_suspendedAt", (q) => q.eq("restoredAt", undefined))
      .order("desc")
      .take(SUSPENSIONS_LIMIT);
    const out = [];
    for (const s of rows) {
      const key = await ctx.db.get("apiKeys", s.apiKeyId);
      const owner = await ctx.db.get("users", s.userId);
      out.push({
        _id: s._id,
        apiKeyId: s.apiKeyId,
        userId: s.userId,
        keyPrefix: key?.prefix ?? "(deleted key)",
        keyName: key?.name ?? "",
        ownerEmail: owner?.email ?? null,
        rule: s.rule,
        alertId: s.alertId ?? null,
        reason: s.reason,
        suspendedAt: s.suspendedAt,
      });
    }
    return out;
  },
});

/**
 * Support restores a suspended key (the owner confirmed the traffic was theirs): the proxy
 * accepts it again at once, and the policy leaves it alone for a day.
 */
export const restoreKey = supportMutation({
  args: { suspensionId: v.id("keySuspensions"), reason: v.string() },
  returns: v.null(),
  handler: async (ctx, { suspensionId, reason }) => {
    const why = reason.trim();
    if (why.length === 0 || why.length > 500) fail("INVALID_ARGUMENT", "Say why the key is restored (1 to 500 characters).");
    const suspension = await ctx.db.get("keySuspensions", suspensionId);
    if (suspension === null) fail("NOT_FOUND", "No such suspension.");
    if (suspension.restoredAt !== undefined) fail("CONFLICT", `This key was already restored by ${suspension.restoredByLabel ?? "someone"}.`);
    const now = Date.now();
    await ctx.db.patch("keySuspensions", suspensionId, { restoredAt: now, restoredByLabel: ctx.user.email, restoreReason: why });
    const key = await ctx.db.get("apiKeys", suspension.apiKeyId);
    if (key !== null) {
      await ctx.db.patch("apiKeys", key._id, { suspendedAt: undefined, suspendedReason: undefined });
    }
    await audit(ctx, actorOf(ctx.user), "apiKey.restored", { type: "apiKey", id: suspension.apiKeyId }, why, {
      prefix: key?.prefix ?? null,
      rule: suspension.rule,
    });
    return null;
  },
});
