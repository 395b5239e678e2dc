import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

// Shared validators: functions reuse these instead of repeating shapes.
// Money is integer micro-dollars (1 USD = 1_000_000). Times are epoch milliseconds.

export const roleValidator = v.union(
  v.literal("user"),
  v.literal("support"),
  v.literal("admin"),
);

export const planValidator = v.union(
  v.literal("trial"),
  v.literal("basic"),
  v.literal("pro"),
);

export const accountStateValidator = v.union(
  v.literal("pending"),
  v.literal("trial"),
  v.literal("active"),
  v.literal("past_due"),
  v.literal("suspended"),
  v.literal("canceled"),
);

export const billingProviderValidator = v.union(
  v.literal("stripe"),
  v.literal("polar"),
);

export const usageKindValidator = v.union(
  v.literal("chat"),
  v.literal("completion"),
  v.literal("embedding"),
  v.literal("speech"),
);

export const usageSourceValidator = v.union(
  v.literal("provider"),
  v.literal("estimate"),
  v.literal("reconciled"),
);

export const usageStatusValidator = v.union(
  v.literal("ok"),
  v.literal("client_abandoned"),
  v.literal("upstream_error"),
  v.literal("rejected"),
);

export const stepStatusValidator = v.union(
  v.literal("pending"),
  v.literal("running"),
  v.literal("done"),
  v.literal("failed"),
  v.literal("skipped"),
);

