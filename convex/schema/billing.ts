// Billing (#8): hosted checkout, verified webhooks applied once and in order, dunning, invoices.
// Every webhook is one webhookEvents row (its idempotency record and its outcome); each billing
// row keeps the newest provider time it applied, so late events never move it back
// (convex/model/billing/ordering.ts). Overage is reported through an outbox under a per-user,
// per-month reported-through cursor, and reconciled monthly (convex/billing/overage*.ts).
import { defineTable } from "convex/server";
import { type Validator, v } from "convex/values";
import { billingProviderValidator, planValidator } from "./validators";

const nullable = <T extends Validator<any, "required", any>>(x: T) => v.union(x, v.null());

const party = {
  customerId: nullable(v.string()),
  userHint: nullable(v.string()),
};

export const invoiceStatusValidator = v.union(
  v.literal("open"),
  v.literal("payment_failed"),
  v.literal("uncollectible"),
  v.literal("paid"),
  v.literal("partially_refunded"),
  v.literal("refunded"),
  v.literal("void"),
);

// A provider event in our terms (model/billing/facts.ts `BillingFact`), as the webhook
// normalised it: kept on the event's row so support can re-apply it.
export const billingFactValidator = v.union(
  v.object({
    kind: v.literal("subscription"),
    ...party,
    subscriptionId: v.string(),
    status: v.string(),
    ended: v.boolean(),
    cancelAtPeriodEnd: v.boolean(),
    cancelAt: nullable(v.number()),
    currentPeriodStart: nullable(v.number()),
    currentPeriodEnd: nullable(v.number()),
    version: v.number(),
    priceIds: v.array(v.string()),
    planHint: nullable(v.string()),
  }),
  v.object({
    kind: v.literal("checkout"),
    ...party,
    checkoutId: v.string(),
    subscriptionId: nullable(v.string()),
    paymentStatus: v.string(),
    paid: v.boolean(),
    planHint: nullable(v.string()),
    version: v.number(),
  }),
  v.object({
    kind: v.literal("invoice"),
    ...party,
    invoiceId: v.string(),
    subscriptionId: nullable(v.string()),
    status: invoiceStatusValidator,
    amountCents: v.number(),
    currency: v.string(),
    periodStart: nullable(v.number()),
    periodEnd: nullable(v.number()),
    hostedUrl: nullable(v.string()),
    number: nullable(v.string()),
    createdAt: v.number(),
    version: v.number(),
  }),
  v.object({ kind: v.literal("ignored"), reason: v.string() }),
  v.object({ kind: v.literal("malformed"), reason: v.string() }),
);

// applied: the event changed something; ignored: nothing to do by design (stale, duplicate
// state, a type we do not use); failed: it could not be applied (no account, unknown plan):
// support can re-apply it once the cause is fixed.
export const webhookStatusValidator = v.union(v.literal("applied"), v.literal("ignored"), v.literal("failed"));

export const overageMeterValidator = v.union(v.literal("input"), v.literal("output"));

/** Tokens on each overage meter (model/billing/overage.ts `MeterQuantities`). */
export const meterQuantitiesValidator = v.object({ input: v.number(), output: v.number() });

// pending: decided, owned by a providerPool run (workId); sent: the provider acknowledged it
// (accepted, or recognised the identifier as one it already had); failed: retries ran out or
// the provider refused it: support resends it under the same identifier.
export const overageOutboxStatusValidator = v.union(v.literal("pending"), v.literal("sent"), v.literal("failed"));

export const overageDiscrepancyValidator = v.object({
  kind: v.union(v.literal("unreported"), v.literal("over_reported"), v.literal("unsent"), v.literal("provider_mismatch")),
  meter: overageMeterValidator,
  expected: v.number(),
  actual: v.number(),
});

