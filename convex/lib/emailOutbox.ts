// The email outbox: every mail the app sends is one emailOutbox row, sent by one providerPool
// workpool run (its workId is on the row). Signup queues the onboarding series here; the send
// itself, the outcome and the retries live in email/delivery.ts.
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { seriesSchedule, type EmailCategory, type EmailTemplate } from "../model/email/series";
import { providerPool } from "./providerPool";

export type { EmailCategory, EmailTemplate };

// Email API outages are usually short (a deploy, a 429 burst). 7 attempts: retries after
// 30 s, 1, 2, 4, 8 and 16 min (the workpool scales each by a random 0.5-1.5), about half an
// hour in all, before the row is marked failed and support gets an alert. Only retryable
// failures are thrown by the send action; a permanent rejection returns a result and is never
// retried. Resend keeps an Idempotency-Key for 24 h, far longer than this.
export const EMAIL_RETRY = { maxAttempts: 7, initialBackoffMs: 30_000, base: 2 } as const;

export interface QueuedMail {
  userId: Id<"users">;
  to: string;
  template: EmailTemplate;
  category: EmailCategory;
  /** Not sent before this time (default: now). */
  sendAfter?: number;
}

/** One row per (user, template): the key that makes queuing idempotent. */
export function dedupeKeyOf(userId: Id<"users">, template: EmailTemplate): string {
  return `${userId}:${template}`;
}

/**
 * Queues one mail and its send. Idempotent: the same (user, template) queued again returns the
 * existing row and enqueues nothing, so a retried signup never sends a mail twice.
 */
export async function queueEmail(ctx: MutationCtx, mail: QueuedMail): Promise<Id<"emailOutbox">> {
  const dedupeKey = dedupeKeyOf(mail.userId, mail.template);
  const existing = await ctx.db
    .query("emailOutbox")
    .withIndex("by_dedupeKey", (q) => q.eq("dedupeKey", dedupeKey))
    .first();
  if (existing !== null) return existing._id;

  const now = Date.now();
  const sendAfter = mail.sendAfter ?? now;
  const outboxId = await ctx.db.insert("emailOutbox", {
    userId: mail.userId,
    to: mail.to,
    template: mail.template,
    category: mail.category,
    dedupeKey,
    status: "queued",
    sendAfter,
    queuedAt: now,
  });
  const workId = await providerPool.enqueueAction(
    ctx,
    internal.email.delivery.send,
    { outboxId },
    {
      retry: EMAIL_RETRY,
      runAt: Math.max(sendAfter, now),
      onComplete: internal.email.delivery.recordOutcome,
      context: { outboxId },
      name: `email:${mail.template}`,
    },
  );
  await ctx.db.patch("emailOutbox", outboxId, { workId });
  return outboxId;
}

/**
 * The onboarding series for a new account: the welcome mail now (transactional), then the
 * follow-ups (marketing, honouring the unsubscribe) timed from the account's creation
 * (model/email/series.ts). Idempotent like queueEmail.
 */
export async function queueOnboardingEmails(ctx: MutationCtx, user: Doc<"users">): Promise<void> {
  for (const step of seriesSchedule(user._creationTime, Date.now())) {
    await queueEmail(ctx, {
      userId: user._id,
      to: user.email,
      template: step.template,
      category: step.category,
      sendAfter: step.sendAfter,
    });
  }
}
