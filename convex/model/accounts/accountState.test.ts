import { describe, expect, test } from "vitest";
import {
  type AccountEvent,
  type AccountState,
  IllegalTransitionError,
  capabilities,
  transition,
} from "./accountState";

const STATES: AccountState[] = ["pending", "trial", "active", "past_due", "suspended", "canceled"];
const EVENTS: AccountEvent[] = [
  { type: "trial_started" },
  { type: "checkout_completed" },
  { type: "payment_failed" },
  { type: "grace_expired" },
  { type: "payment_recovered" },
  { type: "trial_expired" },
  { type: "cancel" },
  { type: "admin_suspend" },
  { type: "admin_unsuspend", resumeTo: "active" },
  { type: "support_grant" },
];

// The whole legal table, written out: any change to the machine must change this list.
const LEGAL: Record<string, AccountState> = {
  "pending/trial_started": "trial",
  "pending/checkout_completed": "active",
  "trial/checkout_completed": "active",
  "canceled/checkout_completed": "active",
  "active/payment_failed": "past_due",
  "past_due/payment_failed": "past_due",
  "past_due/grace_expired": "suspended",
  "past_due/payment_recovered": "active",
  "suspended/payment_recovered": "active",
  "trial/trial_expired": "canceled",
  "pending/cancel": "canceled",
  "trial/cancel": "canceled",
  "active/cancel": "canceled",
  "past_due/cancel": "canceled",
  "suspended/cancel": "canceled",
  "trial/admin_suspend": "suspended",
  "active/admin_suspend": "suspended",
  "past_due/admin_suspend": "suspended",
  "suspended/admin_unsuspend": "active",
  "pending/support_grant": "active",
  "trial/support_grant": "active",
  "canceled/support_grant": "active",
};

describe("account state machine", () => {
  for (const from of STATES) {
    for (const event of EVENTS) {
      const key = `${from}/${event.type}`;
      const to = LEGAL[key];
      if (to) {
        test(`${from} --${event.type}--> ${to}`, () => {
          expect(transition(from, event)).toBe(to);
        });
      } else {
        test(`${from} rejects ${event.type}`, () => {
          expect(() => transition(from, event)).toThrow(IllegalTransitionError);
        });
      }
    }
  }

  test("unsuspend returns to the state the suspension interrupted, and only to a live one", () => {
    expect(transition("suspended", { type: "admin_unsuspend", resumeTo: "past_due" })).toBe("past_due");
    expect(transition("suspended", { type: "admin_unsuspend", resumeTo: "trial" })).toBe("trial");
    expect(() => transition("suspended", { type: "admin_unsuspend", resumeTo: "canceled" })).toThrow(
      IllegalTransitionError,
    );
  });

  test("only trial, active and past_due accounts may use the proxy", () => {
    expect(STATES.filter((s) => capabilities(s).useProxy)).toEqual(["trial", "active", "past_due"]);
  });

  test("identity is kept while paid or suspended, dropped on cancel", () => {
    expect(STATES.filter((s) => capabilities(s).keepIdentity)).toEqual(["active", "past_due", "suspended"]);
  });

  test("the error names the state and the event", () => {
    expect(() => transition("canceled", { type: "payment_failed" })).toThrow(
      "An account that is canceled cannot take the event payment_failed.",
    );
  });
});
