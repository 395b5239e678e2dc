// Accounts and the audit trail.
import { defineTable } from "convex/server";
import { v } from "convex/values";
import {
  accountStateValidator,
  billingProviderValidator,
  planValidator,
  roleValidator,
  signupRefusalReasonValidator,
} from "./validators";

export const accountsTables = {
  users: defineTable({
    tokenIdentifier: v.string(),
    email: v.string(),
    name: v.optional(v.string()),
    role: roleValidator,
    // The account state machine (convex/model/accounts/accountState.ts) owns every change.
    state: accountStateValidator,
    // The state an admin suspension interrupted, so unsuspend returns there.
    stateBeforeSuspension: v.optional(accountStateValidator),
    plan: planValidator,
    trialEndsAt: v.optional(v.number()),
    // Set by checkout once the billing issue (#8) lands: one customer per user, reused.
    billingProvider: v.optional(billingProviderValidator),
    stripeCustomerId: v.optional(v.string()),
    polarCustomerId: v.optional(v.string()),
    lastSeenAt: v.number(),
    // Set while a signup refused at first sign-in keeps the account pending (Clerk mode): the
    // reason the person sees, until a later attempt passes the checks.
    signupRefusal: v.optional(v.object({ reason: signupRefusalReasonValidator, message: v.string(), at: v.number() })),
    // The onboarding wizard on the dashboard was dismissed (or finished) at this time.
    onboardingDismissedAt: v.optional(v.number()),
    // Marketing mail (follow-ups) stopped by the unsubscribe link; transactional mail still goes.
    marketingOptOutAt: v.optional(v.number()),
  })
    .index("by_tokenIdentifier", ["tokenIdentifier"])
    .index("by_email", ["email"])
    .index("by_role", ["role"])
    // Kept beside by_state_and_email (the console's filter): its users read by creation order.
    // eslint-disable-next-line @convex-dev/no-duplicate-indexes
    .index("by_state", ["state"])
    // The support console lists the most recently seen accounts first.
    .index("by_lastSeenAt", ["lastSeenAt"])
    // The console's filters (admin/accountSearch.ts): state, plan or both, each in email order so
    // an email prefix narrows the same index range instead of filtering a table scan.
    .index("by_state_and_email", ["state", "email"])
    .index("by_plan_and_email", ["plan", "email"])
    .index("by_state_and_plan_and_email", ["state", "plan", "email"]),

  auditLogs: defineTable({
    actorId: v.optional(v.id("users")),
    actorLabel: v.string(), // "admin@x.com", "cli", "system", "stripe"
    action: v.string(),
    targetType: v.string(),
    targetId: v.string(),
    reason: v.optional(v.string()),
    metadata: v.optional(v.record(v.string(), v.union(v.string(), v.number(), v.boolean(), v.null()))),
    at: v.number(),
  })
    .index("by_targetType_and_targetId", ["targetType", "targetId"])
    .index("by_at", ["at"])
    // Audit search in the console (admin/auditLog.ts): by target id whatever its type, by actor,
    // by action, each newest first within a time range.
    .index("by_targetId_and_at", ["targetId", "at"])
    .index("by_actorLabel_and_at", ["actorLabel", "at"])
    .index("by_action_and_at", ["action", "at"]),
};
