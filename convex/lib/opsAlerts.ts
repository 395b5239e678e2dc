// Raising and resolving ops alerts (the opsAlerts table), from anywhere an event happens: the
// breaker opening (proxy/breakers.ts), a provisioning step failing (identity/lifecycle.ts), a
// payment failing (billing/apply.ts), and the evaluator's windows and anomaly rules
// (ops/alerts.ts). One row per incident: a repeated detection bumps the open row, a new
// incident inserts one and mails OPS_ALERT_EMAIL once through the email outbox.
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import { env, type MutationCtx } from "../_generated/server";
import { alertMail, type OpsRule, raiseDecision, RULES, type OpsSeverity } from "../model/ops/alerts";
import { EMAIL_RETRY } from "./emailOutbox";
import { providerPool } from "./providerPool";

export interface Detection {
  rule: OpsRule;
  /** A provider id, an API key id, an account id, "ip:<hash prefix>" or "global". */
  subject: string;
  /** How staff read the subject when it is an id (a key's prefix, an account's email). */
  subjectLabel?: string;
  message: string;
  userId?: Id<"users">;
  /** When it was detected (default: now). */
  at?: number;
}

export type Raised = { alertId: Id<"opsAlerts">; action: "insert" | "bump" | "reopen" };

/** The newest alert of a rule and subject: the active one if any, else the last resolved. */
export async function latestAlert(ctx: MutationCtx, rule: OpsRule, subject: string): Promise<Doc<"opsAlerts"> | null> {
  return await ctx.db
    .query("opsAlerts")
    .withIndex("by_rule_and_subject_and_firstSeenAt", (q) => q.eq("rule", rule).eq("subject", subject))
    .order("desc")
    .first();
}

/**
 * Records a detection. Dedupe: at most one open or acknowledged alert per (rule, subject); a
 * repeat bumps its count and lastSeenAt (an acknowledged alert stays acknowledged). One the
 * condition resolved in the last 30 minutes reopens instead of starting a new incident. Only a
 * new row is mailed.
 */
export async function raiseOpsAlert(ctx: MutationCtx, d: Detection): Promise<Raised> {
  const now = d.at ?? Date.now();
  const latest = await latestAlert(ctx, d.rule, d.subject);
  const decision = raiseDecision(latest, now);
  if (latest !== null && decision === "bump") {
    await ctx.db.patch("opsAlerts", latest._id, {
      count: latest.count + 1,
      lastSeenAt: Math.max(latest.lastSeenAt, now),
      message: d.message,
    });
    return { alertId: latest._id, action: "bump" };
  }
  if (latest !== null && decision === "reopen") {
    await ctx.db.patch("opsAlerts", latest._id, {
      status: "open",
      count: latest.count + 1,
      lastSeenAt: Math.max(latest.lastSeenAt, now),
      message: d.message,
      resolvedAt: undefined,
      resolvedBy: undefined,
      acknowledgedAt: undefined,
      acknowledgedBy: undefined,
      acknowledgedByLabel: undefined,
      note: undefined,
    });
    return { alertId: latest._id, action: "reopen" };
  }
  // An account's alert reads as its email, unless the caller named the subject itself.
  const owner = d.subjectLabel === undefined && d.userId !== undefined ? await ctx.db.get("users", d.userId) : null;
  const subjectLabel = d.subjectLabel ?? owner?.email;
  const alert = {
    rule: d.rule,
    // Always the rule's: the page's severity filter relies on it.
    severity: RULES[d.rule].severity,
    subject: d.subject,
    ...(subjectLabel !== undefined ? { subjectLabel } : {}),
    ...(d.userId !== undefined ? { userId: d.userId } : {}),
    message: d.message,
    firstSeenAt: now,
    lastSeenAt: now,
    count: 1,
    status: "open" as const,
    at: Date.now(),
  };
  const alertId = await ctx.db.insert("opsAlerts", alert);
  await mailOps(ctx, alertId, alert);
  return { alertId, action: "insert" };
}

/**
 * Resolves the active alert of a rule and subject because its condition cleared (the window
 * no longer fires, the breaker closed). Returns whether there was one.
 */
export async function autoResolveOpsAlert(ctx: MutationCtx, rule: OpsRule, subject: string, now = Date.now()): Promise<boolean> {
  const latest = await latestAlert(ctx, rule, subject);
  if (latest === null || latest.status === "resolved") return false;
  await ctx.db.patch("opsAlerts", latest._id, { status: "resolved", resolvedAt: now, resolvedBy: "auto" });
  return true;
}

/**
 * Queues the one mail of a new alert to OPS_ALERT_EMAIL (absent: no mail). The outbox row is
 * rendered now (there is no account to render it from later) and keyed by the alert's id, so
 * the alert is mailed at most once whatever retries.
 */
async function mailOps(
  ctx: MutationCtx,
  alertId: Id<"opsAlerts">,
  alert: { rule: OpsRule; severity: OpsSeverity; subject: string; subjectLabel?: string; message: string; firstSeenAt: number },
): Promise<void> {
  const to = env.OPS_ALERT_EMAIL?.trim();
  if (!to) return;
  const dedupeKey = `ops_alert:${alertId}`;
  const existing = await ctx.db.query("emailOutbox").withIndex("by_dedupeKey", (q) => q.eq("dedupeKey", dedupeKey)).first();
  if (existing !== null) return;
  const mail = alertMail({ ...alert, subject: alert.subjectLabel ?? alert.subject }, env.APP_URL);
  const now = Date.now();
  const outboxId = await ctx.db.insert("emailOutbox", {
    to,
    template: "ops_alert",
    category: "transactional",
    dedupeKey,
    status: "queued",
    subject: mail.subject,
    content: { html: mail.html, text: mail.text, headers: [] },
    sendAfter: now,
    queuedAt: now,
  });
  const workId = await providerPool.enqueueAction(ctx, internal.email.delivery.send, { outboxId }, {
    retry: EMAIL_RETRY,
    onComplete: internal.email.delivery.recordOutcome,
    context: { outboxId },
    name: "email:ops_alert",
  });
  await ctx.db.patch("emailOutbox", outboxId, { workId });
}
