// How each account state reads to a person. States come from convex/model/accounts/accountState.ts.
import type { AccountState } from "../../convex/model/accounts/accountState";

export type Tone = "neutral" | "info" | "success" | "warning" | "critical";

export interface StateInfo {
  label: string;
  tone: Tone;
  /** Addressed to the account's owner. */
  explanation: string;
  /** The same fact for support staff looking at someone else's account. */
  staffNote: string;
}

export const STATE_INFO: Record<AccountState, StateInfo> = {
  pending: {
    label: "Pending",
    tone: "neutral",
    explanation: "Your account is being set up. This usually takes a few seconds.",
    staffNote: "Sign-up has not finished: the account cannot use any service yet.",
  },
  trial: {
    label: "Trial",
    tone: "info",
    explanation: "You are on a free trial. Pick a plan before it ends to keep your assistant running.",
    staffNote: "On the free trial: AI proxy only, within the trial quota, until the trial ends.",
  },
  active: {
    label: "Active",
    tone: "success",
    explanation: "Your subscription is active and every service on your plan is available.",
    staffNote: "Paying customer in good standing: every service on the plan is available.",
  },
  past_due: {
    label: "Past due",
    tone: "warning",
    explanation:
      "Your last payment failed; service continues during the grace period. Update your card to avoid a suspension.",
    staffNote: "The last payment failed. Service continues during the grace period; the account is suspended if it is not settled.",
  },
  suspended: {
    label: "Suspended",
    tone: "critical",
    explanation:
      "Your account is suspended: API calls are refused, but your data and identity are kept. Contact support or settle the balance to resume.",
    staffNote: "Suspended: API calls are refused, identity and data are kept. Unsuspending returns it to its previous state.",
  },
  canceled: {
    label: "Canceled",
    tone: "neutral",
    explanation:
      "Your subscription is canceled and services are off. You can still sign in, see invoices and subscribe again.",
    staffNote: "Canceled: services are off and the identity is deprovisioned. The customer can still sign in and resubscribe.",
  },
};

export function stateInfo(state: string): StateInfo {
  return (
    STATE_INFO[state as AccountState] ?? {
      label: state,
      tone: "neutral" as Tone,
      explanation: "This account is in a state the dashboard does not know yet.",
      staffNote: "This account is in a state the dashboard does not know yet.",
    }
  );
}
