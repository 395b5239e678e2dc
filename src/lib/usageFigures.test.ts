import { describe, expect, it } from "vitest";
import { billMicros, usageFigures, type UsageFigureId } from "./usageFigures";

const ALL: UsageFigureId[] = ["used", "held", "remaining", "bill", "modelCost", "overage", "requests"];

const summary = {
  plan: "basic" as const,
  totalTokens: 6_200_000,
  tokensIn: 5_000_000,
  tokensOut: 1_200_000,
  heldTokens: 4_000,
  remainingIncluded: 0,
  costMicros: 2_750_000,
  overageMicros: 3_600_000,
  requests: 1_234,
};

describe("usage figures", () => {
  it("bills the plan's price plus overage, not the model cost", () => {
    expect(billMicros(summary)).toBe(53_600_000);
    expect(billMicros({ plan: "trial", overageMicros: 0 })).toBe(0);
    expect(billMicros({ plan: "pro", overageMicros: 17_000_000 })).toBe(267_000_000);
  });

  it("returns the requested figures in the requested order", () => {
    expect(usageFigures(summary, ["requests", "remaining"]).map((f) => f.id)).toEqual(["requests", "remaining"]);
    expect(usageFigures(summary, [])).toEqual([]);
  });

  it("formats each figure for people and explains it on hover", () => {
    const byId = Object.fromEntries(usageFigures(summary, ALL).map((f) => [f.id, f]));
    expect(byId.used).toMatchObject({ value: "6.2M tokens", title: "5,000,000 in, 1,200,000 out" });
    expect(byId.held).toMatchObject({ value: "4K tokens", testId: "held" });
    expect(byId.remaining).toMatchObject({ value: "0 tokens", title: "0 tokens", testId: "remaining" });
    expect(byId.bill).toMatchObject({ value: "$53.60", title: "Basic plan $50.00 + overage $3.60", testId: "bill" });
    expect(byId.modelCost).toMatchObject({ value: "$2.75", testId: "spend" });
    expect(byId.overage).toMatchObject({ value: "$3.60", testId: "overage" });
    expect(byId.requests).toMatchObject({ value: "1,234", testId: "requests" });
  });

  it("never labels the model cost as spend or a bill", () => {
    const cost = usageFigures(summary, ["modelCost"])[0];
    expect(cost.label).toBe("Model cost at list price");
    expect(cost.label).not.toMatch(/spend|bill|charge/i);
    expect(cost.title).toMatch(/not a charge/i);
  });

  it("leaves the used figure without a test id the meter heading already uses", () => {
    expect(usageFigures(summary, ["used"])[0].testId).toBeUndefined();
    const ids = usageFigures(summary, ALL).flatMap((f) => (f.testId ? [f.testId] : []));
    expect(new Set(ids).size).toBe(ids.length);
  });
});