export default defineSchema({
  users: defineTable({
    tokenIdentifier: v.string(),
    email: v.string(),
    name: v.optional(v.string()),
    role: roleValidator,
    // The account state machine (convex/model/accountState.ts) owns every change.
    state: accountStateValidator,
    // The state an admin suspension interrupted, so unsuspend returns there.
    stateBeforeSuspension: v.optional(accountStateValidator),
    plan: planValidator,
    trialEndsAt: v.optional(v.number()),
    billingProvider: v.optional(billingProviderValidator),
    stripeCustomerId: v.optional(v.string()),
    polarCustomerId: v.optional(v.string()),
    lastSeenAt: v.number(),
  })
    .index("by_tokenIdentifier", ["tokenIdentifier"])
    .index("by_email", ["email"])
    .index("by_role", ["role"])
    .index("by_state", ["state"]),

  subscriptions: defineTable({
    userId: v.id("users"),
    provider: billingProviderValidator,
    providerSubscriptionId: v.string(),
    plan: planValidator,
    status: v.string(), // the provider's own status string, kept verbatim
    currentPeriodStart: v.optional(v.number()),
    currentPeriodEnd: v.optional(v.number()),
    cancelAtPeriodEnd: v.boolean(),
    updatedAt: v.number(),
  })
    .index("by_userId", ["userId"])
    .index("by_provider_and_providerSubscriptionId", [
      "provider",
      "providerSubscriptionId",
    ]),

  identities: defineTable({
    userId: v.id("users"),
    status: v.union(
      v.literal("pending"),
      v.literal("provisioning"),
      v.literal("ready"),
      v.literal("failed"),
      v.literal("deprovisioning"),
      v.literal("deprovisioned"),
    ),
    workspaceEmail: v.optional(v.string()),
    workspaceUserId: v.optional(v.string()),
    phoneNumber: v.optional(v.string()),
    telnyxNumberId: v.optional(v.string()),
    signalStatus: v.optional(
      v.union(
        v.literal("unregistered"),
        v.literal("awaiting_code"),
        v.literal("registered"),
        v.literal("failed"),
      ),
    ),
    steps: v.array(
      v.object({
        name: v.string(),
        status: stepStatusValidator,
        error: v.optional(v.string()),
        updatedAt: v.number(),
      }),
    ),
    updatedAt: v.number(),
  }).index("by_userId", ["userId"]),

  apiKeys: defineTable({
    userId: v.id("users"),
    name: v.string(),
    environment: v.union(v.literal("live"), v.literal("test")),
    // First characters of the secret, safe to display ("pk_live_AbCd1234").
    prefix: v.string(),
    // SHA-256 hex of the full secret; the secret itself is never stored.
    hash: v.string(),
    scopes: v.array(v.string()),
    createdAt: v.number(),
    createdBy: v.union(v.literal("dashboard"), v.literal("cli"), v.literal("dex"), v.literal("signup")),
    lastUsedAt: v.optional(v.number()),
    lastUsedIp: v.optional(v.string()),
    expiresAt: v.optional(v.number()),
    revokedAt: v.optional(v.number()),
    // Set on the old key when it is rotated: it keeps working until graceEndsAt.
    replacedByKeyId: v.optional(v.id("apiKeys")),
    graceEndsAt: v.optional(v.number()),
  })
    .index("by_hash", ["hash"])
    .index("by_userId", ["userId"])
    .index("by_graceEndsAt", ["graceEndsAt"]),

  oauthClients: defineTable({
    userId: v.id("users"),
    clientId: v.string(),
    name: v.string(),
    redirectUris: v.array(v.string()),
    createdAt: v.number(),
    revokedAt: v.optional(v.number()),
  })
    .index("by_clientId", ["clientId"])
    .index("by_userId", ["userId"]),

  oauthCodes: defineTable({
    userId: v.id("users"),
    clientId: v.string(),
    codeHash: v.string(),
    redirectUri: v.string(),
    codeChallenge: v.string(),
    scopes: v.array(v.string()),
    expiresAt: v.number(),
    usedAt: v.optional(v.number()),
  }).index("by_codeHash", ["codeHash"]),

  oauthTokens: defineTable({
    userId: v.id("users"),
    clientId: v.string(),
    kind: v.union(v.literal("access"), v.literal("refresh")),
    tokenHash: v.string(),
    // Refresh tokens of one grant share a family; reuse of a spent one revokes the family.
    familyId: v.string(),
    scopes: v.array(v.string()),
    expiresAt: v.number(),
    usedAt: v.optional(v.number()),
    revokedAt: v.optional(v.number()),
  })
    .index("by_tokenHash", ["tokenHash"])
    .index("by_familyId", ["familyId"])
    .index("by_userId", ["userId"]),

  providerCredentials: defineTable({
    userId: v.id("users"),
    provider: v.string(),
    tokenHash: v.string(),
    salt: v.string(),
    encryptedSecret: v.optional(v.string()),
    scopes: v.array(v.string()),
    issuedAt: v.number(),
    expiresAt: v.optional(v.number()),
    status: v.union(v.literal("active"), v.literal("rotating"), v.literal("revoked")),
    lastRotatedAt: v.optional(v.number()),
  })
    .index("by_userId_and_provider", ["userId", "provider"])
    .index("by_status_and_expiresAt", ["status", "expiresAt"]),

  // Append-only: one row per proxied request, never patched.
  usageEvents: defineTable({
    userId: v.id("users"),
    apiKeyId: v.optional(v.id("apiKeys")),
    instanceId: v.optional(v.string()),
    requestId: v.string(),
    kind: usageKindValidator,
    provider: v.string(),
    model: v.string(),
    tokensIn: v.number(),
    tokensOut: v.number(),
    characters: v.number(),
    costMicros: v.number(),
    priceVersion: v.string(),
    usageSource: usageSourceValidator,
    latencyMs: v.number(),
    status: usageStatusValidator,
    httpStatus: v.number(),
    at: v.number(),
  })
    .index("by_userId_and_at", ["userId", "at"])
    .index("by_requestId", ["requestId"])
    .index("by_at", ["at"]),

  // Written only by the rollup job, never by the proxy: holds every event of the
  // month with at <= rolledUpThrough. Readers add the events after that cursor.
  usageMonthly: defineTable({
    userId: v.id("users"),
    month: v.string(), // "2026-11" (UTC)
    tokensIn: v.number(),
    tokensOut: v.number(),
    characters: v.number(),
    costMicros: v.number(),
    requests: v.number(),
    rolledUpThrough: v.number(),
    // Highest included-token threshold already alerted (0, 80, 100).
    alertedPercent: v.number(),
    billedOverageTokens: v.optional(v.number()),
  })
    .index("by_userId_and_month", ["userId", "month"])
    .index("by_month", ["month"]),

  // Per user, day (UTC) and model; written only by the rollup job alongside usageMonthly
  // (same cursor), so the daily chart and per-model reports read ~31 rows per model, not
  // every event of the month.
  usageDaily: defineTable({
    userId: v.id("users"),
    day: v.string(), // "2026-11-22" (UTC)
    model: v.string(),
    tokensIn: v.number(),
    tokensOut: v.number(),
    characters: v.number(),
    costMicros: v.number(),
    requests: v.number(),
  }).index("by_userId_and_day_and_model", ["userId", "day", "model"]),

  // Quota reserved by in-flight requests: placed before the upstream call, settled after.
  quotaHolds: defineTable({
    userId: v.id("users"),
    apiKeyId: v.optional(v.id("apiKeys")),
    requestId: v.string(),
    tokens: v.number(),
    expiresAt: v.number(),
    createdAt: v.number(),
  })
    .index("by_userId_and_expiresAt", ["userId", "expiresAt"])
    .index("by_requestId", ["requestId"])
    .index("by_expiresAt", ["expiresAt"]),

  // Cursor of the usage rollup job (one document, written only by that job).
  rollupState: defineTable({
    name: v.string(),
    cursor: v.number(),
  }).index("by_name", ["name"]),

  invoices: defineTable({
    userId: v.id("users"),
    provider: billingProviderValidator,
    providerInvoiceId: v.string(),
    amountMicros: v.number(),
    currency: v.string(),
    periodStart: v.optional(v.number()),
    periodEnd: v.optional(v.number()),
    status: v.string(),
    createdAt: v.number(),
  })
    .index("by_userId", ["userId"])
    .index("by_provider_and_providerInvoiceId", ["provider", "providerInvoiceId"]),

  // Idempotency for every webhook: (provider, eventId) is unique.
  webhookEvents: defineTable({
    provider: v.string(),
    eventId: v.string(),
    type: v.string(),
    receivedAt: v.number(),
    outcome: v.string(),
  }).index("by_provider_and_eventId", ["provider", "eventId"]),

  jobs: defineTable({
    type: v.string(),
    userId: v.optional(v.id("users")),
    status: v.union(
      v.literal("queued"),
      v.literal("running"),
      v.literal("succeeded"),
      v.literal("failed"),
    ),
    attempts: v.number(),
    lastError: v.optional(v.string()),
    startedAt: v.optional(v.number()),
    finishedAt: v.optional(v.number()),
    createdAt: v.number(),
  })
    .index("by_status", ["status"])
    .index("by_userId", ["userId"]),

  incomingSms: defineTable({
    to: v.string(),
    from: v.string(),
    text: v.string(),
    providerMessageId: v.string(),
    receivedAt: v.number(),
  }).index("by_to_and_receivedAt", ["to", "receivedAt"]),

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

  emailOutbox: defineTable({
    userId: v.optional(v.id("users")),
    to: v.string(),
    template: v.string(),
    subject: v.string(),
    body: v.string(),
    status: v.union(v.literal("queued"), v.literal("sent"), v.literal("failed")),
    sendAfter: v.number(),
    attempts: v.number(),
    sentAt: v.optional(v.number()),
    lastError: v.optional(v.string()),
  })
    .index("by_status_and_sendAfter", ["status", "sendAfter"])
    .index("by_userId", ["userId"]),

  alerts: defineTable({
    userId: v.optional(v.id("users")),
    kind: v.string(), // "quota_80", "quota_100", "payment_failed", "provider_down"...
    severity: v.union(v.literal("info"), v.literal("warning"), v.literal("critical")),
    message: v.string(),
    at: v.number(),
    dismissedAt: v.optional(v.number()),
  })
    .index("by_userId_and_at", ["userId", "at"])
    .index("by_kind_and_at", ["kind", "at"]),

  signupAttempts: defineTable({
    email: v.string(),
    ip: v.optional(v.string()),
    outcome: v.string(),
    at: v.number(),
  })
    .index("by_email_and_at", ["email", "at"])
    .index("by_ip_and_at", ["ip", "at"]),
});
