import { describe, expect, test } from "vitest";
import { accessOf, cancelsAt } from "./access";

const NOW = Date.UTC(2026, 10, 15);
const DAY = 86_400_000;

const sub = (over: Partial<Parameters<typeof accessOf>[0]> = {}) => ({
  status: "active",
  ended: false,
  cancelAtPeriodEnd: false,
  cancelAt: null,
  currentPeriodEnd: NOW + 10 * DAY,
  ...over,
});

describe("access from the provider's subscription", () => {
  const table: Array<[string, Partial<Parameters<typeof accessOf>[0]>, { grants: boolean; banner: string | null; reason: string }]> = [
    ["trialing grants", { status: "trialing" }, { grants: true, banner: null, reason: "trialing" }],
    ["active grants", { status: "active" }, { grants: true, banner: null, reason: "active" }],
    ["past_due grants with the payment-failed banner", { status: "past_due" }, { grants: true, banner: "payment_failed", reason: "past_due" }],
    ["incomplete denies", { status: "incomplete" }, { grants: false, banner: null, reason: "incomplete" }],
    ["incomplete_expired denies", { status: "incomplete_expired" }, { grants: false, banner: null, reason: "incomplete_expired" }],
    ["unpaid denies", { status: "unpaid" }, { grants: false, banner: null, reason: "unpaid" }],
    ["paused denies", { status: "paused" }, { grants: false, banner: null, reason: "paused" }],
    ["canceled denies", { status: "canceled" }, { grants: false, banner: null, reason: "canceled" }],
    ["revoked denies", { status: "revoked" }, { grants: false, banner: null, reason: "revoked" }],
    ["an ended subscription denies whatever its status says", { status: "active", ended: true }, { grants: false, banner: null, reason: "ended" }],
    [
      "cancel at period end, period still running: grants with the cancels banner",
      { cancelAtPeriodEnd: true },
      { grants: true, banner: "cancels_at_period_end", reason: "active" },
    ],
    [
      "cancel_at in the future: grants with the cancels banner",
      { cancelAt: NOW + DAY },
      { grants: true, banner: "cancels_at_period_end", reason: "active" },
    ],
    ["cancel at period end, period over: denies", { cancelAtPeriodEnd: true, currentPeriodEnd: NOW - 1 }, { grants: false, banner: null, reason: "ended" }],
    ["cancel_at passed: denies", { cancelAt: NOW }, { grants: false, banner: null, reason: "ended" }],
    ["past_due with a passed cancel_at: denies", { status: "past_due", cancelAt: NOW - DAY }, { grants: false, banner: null, reason: "ended" }],
    ["a status this code does not know denies", { status: "something_new" }, { grants: false, banner: null, reason: "unknown_status" }],
  ];
  test.each(table)("%s", (_name, over, expected) => {
    expect(accessOf(sub(over), NOW)).toEqual(expected);
  });
});

describe("cancelsAt", () => {
  test("cancel_at wins; else the period end when set to cancel then; else none", () => {
    expect(cancelsAt({ cancelAt: 5, cancelAtPeriodEnd: true, currentPeriodEnd: 9 })).toBe(5);
    expect(cancelsAt({ cancelAt: null, cancelAtPeriodEnd: true, currentPeriodEnd: 9 })).toBe(9);
    expect(cancelsAt({ cancelAt: null, cancelAtPeriodEnd: false, currentPeriodEnd: 9 })).toBeNull();
  });
});
