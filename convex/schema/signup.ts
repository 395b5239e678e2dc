// Self-service signup and transactional email. Empty until the signup issue (#9) lands:
// abuse checks record every attempt; emails go out through the outbox, one workpool run
// per row (workId), so retries are recorded by the workpool, not here.
import { defineTable } from "convex/server";
import { v } from "convex/values";

export const signupTables = {
  signupAttempts: defineTable({
    email: v.string(),
    ip: v.optional(v.string()),
    outcome: v.string(),
    at: v.number(),
  })
    .index("by_email_and_at", ["email", "at"])
    .index("by_ip_and_at", ["ip", "at"]),

  emailOutbox: defineTable({
    userId: v.optional(v.id("users")),
    to: v.string(),
    template: v.string(),
    subject: v.string(),
    body: v.string(),
    status: v.union(v.literal("queued"), v.literal("sent"), v.literal("failed")),
    sendAfter: v.number(),
    // The workpool run sending it: attempts and backoff are the workpool's record.
    workId: v.optional(v.string()),
    sentAt: v.optional(v.number()),
    lastError: v.optional(v.string()),
  })
    .index("by_status_and_sendAfter", ["status", "sendAfter"])
    .index("by_userId", ["userId"]),
};
