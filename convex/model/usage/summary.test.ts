import { describe, expect, it } from "vitest";
import { PLANS } from "../plans";
import { quotaAlertMessage, summarize, thresholdsCrossed } from "./summary";
import { byDayAndModel, byModel, sumEvents, ZERO_TOTALS } from "./totals";

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

describe("breakdowns", () => {
  const ev = (day: string, model: string, tokensIn: number, costMicros: number) =>
    ({ day, model, tokensIn, tokensOut: 1, characters: 0, costMicros });

  it("merge rolled-up rows with the events after them, by day and model", () => {
    const rolled = [{ day: "2026-11-01", model: "a", tokensIn: 10, tokensOut: 10, characters: 0, costMicros: 5, requests: 2 }];
    const rows = byDayAndModel(rolled, [ev("2026-11-01", "a", 1, 1), ev("2026-11-02", "a", 2, 2), ev("2026-11-01", "b", 3, 3)]);
    expect(rows).toContainEqual({ day: "2026-11-01", model: "a", tokensIn: 11, tokensOut: 11, characters: 0, costMicros: 6, requests: 3 });
    expect(rows).toContainEqual({ day: "2026-11-02", model: "a", tokensIn: 2, tokensOut: 1, characters: 0, costMicros: 2, requests: 1 });
    expect(rows).toHaveLength(3);
  });

  it("sum a month per model, most expensive first", () => {
    const rows = byDayAndModel([], [ev("2026-11-01", "a", 1, 1), ev("2026-11-02", "a", 2, 2), ev("2026-11-01", "b", 3, 9)]);
    expect(byModel(rows)).toEqual([
      { model: "b", tokensIn: 3, tokensOut: 1, characters: 0, costMicros: 9, requests: 1 },
      { model: "a", tokensIn: 3, tokensOut: 2, characters: 0, costMicros: 3, requests: 2 },
    ]);
  });
});

describe("quota alert messages", () => {
  it("say what happens next on each kind of plan", () => {
    expect(quotaAlertMessage(PLANS.basic, "2026-11", 80)).toBe(
      "You have used 80% of the 5,000,000 tokens included in your Basic plan for 2026-11.");
    expect(quotaAlertMessage(PLANS.trial, "2026-11", 100)).toMatch(/Choose a plan/);
    expect(quotaAlertMessage(PLANS.basic, "2026-11", 100)).toMatch(/billed as overage/);
  });
});
