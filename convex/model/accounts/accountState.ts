// The account state machine. Every change of users.state goes through `transition`,
// so an illegal move is rejected in one place and tested once.
//
//   pending -> trial -> active -> past_due -> suspended -> canceled
//                 \________^  ^______/  (payment recovered)
//   admin suspend from trial/active/past_due; unsuspend returns to the interrupted state.

export type AccountState = "pending" | "trial" | "active" | "past_due" | "suspended" | "canceled";

export type AccountEvent =
  | { type: "trial_started" }
  | { type: "checkout_completed" }
  | { type: "payment_failed" }
  | { type: "grace_expired" }
  | { type: "payment_recovered" }
  | { type: "trial_expired" }
  | { type: "cancel" }
  | { type: "admin_suspend" }
  | { type: "support_grant" }
  | { type: "admin_unsuspend"; resumeTo: AccountState };

export interface Capabilities {
  useProxy: boolean;
  keepIdentity: boolean;
  signIn: boolean;
}

export const CAPABILITIES: Record<AccountState, Capabilities> = {
  pending: { useProxy: false, keepIdentity: false, signIn: true },
  trial: { useProxy: true, keepIdentity: false, signIn: true },
  active: { useProxy: true, keepIdentity: true, signIn: true },
  // Grace period: service continues while the customer fixes their card.
  past_due: { useProxy: true, keepIdentity: true, signIn: true },
  // Suspended accounts keep their identity (it is deprovisioned only on cancel),
  // but nothing may be used until the suspension is lifted.
  suspended: { useProxy: false, keepIdentity: true, signIn: true },
  // Canceled customers can still sign in to see invoices and resubscribe.
  canceled: { useProxy: false, keepIdentity: false, signIn: true },
};

export class IllegalTransitionError extends Error {
  constructor(
    readonly from: AccountState,
    readonly event: AccountEvent["type"],
  ) {
    super(`An account that is ${from} cannot take the event ${event}.`);
    this.name = "IllegalTransitionError";
  }
}

const TABLE: Record<AccountEvent["type"], Partial<Record<AccountState, AccountState>>> = {
  trial_started: { pending: "trial" },
  checkout_completed: { pending: "active", trial: "active", canceled: "active" },
  payment_failed: { active: "past_due", past_due: "past_due" },
  grace_expired: { past_due: "suspended" },
  payment_recovered: { past_due: "active", suspended: "active" },
  trial_expired: { trial: "canceled" },
  cancel: {
    pending: "canceled",
    trial: "canceled",
    active: "canceled",
    past_due: "canceled",
    suspended: "canceled",
  },
  admin_suspend: { trial: "suspended", active: "suspended", past_due: "suspended" },
  admin_unsuspend: {},
  // Support puts an account on a paid plan without a checkout (a comp or a fix-up).
  support_grant: { pending: "active", trial: "active", canceled: "active" },
};

const RESUMABLE: readonly AccountState[] = ["trial", "active", "past_due"];

/** The next state, or IllegalTransitionError. Pure: callers persist the result. */
export function transition(from: AccountState, event: AccountEvent): AccountState {
  if (event.type === "admin_unsuspend") {
    if (from !== "suspended" || !RESUMABLE.includes(event.resumeTo)) {
      throw new IllegalTransitionError(from, event.type);
    }
    return event.resumeTo;
  }
  const to = TABLE[event.type][from];
  if (to === undefined) throw new IllegalTransitionError(from, event.type);
  return to;
}

export function canTransition(from: AccountState, event: AccountEvent): boolean {
  try {
    transition(from, event);
    return true;
  } catch {
    return false;
  }
}

/** A new signed-up account: pending, then immediately trial. */
export function startTrial(): AccountState {
  return transition("pending", { type: "trial_started" });
}

export function capabilities(state: AccountState): Capabilities {
  return CAPABILITIES[state];
}
