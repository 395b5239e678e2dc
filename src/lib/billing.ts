// How billing reads to a person: the shapes come from convex/billing/ (summary.ts, support.ts),
// the words from here. Pure, so the tables below are unit-tested (billing.test.ts).
import type { FunctionReturnType } from "convex/server";
import type { api } from "../../convex/_generated/api";
import { describeError } from "./errors";
import { formatMoney } from "./format";
import { labelsByTone, type Label } from "./labels";

export type BillingSummary = FunctionReturnType<typeof api.billing.summary.mine>;
export type SubscriptionView = NonNullable<BillingSummary["subscription"]>;
export type InvoiceRow = FunctionReturnType<typeof api.billing.summary.invoices>["page"][number];
export type SupportBilling = FunctionReturnType<typeof api.billing.support.account>;
export type BillingEventRow = SupportBilling["events"][number];
export type DeprovisionRow = SupportBilling["deprovisionRequests"][number];
export type BillingProvider = NonNullable<BillingSummary["provider"]>;

export const PROVIDER_NAMES: Record<BillingProvider, string> = { stripe: "Stripe", polar: "Polar" };

// The provider's own status strings (Stripe's and Polar's), kept verbatim on the subscription.
const SUBSCRIPTION_STATUS: Record<string, Label> = labelsByTone({
  success: { active: "Active" },
  info: { trialing: "Trialing", incomplete: "Awaiting first payment" },
  warning: { past_due: "Payment failed" },
  critical: { unpaid: "Unpaid" },
  neutral: { incomplete_expired: "First payment expired", paused: "Paused", canceled: "Canceled", revoked: "Revoked" },
});

/** The subscription's status as a badge; an ended subscription reads "Ended" whatever it said last. */
export function subscriptionStatus(sub: Pick<SubscriptionView, "status" | "ended">): Label {
  if (sub.ended) return { label: "Ended", tone: "neutral" };
  return SUBSCRIPTION_STATUS[sub.status] ?? { label: sub.status, tone: "neutral" };
}

export const INVOICE_STATUS: Record<InvoiceRow["status"], Label> = labelsByTone({
  success: { paid: "Paid" },
  info: { open: "Open" },
  critical: { payment_failed: "Payment failed", uncollectible: "Uncollectible" },
  neutral: { partially_refunded: "Partly refunded", refunded: "Refunded", void: "Void" },
});

export const EVENT_STATUS: Record<NonNullable<BillingEventRow["status"]>, Label> = {
  applied: { label: "Applied", tone: "success" },
  ignored: { label: "Ignored", tone: "neutral" },
  failed: { label: "Failed", tone: "critical" },
};

/** An event's status; rows recorded before statuses existed read as applied, as they were. */
export function eventStatus(status: BillingEventRow["status"]): Label {
  return EVENT_STATUS[status ?? "applied"];
}

/**
 * An invoice's amount (integer micro-units of its currency): "$50.00" for dollars, the currency's
 * own format otherwise ("€50.00"), and "50.00 XYZ" for a code the browser does not know.
 */
export function formatInvoiceAmount(micros: number, currency: string): string {
  const code = currency.toUpperCase();
  if (code === "USD") return formatMoney(micros);
  const amount = micros / 1e6;
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency: code }).format(amount);
  } catch {
    return `${amount.toFixed(2)} ${code}`;
  }
}

/** Where a checkout sent the customer back: `/billing?checkout=success|canceled`. */
export type CheckoutReturn = "success" | "canceled";

export function checkoutReturnOf(param: string | null): CheckoutReturn | null {
  return param === "success" || param === "canceled" ? param : null;
}

/** What the customer can do about a failed checkout or portal call. */
export type BillingErrorAction = "manage" | "retry" | "choose_plan" | null;

export interface BillingErrorInfo {
  title: string;
  message: string;
  /** The server's own words, when they add something (the missing setting, the provider's reply). */
  detail: string | null;
  action: BillingErrorAction;
}

/** How one error code reads; what it leaves out comes from the server's message. */
interface BillingErrorWords {
  title: string;
  /** Our own words; without them, the server's message is the message. */
  message?: string;
  /** The server's message is kept as the detail (the missing setting, the provider's reply). */
  serverDetail?: boolean;
  action: BillingErrorAction;
}

// ConvexError codes from convex/billing/sessions.ts.
const BILLING_ERRORS: Record<string, BillingErrorWords> = {
  CONFLICT: {
    title: "You already have a subscription",
    message: "Manage it instead: change your plan, your payment method or cancel under Manage billing.",
    action: "manage",
  },
  BILLING_NOT_CONFIGURED: {
    title: "Billing is not set up on this deployment",
    message: "Plans can't be bought here yet. Your account keeps working as it is; contact support to change plans.",
    serverDetail: true,
    action: null,
  },
  BILLING_PROVIDER_ERROR: {
    title: "The payment provider did not answer",
    message: "Nothing was charged. Try again in a minute.",
    serverDetail: true,
    action: "retry",
  },
  NOT_FOUND: { title: "No billing account yet", action: "choose_plan" },
  FORBIDDEN: { title: "Billing is on hold", action: null },
};

const UNKNOWN_BILLING_ERROR: BillingErrorWords = { title: "Something went wrong", action: "retry" };

/**
 * The errors of `billing.checkout.start` and `billing.portal.open` in the customer's terms, with
 * the one thing that helps.
 */
export function billingErrorInfo(error: unknown): BillingErrorInfo {
  const { code, message } = describeError(error);
  const words = code !== undefined && Object.hasOwn(BILLING_ERRORS, code) ? BILLING_ERRORS[code] : UNKNOWN_BILLING_ERROR;
  return {
    title: words.title,
    message: words.message ?? message,
    detail: words.serverDetail ? message : null,
    action: words.action,
  };
}
