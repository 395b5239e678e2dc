// What the SPA, the Dex API and support see of an account's billing, read from the rows the
// webhooks keep. Access and the banner come from model/billing/access.ts at read time, so
// "cancels on <date>" and the payment-failed banner follow the subscription live.
import { v, type Infer } from "convex/values";
import type { Doc } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import { accessOf, cancelsAt } from "../model/billing/access";
import { project } from "../model/rows";
import schema from "../schema";
import { accountStateValidator, billingProviderValidator, planValidator } from "../schema/validators";
import { governingRow, snapshotOfRow, subscriptionsOf } from "./apply";

const nullableNumber = v.union(v.number(), v.null());
const sub = schema.tables.subscriptions.validator.fields;
const invoice = schema.tables.invoices.validator.fields;

export const subscriptionViewValidator = v.object({
  provider: billingProviderValidator,
  providerSubscriptionId: v.string(),
  plan: planValidator,
  /** The provider's status, verbatim. */
  status: sub.status,
  ended: v.boolean(),
  /** Access as model/billing/access.ts decides it now. */
  grants: v.boolean(),
  banner: v.union(v.null(), v.literal("payment_failed"), v.literal("cancels_at_period_end")),
  /** When a scheduled cancellation ends the subscription ("cancels on <date>"). */
  cancelsAt: nullableNumber,
  currentPeriodStart: nullableNumber,
  currentPeriodEnd: nullableNumber,
  /** While past_due: when the account is suspended unless the payment goes through. */
  graceEndsAt: nullableNumber,
  /** Checkout completed; the subscription's own event has not arrived yet. */
  pending: v.boolean(),
  /** The provider time of the state shown. */
  providerUpdatedAt: v.number(),
});

export const billingSummaryValidator = v.object({
  plan: planValidator,
  state: accountStateValidator,
  /** The provider that bills this account; null until its first checkout. */
  provider: v.union(billingProviderValidator, v.null()),
  trialEndsAt: nullableNumber,
  /** The subscription that decides the account, if it ever had one. */
  subscription: v.union(v.null(), subscriptionViewValidator),
  /** No live subscription and not suspended by support: choosing a plan starts a checkout. */
  canStartCheckout: v.boolean(),
  /** A provider customer exists: "Manage billing" opens the portal. */
  canOpenPortal: v.boolean(),
});

export type BillingSummary = Infer<typeof billingSummaryValidator>;

export function subscriptionView(row: Doc<"subscriptions">, now: number): Infer<typeof subscriptionViewValidator> {
  const snapshot = snapshotOfRow(row);
  const access = accessOf(snapshot, now);
  return {
    provider: row.provider,
    providerSubscriptionId: row.providerSubscriptionId,
    plan: row.plan,
    status: row.status,
    ended: row.ended,
    grants: access.grants,
    banner: access.banner,
    cancelsAt: row.ended ? null : cancelsAt(snapshot),
    currentPeriodStart: row.currentPeriodStart ?? null,
    currentPeriodEnd: row.currentPeriodEnd ?? null,
    graceEndsAt: row.status === "past_due" && !row.ended ? (row.graceEndsAt ?? null) : null,
    pending: row.provisional,
    providerUpdatedAt: row.providerUpdatedAt,
  };
}

export async function billingSummaryOf(ctx: QueryCtx, user: Doc<"users">, now: number): Promise<BillingSummary> {
  const gov = governingRow(await subscriptionsOf(ctx, user._id));
  const live = gov !== null && !gov.ended && gov.status !== "incomplete" && gov.status !== "incomplete_expired";
  const heldBySupport = user.state === "suspended" && user.stateBeforeSuspension !== undefined;
  return {
    plan: user.plan,
    state: user.state,
    provider: user.billingProvider ?? null,
    trialEndsAt: user.state === "trial" ? (user.trialEndsAt ?? null) : null,
    subscription: gov === null ? null : subscriptionView(gov, now),
    canStartCheckout: !live && !heldBySupport,
    canOpenPortal: user.stripeCustomerId !== undefined || user.polarCustomerId !== undefined,
  };
}

export const invoiceViewValidator = v.object({
  _id: v.id("invoices"),
  provider: invoice.provider,
  providerInvoiceId: invoice.providerInvoiceId,
  number: v.union(v.string(), v.null()),
  status: invoice.status,
  amountMicros: invoice.amountMicros,
  currency: invoice.currency,
  periodStart: nullableNumber,
  periodEnd: nullableNumber,
  hostedUrl: v.union(v.string(), v.null()),
  createdAt: invoice.createdAt,
});

export function invoiceView(row: Doc<"invoices">): Infer<typeof invoiceViewValidator> {
  return project(
    row,
    ["_id", "provider", "providerInvoiceId", "status", "amountMicros", "currency", "createdAt"],
    ["number", "periodStart", "periodEnd", "hostedUrl"],
  );
}
