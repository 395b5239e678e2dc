import { describe, expect, test } from "vitest";
import { PLANS, overageMicros, planAllowsModel, planHasFeature } from "./plans";

describe("plans", () => {
  test("the price sheet: trial free 14 days 500K, basic $50 5M, pro $250 30M", () => {
    expect(PLANS.trial).toMatchObject({ priceMicrosPerMonth: 0, trialDays: 14, includedTokens: 500_000 });
    expect(PLANS.basic).toMatchObject({ priceMicrosPerMonth: 50_000_000, includedTokens: 5_000_000 });
    expect(PLANS.pro).toMatchObject({ priceMicrosPerMonth: 250_000_000, includedTokens: 30_000_000 });
  });

  test("overage rates: basic $3/$15 and pro $2.50/$12 per 1M input/output; trial has none", () => {
    expect(PLANS.basic.overage).toEqual({ inputMicrosPerMillion: 3_000_000, outputMicrosPerMillion: 15_000_000 });
    expect(PLANS.pro.overage).toEqual({ inputMicrosPerMillion: 2_500_000, outputMicrosPerMillion: 12_000_000 });
    expect(PLANS.trial.overage).toBeNull();
    expect(PLANS.trial.hardCapTokens).toBe(PLANS.trial.includedTokens);
  });

  test("trial is AI access only; basic adds email, calendar, phone and Signal; pro adds priority support", () => {
    expect(PLANS.trial.features).toEqual(["ai"]);
    for (const f of ["email", "calendar", "phone", "signal"] as const) {
      expect(planHasFeature("basic", f)).toBe(true);
      expect(planHasFeature("trial", f)).toBe(false);
    }
    expect(planHasFeature("pro", "priority_support")).toBe(true);
    expect(planHasFeature("basic", "priority_support")).toBe(false);
  });

  test("limits grow with the plan", () => {
    expect(PLANS.trial.limits.requestsPerMinute).toBeLessThan(PLANS.basic.limits.requestsPerMinute);
    expect(PLANS.basic.limits.tokensPerMinute).toBeLessThan(PLANS.pro.limits.tokensPerMinute);
    expect(PLANS.basic.limits.concurrentRequests).toBeLessThan(PLANS.pro.limits.concurrentRequests);
  });

  test("no overage inside the included allowance", () => {
    expect(overageMicros("basic", 3_000_000, 2_000_000)).toBe(0);
  });

  test("overage bills output at the plan rate once the allowance is spent, cheaper side first", () => {
    // 5M included covers all 1M output + 4M of the 6M input: 2M input over at $3/1M = $6.
    expect(overageMicros("basic", 6_000_000, 1_000_000)).toBe(6_000_000);
    // 31M output on pro: 1M over at $12/1M plus 2M input at $2.50/1M = $17.
    expect(overageMicros("pro", 2_000_000, 31_000_000)).toBe(17_000_000);
    expect(overageMicros("trial", 9_000_000, 9_000_000)).toBe(0);
  });

  test("model access is by exact id", () => {
    expect(planAllowsModel("trial", "gpt-4o-mini")).toBe(true);
    expect(planAllowsModel("trial", "gpt-4o")).toBe(false);
    expect(planAllowsModel("pro", "o4-mini")).toBe(true);
  });
});
