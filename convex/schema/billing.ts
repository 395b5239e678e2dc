// Billing. Empty until the billing issue (#8) lands: checkout, verified webhooks applied once
// (webhookEvents is their idempotency record), dunning, invoices and overage.
import { defineTable } from "convex/server";
import { v } from "convex/values";
import { billingProviderValidator, planValidator } from "./validators";

export const billingTables = {
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
};
