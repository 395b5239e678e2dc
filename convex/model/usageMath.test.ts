import { describe, expect, it } from "vitest";
import { PLANS } from "./plans";
import { summarize, sumEvents, thresholdsCrossed, ZERO_TOTALS } from "./usageMath";

describe("usage summaries", () => {
  it("add the events after the rollup to the rolled-up totals", () => {
    const base = { tokensIn: 10, tokensOut: 5, characters: 0, costMicros: 7, requests: 2 };
    const totals = sumEvents(base, [
      { tokensIn: 1, tokensOut: 2, characters: 0, costMicros: 3 },
      { tokensIn: 0, tokensOut: 0, characters: 9, costMicros: 1 },
    ]);
    expect(totals).toEqual({ tokensIn: 11, tokensOut: 7, characters: 9, costMicros: 11, requests: 4 });
  });

  it("report remaining, percent and overage against the plan", () => {
    const plan = PLANS.basic;
    const s = summarize("2026-11", plan, { ...ZERO_TOTALS, tokensIn: 4_000_000, tokensOut: 2_000_000, requests: 3 }, 500);
    expect(s).toMatchObject({
      month: "2026-11",
      plan: "basic",
      totalTokens: 6_000_000,
      heldTokens: 500,
      remainingIncluded: 0,
      percentOfIncluded: 120,
      requests: 3,
    });
    // The included 5M go to output first: 1M input tokens over at $3/1M.
    expect(s.overageMicros).toBe(3_000_000);
    expect(summarize("2026-11", PLANS.trial, ZERO_TOTALS, 0).overageMicros).toBe(0);
  });
});

describe("threshold alerts", () => {
  it("fire once per threshold", () => {
    expect(thresholdsCrossed(0, 79, 100)).toEqual([]);
    expect(thresholdsCrossed(0, 80, 100)).toEqual([80]);
    expect(thresholdsCrossed(80, 99, 100)).toEqual([]);
    expect(thresholdsCrossed(80, 100, 100)).toEqual([100]);
    expect(thresholdsCrossed(0, 150, 100)).toEqual([80, 100]);
    expect(thresholdsCrossed(100, 500, 100)).toEqual([]);
  });
});
