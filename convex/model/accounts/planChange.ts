// What a support plan override does to an account, decided without the database.
import { type AccountEvent, type AccountState, transition } from "./accountState";
import type { PlanId } from "../plans";

export interface PlanChange {
  plan: PlanId;
  state: AccountState;
  /** The state-machine event applied, if the state moves. */
  event?: AccountEvent["type"];
}

/**
 * Paid plans (basic, pro) may be granted from any state but suspended: a grant from
 * pending/trial/canceled also activates the account. Suspended accounts must be
 * unsuspended first, so a plan change never silently lifts a suspension. "trial" is
 * only a plan for trial accounts: ending paid service is a cancellation, not a plan change.
 */
export function planOverride(
  current: { plan: PlanId; state: AccountState },
  plan: PlanId,
): PlanChange | { error: string } {
  if (current.state === "suspended") {
    return { error: "The account is suspended: unsuspend it before changing its plan." };
  }
  if (plan === "trial") {
    if (current.state !== "trial" && current.state !== "pending") {
      return {
        error: `Only trial accounts can be on the trial plan; this account is ${current.state}. Cancel it instead.`,
      };
    }
    return { plan, state: current.state };
  }
  if (current.state === "active" || current.state === "past_due") {
    return { plan, state: current.state };
  }
  return { plan, state: transition(current.state, { type: "support_grant" }), event: "support_grant" };
}
