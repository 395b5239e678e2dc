// The admin console's Alerts page (src/pages/admin/AlertsPage.tsx): the active alerts (open
// first, then acknowledged), the resolved history, and staff's acknowledge and resolve, each
// with a note and an audit row. Staff only (support and admin); customers are refused.
import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { supportMutation, supportQuery } from "../functions";
import { actorOf, audit } from "../lib/audit";
import { fail } from "../lib/errors";
import { cleanNote, RULES } from "../model/ops/alerts";
import schema from "../schema";
import { opsRuleValidator, opsSeverityValidator } from "../schema/alerts";

export const opsAlertValidator = v.object({
  _id: v.id("opsAlerts"),
  _creationTime: v.number(),
  ...schema.tables.opsAlerts.validator.fields,
});

/** Per status and filter; more active alerts than this is an incident of its own. */
const ACTIVE_LIMIT = 200;
const SEVERITY_RANK = { critical: 0, warning: 1, info: 2 } as const;

const filterArgs = { rule: v.optional(opsRuleValidator), severity: v.optional(opsSeverityValidator) };

/** Open alerts first, then acknowledged; within each, critical first, then the most recent. */
export const active = supportQuery({
  args: filterArgs,
  returns: v.array(opsAlertValidator),
  handler: async (ctx, { rule, severity }) => {
    const rows: Doc<"opsAlerts">[] = [];
    for (const status of ["open", "acknowledged"] as const) {
      const q = rule !== undefined
        ? ctx.db.query("opsAlerts").withIndex("by_rule_and_status_and_lastSeenAt", (i) => i.eq("rule", rule).eq("status", status))
        : severity !== undefined
          ? ctx.db.query("opsAlerts").withIndex("by_severity_and_status_and_lastSeenAt", (i) => i.eq("severity", severity).eq("status", status))
          : ctx.db.query("opsAlerts").withIndex("by_status_and_lastSeenAt", (i) => i.eq("status", status));
      const found = await q.order("desc").take(ACTIVE_LIMIT);
      rows.push(...found.filter((a) => severity === undefined || a.severity === severity));
    }
    const statusRank = (a: Doc<"opsAlerts">) => (a.status === "open" ? 0 : 1);
    return rows.sort((a, b) =>
      statusRank(a) - statusRank(b) || SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || b.lastSeenAt - a.lastSeenAt,
    );
  },
});

/** Resolved alerts, most recently seen first, a page at a time. */
export const history = supportQuery({
  args: { paginationOpts: paginationOptsValidator, ...filterArgs },
  returns: paginationResultValidator(opsAlertValidator),
  handler: async (ctx, { paginationOpts, rule, severity }) => {
    if (rule !== undefined) {
      // A rule's alerts all have the rule's severity (lib/opsAlerts.ts), so both filters are the rule's or nothing.
      if (severity !== undefined && severity !== RULES[rule].severity) return { page: [], isDone: true, continueCursor: "" };
      return await ctx.db
        .query("opsAlerts")
        .withIndex("by_rule_and_status_and_lastSeenAt", (i) => i.eq("rule", rule).eq("status", "resolved"))
        .order("desc")
        .paginate(paginationOpts);
    }
    if (severity !== undefined) {
      return await ctx.db
        .query("opsAlerts")
        .withIndex("by_severity_and_status_and_lastSeenAt", (i) => i.eq("severity", severity).eq("status", "resolved"))
        .order("desc")
        .paginate(paginationOpts);
    }
    return await ctx.db
      .query("opsAlerts")
      .withIndex("by_status_and_lastSeenAt", (i) => i.eq("status", "resolved"))
      .order("desc")
      .paginate(paginationOpts);
  },
});

/** The rule catalogue for the page's filters and legend (labels, severities, how each resolves). */
export const rules = supportQuery({
  args: {},
  returns: v.array(v.object({
    rule: opsRuleValidator,
    label: v.string(),
    severity: opsSeverityValidator,
    resolves: v.union(v.literal("condition"), v.literal("breaker"), v.literal("manual")),
    description: v.string(),
  })),
  handler: async () => Object.entries(RULES).map(([rule, info]) => ({ rule: rule as keyof typeof RULES, ...info })),
});

function noteOf(note: string): string {
  try {
    return cleanNote(note);
  } catch (e) {
    return fail("INVALID_ARGUMENT", (e as Error).message);
  }
}

/** The alert staff act on: NOT_FOUND when it is gone, CONFLICT (with `whenResolved`) once resolved. */
async function unresolvedAlert(ctx: MutationCtx, alertId: Id<"opsAlerts">, whenResolved: string): Promise<Doc<"opsAlerts">> {
  const alert = await ctx.db.get("opsAlerts", alertId);
  if (alert === null) fail("NOT_FOUND", "No such alert; it may have been removed.");
  if (alert.status === "resolved") fail("CONFLICT", whenResolved);
  return alert;
}

/** The audit row of a staff action on an alert, with the note they gave. */
async function auditAlert(ctx: MutationCtx & { user: Doc<"users"> }, action: "opsAlert.acknowledged" | "opsAlert.resolved", alert: Doc<"opsAlerts">, note: string) {
  await audit(ctx, actorOf(ctx.user), action, { type: "opsAlert", id: alert._id }, note, { rule: alert.rule, subject: alert.subject });
}

/** Someone is on it: the alert stays active (repeats still bump it) until it resolves. */
export const acknowledge = supportMutation({
  args: { alertId: v.id("opsAlerts"), note: v.string() },
  returns: v.null(),
  handler: async (ctx, { alertId, note }) => {
    const text = noteOf(note);
    const alert = await unresolvedAlert(ctx, alertId, "This alert is already resolved; nothing to acknowledge.");
    if (alert.status === "acknowledged") {
      fail("CONFLICT", `${alert.acknowledgedByLabel ?? "Someone"} already acknowledged this alert.`);
    }
    const now = Date.now();
    await ctx.db.patch("opsAlerts", alertId, {
      status: "acknowledged",
      acknowledgedBy: ctx.user._id,
      acknowledgedByLabel: ctx.user.email,
      acknowledgedAt: now,
      note: text,
    });
    await auditAlert(ctx, "opsAlert.acknowledged", alert, text);
    return null;
  },
});

/**
 * Closes an alert by hand: the rules that never resolve themselves (a failed step or payment,
 * a key anomaly) after someone looked, or any alert staff know is over.
 */
export const resolve = supportMutation({
  args: { alertId: v.id("opsAlerts"), note: v.string() },
  returns: v.null(),
  handler: async (ctx, { alertId, note }) => {
    const text = noteOf(note);
    const alert = await unresolvedAlert(ctx, alertId, "This alert is already resolved.");
    await ctx.db.patch("opsAlerts", alertId, {
      status: "resolved",
      resolvedAt: Date.now(),
      resolvedBy: ctx.user.email,
      note: alert.note === undefined ? text : `${alert.note}\n${text}`,
    });
    await auditAlert(ctx, "opsAlert.resolved", alert, text);
    return null;
  },
});
