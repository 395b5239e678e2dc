// The ops console (#13): admin API keys, refunds issued through the billing provider, and the
// overview's aggregate rows (recomputed in bounded batches by admin/overview.ts, so the page
// reads a few rows however many accounts and invoices there are).
import { defineTable } from "convex/server";
import { v } from "convex/values";
import { billingProviderValidator } from "./validators";

export const refundStatusValidator = v.union(v.literal("pending"), v.literal("succeeded"), v.literal("failed"));

/** Counts of accounts per value (state or plan name -> accounts). */
const countsValidator = v.record(v.string(), v.number());

/** One month's figures as the overview shows them (micro-dollars, whole tokens). */
export const monthFiguresValidator = v.object({
  tokensIn: v.number(),
  tokensOut: v.number(),
  characters: v.number(),
  costMicros: v.number(),
  requests: v.number(),
  activeAccounts: v.number(),
  // Invoices created in the month that were paid (gross, before refunds), and what was refunded of them.
  revenueMicros: v.number(),
  refundedMicros: v.number(),
  paidInvoices: v.number(),
});

export const adminTables = {
  // Keys for the admin HTTP API (/v1/admin/*). Like customer API keys, only the SHA-256 of the
  // secret is stored; the secret (`pdx_admin_` + 43 base62) is shown once, at creation.
  adminApiKeys: defineTable({
    name: v.string(),
    prefix: v.string(),
    hash: v.string(),
    createdAt: v.number(),
    createdById: v.id("users"),
    createdByLabel: v.string(),
    lastUsedAt: v.optional(v.number()),
    revokedAt: v.optional(v.number()),
    revokedByLabel: v.optional(v.string()),
  }).index("by_hash", ["hash"]),

  // One row per refund support asked for. The idempotency key (chosen by the console when the
  // form opens) is unique: a double submit finds this row, and the provider call carries the
  // same key, so a retried call cannot refund twice.
  invoiceRefunds: defineTable({
    invoiceId: v.id("invoices"),
    userId: v.id("users"),
    provider: billingProviderValidator,
    providerInvoiceId: v.string(),
    amountMicros: v.number(),
    currency: v.string(),
    idempotencyKey: v.string(),
    reason: v.string(),
    actorId: v.optional(v.id("users")),
    actorLabel: v.string(),
    status: refundStatusValidator,
    providerRefundId: v.optional(v.string()),
    error: v.optional(v.string()),
    workId: v.optional(v.string()),
    requestedAt: v.number(),
    settledAt: v.optional(v.number()),
  })
    .index("by_idempotencyKey", ["idempotencyKey"])
    .index("by_invoiceId", ["invoiceId"])
    .index("by_userId_and_requestedAt", ["userId", "requestedAt"]),

  // The overview's figures per month, written whole by the last step of a refresh.
  adminMonthlyTotals: defineTable({
    month: v.string(),
    ...monthFiguresValidator.fields,
    computedAt: v.number(),
  }).index("by_month", ["month"]),

  // Accounts by state and by plan (one row, name "accounts"), written by the same refresh.
  adminAccountTotals: defineTable({
    name: v.string(),
    total: v.number(),
    byState: countsValidator,
    byPlan: countsValidator,
    computedAt: v.number(),
  }).index("by_name", ["name"]),

  // A refresh in progress: which table it is walking, its cursor and the sums so far. One row at
  // most; the last step writes the totals above and deletes it.
  adminOverviewRuns: defineTable({
    phase: v.union(v.literal("usage"), v.literal("invoices"), v.literal("accounts")),
    cursor: v.union(v.string(), v.null()),
    months: v.array(v.string()),
    // Index into `months` while walking usageMonthly (one month's rows at a time).
    monthIndex: v.number(),
    sums: v.record(v.string(), monthFiguresValidator),
    total: v.number(),
    byState: countsValidator,
    byPlan: countsValidator,
    startedAt: v.number(),
    steps: v.number(),
  }),
};
