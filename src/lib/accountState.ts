// How each account state reads to a person. States come from convex/model/accountState.ts.
import type { AccountState } from "../../convex/model/accountState";

export type Tone = "neutral" | "info" | "success" | "warning" | "critical";

export const STATE_INFO: Record<AccountState, { label: string; tone: Tone; explanation: string }> = {
  pending: {
    label: "Pending",
    tone: "neutral",
    explanation: "Your account is being set up. This usually takes a few seconds.",
  },
  trial: {
    label: "Trial",
    tone: "info",
    explanation: "You are on a free trial. Pick a plan before it ends to keep your assistant running.",
  },
  active: {
    label: "Active",
    tone: "success",
    explanation: "Your subscription is active and every service on your plan is available.",
  },
  past_due: {
    label: "Past due",
    tone: "warning",
    explanation:
      "Your last payment failed; service continues during the grace period. Update your card to avoid a suspension.",
  },
  suspended: {
    label: "Suspended",
    tone: "critical",
    explanation:
      "Your account is suspended: API calls are refused, but your data and identity are kept. Contact support or settle the balance to resume.",
  },
  canceled: {
    label: "Canceled",
    tone: "neutral",
    explanation:
      "Your subscription is canceled and services are off. You can still sign in, see invoices and subscribe again.",
  },
};

export function stateInfo(state: string) {
  return (
    STATE_INFO[state as AccountState] ?? {
      label: state,
      tone: "neutral" as Tone,
      explanation: "This account is in a state the dashboard does not know yet.",
    }
  );
}
