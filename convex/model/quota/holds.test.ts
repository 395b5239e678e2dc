import { describe, expect, it } from "vitest";
import { dayOf, isMonth, monthOf, monthRange, shiftMonth } from "../calendar";
import { PLANS } from "../plans";
import { quotaUnits } from "../usage/totals";
import { admit, effectiveMaxOutput, holdTokens } from "./holds";

describe("months", () => {
  it("are UTC calendar months", () => {
    expect(monthOf(Date.UTC(2026, 10, 30, 23, 59, 59, 999))).toBe("2026-11");
    expect(monthOf(Date.UTC(2026, 11, 1))).toBe("2026-12");
    expect(dayOf(Date.UTC(2026, 10, 5, 12))).toBe("2026-11-05");
    expect(monthRange("2026-12")).toEqual({ start: Date.UTC(2026, 11, 1), end: Date.UTC(2027, 0, 1) });
    expect(isMonth("2026-13")).toBe(false);
    expect(() => monthRange("2026-1")).toThrow(RangeError);
    expect(shiftMonth("2026-01", -1)).toBe("2025-12");
    expect(shiftMonth("2026-12", 1)).toBe("2027-01");
  });
});

describe("holds", () => {
  it("use the requested max or the plan's default", () => {
    expect(effectiveMaxOutput(50, PLANS.trial)).toBe(50);
    expect(effectiveMaxOutput(null, PLANS.trial)).toBe(PLANS.trial.limits.defaultMaxOutputTokens);
    expect(holdTokens(100, 50, 1)).toBe(150);
    expect(holdTokens(100, 50, 3)).toBe(250);
  });

  it("count speech characters as quota units", () => {
    expect(quotaUnits({ tokensIn: 1, tokensOut: 2, characters: 3 })).toBe(6);
  });
});

describe("admission", () => {
  const plan = PLANS.trial;
  it("admits while used + held + new stays within the hard cap", () => {
    expect(admit({ plan, usedTokens: 400_000, heldTokens: 50_000, liveHolds: 1, newHoldTokens: 50_000 })).toEqual({ ok: true });
    expect(admit({ plan, usedTokens: 400_000, heldTokens: 50_000, liveHolds: 1, newHoldTokens: 50_001 })).toEqual({
      ok: false,
      reason: "quota",
      remaining: 50_000,
      limit: 500_000,
    });
  });

  it("refuses beyond the plan's concurrency", () => {
    expect(admit({ plan, usedTokens: 0, heldTokens: 2, liveHolds: plan.limits.concurrentRequests, newHoldTokens: 1 })).toMatchObject({
      ok: false,
      reason: "concurrency",
    });
  });

  it("never reports negative remaining quota", () => {
    expect(admit({ plan, usedTokens: 600_000, heldTokens: 0, liveHolds: 0, newHoldTokens: 1 })).toMatchObject({ remaining: 0 });
  });
});
