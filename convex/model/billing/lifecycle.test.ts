import { describe, expect, test } from "vitest";
import { type AccountState, transition } from "../accounts/accountState";
import {
  type AccountTarget,
  accountTargetOf,
  governing,
  graceDays,
  pathTo,
  planOfSubscription,
  TRIAL_WARNING_MS,
  trialAction,
} from "./lifecycle";

const STATES: AccountState[] = ["pending", "trial", "active", "past_due", "suspended", "canceled"];
const TARGETS: AccountTarget[] = ["active", "past_due", "suspended", "canceled"];

describe("accountTargetOf", () => {
  test.each([
    ["trialing", false, "active"],
    ["active", false, "active"],
    ["past_due", false, "past_due"],
    ["unpaid", false, "suspended"],
    ["paused", false, "suspended"],
    ["canceled", false, "canceled"],
    ["incomplete_expired", false, null],
    ["incomplete_expired", true, null],
    ["revoked", false, "canceled"],
    ["active", true, "canceled"],
    ["incomplete", false, null],
    ["something_new", false, null],
  ] as const)("%s (ended: %s) -> %s", (status, ended, target) => {
    expect(accountTargetOf({ status, ended })).toBe(target);
  });
});

describe("pathTo", () => {
  for (const from of STATES) {
    for (const target of TARGETS) {
      test(`${from} -> ${target}: every step is legal and it ends where it should`, () => {
        let state = from;
        for (const step of pathTo(from, target)) state = transition(state, { type: step });
        // A suspension whose grace already ran out is lifted only by a payment, not by past_due.
        const expected = from === "suspended" && target === "past_due" ? "suspended" : target;
        expect(state).toBe(expected);
      });
    }
  }

  test("the steps carry the lifecycle's own events", () => {
    expect(pathTo("trial", "active")).toEqual(["checkout_completed"]);
    expect(pathTo("active", "past_due")).toEqual(["payment_failed"]);
    expect(pathTo("past_due", "suspended")).toEqual(["grace_expired"]);
    expect(pathTo("suspended", "active")).toEqual(["payment_recovered"]);
    expect(pathTo("active", "canceled")).toEqual(["cancel"]);
    expect(pathTo("canceled", "canceled")).toEqual([]);
  });
});

describe("governing", () => {
  const s = (status: string, version: number, ended = false) => ({ status, version, ended });
  test("a live subscription that calls for access wins over an ended one, however new", () => {
    const live = s("active", 1);
    expect(governing([s("canceled", 9, true), live])).toBe(live);
  });
  test("a new incomplete subscription governs over an ended one (it calls for no change yet)", () => {
    const incomplete = s("incomplete", 5);
    expect(governing([s("canceled", 9, true), incomplete])).toBe(incomplete);
  });
  test("among ended ones, the newest", () => {
    const newest = s("canceled", 9, true);
    expect(governing([s("canceled", 3, true), newest])).toBe(newest);
    expect(governing([])).toBeNull();
  });
});

describe("planOfSubscription", () => {
  const book = { basic: "price_basic", pro: "price_pro" };
  test("the configured price among the items, else checkout's metadata hint", () => {
    expect(planOfSubscription(["price_metered_overage", "price_pro"], null, book)).toBe("pro");
    expect(planOfSubscription(["price_basic"], "pro", book)).toBe("basic");
    expect(planOfSubscription(["price_other"], "pro", book)).toBe("pro");
    expect(planOfSubscription(["price_other"], "trial", book)).toBeNull();
    expect(planOfSubscription([], null, {})).toBeNull();
  });
});

describe("settings and timing", () => {
  test("BILLING_GRACE_DAYS: a whole number of days, else 7", () => {
    expect(graceDays(undefined)).toBe(7);
    expect(graceDays("")).toBe(7);
    expect(graceDays("3")).toBe(3);
    expect(graceDays("0")).toBe(0);
    expect(graceDays("2.5")).toBe(7);
    expect(graceDays("-1")).toBe(7);
    expect(graceDays("lots")).toBe(7);
  });

  test("trial: nothing until 3 days before the end, then the warning, then expiry", () => {
    const end = Date.UTC(2026, 10, 20);
    expect(trialAction(undefined, end)).toBe("none");
    expect(trialAction(end, end - TRIAL_WARNING_MS - 1)).toBe("none");
    expect(trialAction(end, end - TRIAL_WARNING_MS)).toBe("warn");
    expect(trialAction(end, end - 1)).toBe("warn");
    expect(trialAction(end, end)).toBe("expire");
  });
});
