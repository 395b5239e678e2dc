// Self-service signup and email. Every signup attempt is recorded (append-only, IP hashed);
// emails go out through the outbox, one workpool run per row (workId): attempts and backoff
// are the workpool's record, the row keeps its outcome.
import { defineTable } from "convex/server";
import { v } from "convex/values";
import { emailCategoryValidator, emailStatusValidator, emailTemplateValidator, signupRefusalReasonValidator } from "./validators";

export const signupTables = {
  // Append-only: one row per signup attempt, whatever its outcome.
  signupAttempts: defineTable({
    // The canonical mailbox (model/signup/emailIdentity.ts): what the per-email limit counts.
    mailbox: v.string(),
    // HMAC-SHA256 of the client IP (key from ENCRYPTION_KEY); the IP itself is never stored.
    ipHash: v.optional(v.string()),
    outcome: v.union(v.literal("created"), v.literal("refused")),
    reason: v.optional(signupRefusalReasonValidator),
    userId: v.optional(v.id("users")),
    at: v.number(),
  })
    .index("by_mailbox_and_at", ["mailbox", "at"])
    .index("by_ipHash_and_at", ["ipHash", "at"])
    .index("by_userId_and_at", ["userId", "at"])
    // Every attempt by time: the signup-burst alert counts the recent ones (ops/anomalies).
    .index("by_at", ["at"]),

  emailOutbox: defineTable({
    userId: v.optional(v.id("users")),
    to: v.string(),
    template: emailTemplateValidator,
    // Marketing mail (follow-ups) honours the unsubscribe; transactional mail does not.
    category: emailCategoryValidator,
    // One row per (user, template): queuing the same mail twice finds this row instead.
    dedupeKey: v.string(),
    status: emailStatusValidator,
    // Rendered when it is sent (follow-ups depend on the account's progress at that time).
    subject: v.optional(v.string()),
    // The rendered mail, stored when sending starts: a retried send repeats these exact bytes
    // under the same Idempotency-Key (the provider refuses a different body under one key).
    content: v.optional(
      v.object({
        html: v.string(),
        text: v.string(),
        headers: v.array(v.object({ name: v.string(), value: v.string() })),
      }),
    ),
    // Why a row was skipped (account gone, unsubscribed): what support reads beside the status.
    skipReason: v.optional(v.string()),
    // Not sent before this time (follow-ups are queued ahead).
    sendAfter: v.number(),
    // The workpool run sending it: attempts and backoff are the workpool's record.
    workId: v.optional(v.string()),
    // The email provider's message id once accepted.
    providerMessageId: v.optional(v.string()),
    lastError: v.optional(v.string()),
    queuedAt: v.number(),
    sentAt: v.optional(v.number()),
  })
    .index("by_dedupeKey", ["dedupeKey"])
    .index("by_status_and_sendAfter", ["status", "sendAfter"])
    .index("by_userId_and_queuedAt", ["userId", "queuedAt"]),
};
