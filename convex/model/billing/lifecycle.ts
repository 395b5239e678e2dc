// What the provider's subscriptions mean for the account: the state the account should be in
// and the state-machine events (model/accounts/accountState.ts) that take it there. Applied by
// convex/billing/ after each change to a subscription row, so the account always follows the
// newest state of its governing subscription, however the events arrived.
import type { AccountEvent, AccountState } from "../accounts/accountState";
import type { PlanId } from "../plans";
import type { SubscriptionSnapshot } from "./facts";

export type AccountTarget = "active" | "past_due" | "suspended" | "canceled";

type Sub = Pick<SubscriptionSnapshot, "status" | "ended" | "version">;

/**
 * The account state a subscription calls for, or null when it calls for none (an `incomplete`
 * subscription, whose first payment has not gone through, or one that expired that way: the
 * account stays as it is).
 * A scheduled cancellation keeps the account active: the provider ends the subscription at
 * period end and that event cancels the account.
 */
export function accountTargetOf(s: Pick<SubscriptionSnapshot, "status" | "ended">): AccountTarget | null {
  // The first payment never went through (incomplete, then expired): the subscription never
  // gave access, so its end takes nothing away; a trial stays a trial.
  if (s.status === "incomplete_expired") return null;
  if (s.ended) return "canceled";
  switch (s.status) {
    case "trialing":
    case "active":
      return "active";
    case "past_due":
      return "past_due";
    // Retries exhausted (Stripe's "mark unpaid" setting), or a trial ended without a card.
    case "unpaid":
    case "paused":
      return "suspended";
    case "canceled":
    case "revoked":
      return "canceled";
    default:
      return null;
  }
}

type Step = Exclude<AccountEvent["type"], "admin_unsuspend">;

/**
 * The events that take an account from `from` to `target`, each legal in the state machine.
 * `suspended` -> `past_due` is no step at all: the grace period already ran out and only a
 * payment (target `active`) lifts it.
 */
export function pathTo(from: AccountState, target: AccountTarget): Step[] {
  const fresh = from === "pending" || from === "trial" || from === "canceled";
  switch (target) {
    case "active":
      if (fresh) return ["checkout_completed"];
      if (from === "past_due" || from === "suspended") return ["payment_recovered"];
      return [];
    case "past_due":
      if (fresh) return ["checkout_completed", "payment_failed"];
      if (from === "active") return ["payment_failed"];
      return [];
    case "suspended":
      if (fresh) return ["checkout_completed", "payment_failed", "grace_expired"];
      if (from === "active") return ["payment_failed", "grace_expired"];
      if (from === "past_due") return ["grace_expired"];
      return [];
    case "canceled":
      return from === "canceled" ? [] : ["cancel"];
  }
}

/**
 * The subscription that decides the account when a customer has several (a canceled one and
 * the one they bought after it): one that is not ended and calls for access, else one that is
 * not ended, else the latest ended one; the newest provider time breaks ties.
 */
export function governing<S extends Sub>(subs: readonly S[]): S | null {
  const rank = (s: Sub) => {
    if (s.ended) return 0;
    const target = accountTargetOf(s);
    return target === "active" || target === "past_due" ? 2 : 1;
  };
  let best: S | null = null;
  for (const s of subs) {
    if (best === null || rank(s) > rank(best) || (rank(s) === rank(best) && s.version > best.version)) best = s;
  }
  return best;
}

/** The plan a subscription is for: the first price (or product) that is one of ours, else checkout's hint. */
export function planOfSubscription(
  priceIds: readonly string[],
  planHint: string | null,
  book: Partial<Record<"basic" | "pro", string>>,
): "basic" | "pro" | null {
  for (const id of priceIds) {
    if (book.basic !== undefined && id === book.basic) return "basic";
    if (book.pro !== undefined && id === book.pro) return "pro";
  }
  return planHint === "basic" || planHint === "pro" ? planHint : null;
}

export function isPaidPlan(plan: string): plan is Exclude<PlanId, "trial"> {
  return plan === "basic" || plan === "pro";
}

export const DAY_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_GRACE_DAYS = 7;
/** The trial-ending mail and in-app alert go out this long before trialEndsAt. */
export const TRIAL_WARNING_MS = 3 * DAY_MS;

/** BILLING_GRACE_DAYS: a whole number of days (0..60), else the default 7. */
export function graceDays(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === "") return DEFAULT_GRACE_DAYS;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 && n <= 60 ? n : DEFAULT_GRACE_DAYS;
}

/** What the trial sweep does with a trial account at `now`. */
export function trialAction(trialEndsAt: number | undefined, now: number): "expire" | "warn" | "none" {
  if (trialEndsAt === undefined) return "none";
  if (trialEndsAt <= now) return "expire";
  if (trialEndsAt - TRIAL_WARNING_MS <= now) return "warn";
  return "none";
}
