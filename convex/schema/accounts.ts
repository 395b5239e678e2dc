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
    .index("by_state", ["state"])
    // The support console lists the most recently seen accounts first.
    .index("by_lastSeenAt", ["lastSeenAt"]),

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
    .index("by_at", ["at"]),
};
