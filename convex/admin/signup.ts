// The support console's view of how an account came to be: every signup attempt (refused and
// why), the steps recorded in the audit log (created, key made, mails queued, sent, failed),
// and each onboarding mail's state, with times.
import { v } from "convex/values";
import { supportQuery } from "../functions";
import { requireAccount } from "../lib/accounts";
import schema from "../schema";

const attempt = schema.tables.signupAttempts.validator.fields;
const mail = schema.tables.emailOutbox.validator.fields;

/** Audit actions that belong to the signup story. */
const SIGNUP_ACTIONS = /^(account\.created|account\.created_pending|account\.claimed|account\.trial_started|signup\.|email\.)/;

export const history = supportQuery({
  args: { userId: v.id("users") },
  returns: v.object({
    attempts: v.array(v.object({ _id: v.id("signupAttempts"), at: v.number(), outcome: attempt.outcome, reason: attempt.reason })),
    steps: v.array(v.object({ _id: v.string(), at: v.number(), action: v.string(), actor: v.string(), detail: v.optional(v.string()) })),
    emails: v.array(v.object({
      _id: v.id("emailOutbox"),
      template: mail.template,
      category: mail.category,
      status: mail.status,
      queuedAt: v.number(),
      sendAfter: v.number(),
      sentAt: v.optional(v.number()),
      lastError: v.optional(v.string()),
      skipReason: v.optional(v.string()),
    })),
  }),
  handler: async (ctx, { userId }) => {
    await requireAccount(ctx, userId);
    const [attempts, audit, emails, signupKeys] = await Promise.all([
      ctx.db.query("signupAttempts").withIndex("by_userId_and_at", (q) => q.eq("userId", userId)).order("desc").take(20),
      ctx.db
        .query("auditLogs")
        .withIndex("by_targetType_and_targetId", (q) => q.eq("targetType", "user").eq("targetId", userId))
        .order("asc")
        .take(100),
      ctx.db.query("emailOutbox").withIndex("by_userId_and_queuedAt", (q) => q.eq("userId", userId)).order("asc").take(20),
      // The first key's audit row targets the key, not the account: read it from the key.
      ctx.db.query("apiKeys").withIndex("by_userId", (q) => q.eq("userId", userId)).take(5),
    ]);
    const keySteps = signupKeys
      .filter((k) => k.createdBy === "signup")
      .map((k) => ({ _id: k._id as string, at: k.createdAt, action: "apiKey.created", actor: "signup", detail: k.prefix }));
    return {
      attempts: attempts.map((a) => ({ _id: a._id, at: a.at, outcome: a.outcome, reason: a.reason })),
      steps: [
        ...audit
          .filter((a) => SIGNUP_ACTIONS.test(a.action))
          .map((a) => ({ _id: a._id as string, at: a.at, action: a.action, actor: a.actorLabel, detail: a.reason })),
        ...keySteps,
      ].sort((a, b) => a.at - b.at),
      emails: emails.map((m) => ({
        _id: m._id,
        template: m.template,
        category: m.category,
        status: m.status,
        queuedAt: m.queuedAt,
        sendAfter: m.sendAfter,
        sentAt: m.sentAt,
        lastError: m.lastError,
        skipReason: m.skipReason,
      })),
    };
  },
});
