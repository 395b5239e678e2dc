// Retention by cron (model/ops/retention.ts says how long and why): audit rows past
// AUDIT_RETENTION_DAYS and raw usage events past USAGE_EVENT_RETENTION_DAYS (only those the usage
// rollup has folded; usageDaily and usageMonthly are never touched). Each run deletes at most
// RETENTION_BATCH rows through a time index, oldest first, and schedules itself again while a full
// batch came back, so a backlog of millions drains in bounded mutations instead of one that
// would exceed Convex's per-transaction limits.
import { v } from "convex/values";
import { internal } from "../_generated/api";
import { env } from "../_generated/server";
import { internalMutation } from "../functions";
import {
  cutoff,
  DEFAULT_AUDIT_RETENTION_DAYS,
  DEFAULT_USAGE_EVENT_RETENTION_DAYS,
  retentionDays,
  usageEventCutoff,
} from "../model/ops/retention";

/** Rows deleted per mutation: well under Convex's per-mutation read and write limits (thousands of documents). */
export const RETENTION_BATCH = 500;

/** The rollup's cursor row (usage/rollup.ts keeps its historical name). */
const ROLLUP_CURSOR = "usageMonthly";

const resultValidator = v.object({ deleted: v.number(), more: v.boolean() });

export const purgeAuditLogs = internalMutation({
  args: {},
  returns: resultValidator,
  handler: async (ctx) => {
    const days = retentionDays(env.AUDIT_RETENTION_DAYS, DEFAULT_AUDIT_RETENTION_DAYS, "AUDIT_RETENTION_DAYS");
    const before = cutoff(Date.now(), days);
    const rows = await ctx.db.query("auditLogs").withIndex("by_at", (q) => q.lt("at", before)).take(RETENTION_BATCH);
    for (const row of rows) await ctx.db.delete("auditLogs", row._id);
    const more = rows.length === RETENTION_BATCH;
    if (more) await ctx.scheduler.runAfter(0, internal.ops.retention.purgeAuditLogs, {});
    return { deleted: rows.length, more };
  },
});

export const purgeUsageEvents = internalMutation({
  args: {},
  returns: resultValidator,
  handler: async (ctx) => {
    const days = retentionDays(env.USAGE_EVENT_RETENTION_DAYS, DEFAULT_USAGE_EVENT_RETENTION_DAYS, "USAGE_EVENT_RETENTION_DAYS");
    const state = await ctx.db.query("rollupState").withIndex("by_name", (q) => q.eq("name", ROLLUP_CURSOR)).unique();
    const before = usageEventCutoff(Date.now(), days, state?.cursor ?? null);
    if (before === null) return { deleted: 0, more: false };
    const rows = await ctx.db.query("usageEvents").withIndex("by_at", (q) => q.lt("at", before)).take(RETENTION_BATCH);
    for (const row of rows) await ctx.db.delete("usageEvents", row._id);
    const more = rows.length === RETENTION_BATCH;
    if (more) await ctx.scheduler.runAfter(0, internal.ops.retention.purgeUsageEvents, {});
    return { deleted: rows.length, more };
  },
});
