// Access from the provider's subscription: a pure function of its status, its scheduled
// cancellation and its period, so the dashboard, the Dex API and the tests read one rule.
//
//   trialing, active          -> granted (with "cancels on <date>" when a cancellation is scheduled)
//   past_due                  -> granted with the payment-failed banner (the provider is retrying)
//   incomplete                -> denied: the first payment has not gone through
//   incomplete_expired, unpaid, paused, canceled, revoked, and anything ended -> denied
import type { SubscriptionSnapshot } from "./facts";

export type AccessBanner = "payment_failed" | "cancels_at_period_end";

export interface Access {
  grants: boolean;
  banner: AccessBanner | null;
  /** Why, in one word: the status, or "ended" when a scheduled cancellation has passed. */
  reason: string;
}

type Subscription = Pick<SubscriptionSnapshot, "status" | "ended" | "cancelAtPeriodEnd" | "cancelAt" | "currentPeriodEnd">;

const GRANTING = new Set(["trialing", "active"]);
const DENYING = new Set(["incomplete", "incomplete_expired", "unpaid", "paused", "canceled", "revoked"]);

/** When a scheduled cancellation ends access: cancel_at, else the period end when set to cancel then. */
export function cancelsAt(s: Pick<SubscriptionSnapshot, "cancelAtPeriodEnd" | "cancelAt" | "currentPeriodEnd">): number | null {
  if (s.cancelAt !== null) return s.cancelAt;
  return s.cancelAtPeriodEnd ? s.currentPeriodEnd : null;
}

export function accessOf(s: Subscription, now: number): Access {
  if (s.ended) return { grants: false, banner: null, reason: "ended" };
  if (DENYING.has(s.status)) return { grants: false, banner: null, reason: s.status };
  const endsAt = cancelsAt(s);
  if (endsAt !== null && endsAt <= now) return { grants: false, banner: null, reason: "ended" };
  if (s.status === "past_due") return { grants: true, banner: "payment_failed", reason: s.status };
  if (GRANTING.has(s.status)) {
    return { grants: true, banner: endsAt !== null ? "cancels_at_period_end" : null, reason: s.status };
  }
  // A status this code does not know: deny rather than give away service.
  return { grants: false, banner: null, reason: "unknown_status" };
}