export const billingTables = {
  subscriptions: defineTable({
    userId: v.id("users"),
    provider: billingProviderValidator,
    providerSubscriptionId: v.string(),
    customerId: v.optional(v.string()),
    plan: planValidator,
    status: v.string(), // the provider's own status string, kept verbatim
    // Deleted (Stripe) or revoked (Polar): nothing that arrives later changes this row.
    ended: v.boolean(),
    currentPeriodStart: v.optional(v.number()),
    currentPeriodEnd: v.optional(v.number()),
    cancelAtPeriodEnd: v.boolean(),
    cancelAt: v.optional(v.number()),
    // The provider time of the state this row holds (ordering key, epoch ms).
    providerUpdatedAt: v.number(),
    // Written by checkout.session.completed before the subscription's own event arrived; any
    // real snapshot replaces it.
    provisional: v.boolean(),
    // Provider time the subscription became past_due, and the scheduled end of its grace.
    pastDueSince: v.optional(v.number()),
    graceEndsAt: v.optional(v.number()),
    graceJobId: v.optional(v.id("_scheduled_functions")),
    updatedAt: v.number(),
  })
    .index("by_userId", ["userId"])
    .index("by_provider_and_providerSubscriptionId", ["provider", "providerSubscriptionId"]),

  invoices: defineTable({
    userId: v.id("users"),
    provider: billingProviderValidator,
    // Stripe invoice id, Polar order id.
    providerInvoiceId: v.string(),
    providerSubscriptionId: v.optional(v.string()),
    amountMicros: v.number(),
    currency: v.string(),
    periodStart: v.optional(v.number()),
    periodEnd: v.optional(v.number()),
    status: invoiceStatusValidator,
    number: v.optional(v.string()),
    // The provider's hosted invoice page (long-lived by design, unlike portal sessions).
    hostedUrl: v.optional(v.string()),
    createdAt: v.number(),
    providerUpdatedAt: v.number(),
  })
    .index("by_userId_and_createdAt", ["userId", "createdAt"])
    .index("by_provider_and_providerInvoiceId", ["provider", "providerInvoiceId"]),

  // Idempotency for every webhook (Clerk's too): (provider, eventId) is unique.
  webhookEvents: defineTable({
    provider: v.string(),
    eventId: v.string(),
    type: v.string(),
    receivedAt: v.number(),
    outcome: v.string(),
    // Billing events: whom it concerned, whether it changed anything, and the fact itself.
    userId: v.optional(v.id("users")),
    status: v.optional(webhookStatusValidator),
    fact: v.optional(billingFactValidator),
    // A support re-apply: when, and the provider re-fetch a same-second tie enqueued.
    reappliedAt: v.optional(v.number()),
    refetchWorkId: v.optional(v.string()),
  })
    .index("by_provider_and_eventId", ["provider", "eventId"])
    .index("by_userId_and_receivedAt", ["userId", "receivedAt"])
    .index("by_status_and_receivedAt", ["status", "receivedAt"]),

  // One provider customer per user and provider (also on users.stripeCustomerId /
  // polarCustomerId): how a webhook finds the account a customer id belongs to.
  billingCustomers: defineTable({
    userId: v.id("users"),
    provider: billingProviderValidator,
    customerId: v.string(),
    createdAt: v.number(),
  })
    .index("by_provider_and_customerId", ["provider", "customerId"])
    .index("by_userId_and_provider", ["userId", "provider"]),

  // A subscription ended (deleted/revoked): what the paid plan provisioned (mailbox, number,
  // Signal) is taken down. One row per ended subscription, the record support reads. The account's
  // cancel already made its identity follow (identity/lifecycle.ts followAccount) in the same
  // transaction, so the row is written "fulfilled" (fulfilledAt) when no live identity remains,
  // and stays "requested" only if one does (support re-provisions or deprovisions by hand).
  deprovisionRequests: defineTable({
    userId: v.id("users"),
    provider: billingProviderValidator,
    providerSubscriptionId: v.string(),
    requestedAt: v.number(),
    status: v.union(v.literal("requested"), v.literal("fulfilled")),
    fulfilledAt: v.optional(v.number()),
  })
    .index("by_provider_and_providerSubscriptionId", ["provider", "providerSubscriptionId"])
    .index("by_status_and_requestedAt", ["status", "requestedAt"])
    .index("by_userId", ["userId"]),

  // The reported-through cursor of one user's month: the billable tokens per meter for which an
  // overageOutbox row exists. Advanced only in the mutation that inserts those rows, so a chunk
  // is decided exactly once; `sent` counts the ones the provider has acknowledged.
  overageCursors: defineTable({
    userId: v.id("users"),
    month: v.string(),
    provider: billingProviderValidator,
    // The plan the last decision priced by (the account's plan then).
    plan: planValidator,
    reported: meterQuantitiesValidator,
    sent: meterQuantitiesValidator,
    decidedAt: v.number(),
    // The first decision after the month ended (the last partial chunks went out).
    closedAt: v.optional(v.number()),
  })
    .index("by_userId_and_month", ["userId", "month"])
    .index("by_month", ["month"]),

  // One provider usage event per row: a chunk [from, to) of one meter's billable tokens. The
  // identifier (Stripe `identifier`, Polar `external_id`) is fixed when the row is written and
  // sent unchanged on every attempt, so the provider drops any repeat.
  overageOutbox: defineTable({
    userId: v.id("users"),
    month: v.string(),
    provider: billingProviderValidator,
    meter: overageMeterValidator,
    from: v.number(),
    to: v.number(),
    identifier: v.string(),
    eventName: v.string(),
    // Stripe's customer (Polar finds the customer by external_customer_id, our user id).
    customerId: v.optional(v.string()),
    // When the usage happened (the decision, or the month's last second): the event's timestamp.
    occurredAt: v.number(),
    status: overageOutboxStatusValidator,
    // accepted: new to the provider; duplicate: it already had the identifier (a retry after
    // a send whose acknowledgement was lost).
    outcome: v.optional(v.union(v.literal("accepted"), v.literal("duplicate"))),
    workId: v.optional(v.string()),
    createdAt: v.number(),
    sentAt: v.optional(v.number()),
    lastError: v.optional(v.string()),
  })
    .index("by_identifier", ["identifier"])
    .index("by_userId_and_month", ["userId", "month"])
    .index("by_status_and_createdAt", ["status", "createdAt"]),

  // The monthly check of one user's month: ledger, cursor, acknowledgements and the provider's
  // own totals side by side. Rewritten by each check; an alert is raised when it changes to a
  // new set of discrepancies.
  overageReconciliations: defineTable({
    userId: v.id("users"),
    month: v.string(),
    provider: billingProviderValidator,
    plan: planValidator,
    status: v.union(v.literal("ok"), v.literal("discrepancy")),
    billable: meterQuantitiesValidator,
    reported: meterQuantitiesValidator,
    sent: meterQuantitiesValidator,
    // The provider's meter totals for the month; null when its API offers none (Polar) or it
    // could not be read (providerNote says why).
    providerTotals: v.union(meterQuantitiesValidator, v.null()),
    providerNote: v.optional(v.string()),
    discrepancies: v.array(overageDiscrepancyValidator),
    checkedAt: v.number(),
    alertId: v.optional(v.id("alerts")),
  })
    .index("by_userId_and_month", ["userId", "month"])
    .index("by_status_and_checkedAt", ["status", "checkedAt"]),
};
