import { describe, expect, it } from "vitest";
import { monthBill } from "../../convex/model/billing/overage";
import type { PlanId } from "./plans";
import { usageFigures, type UsageFigureId } from "./usageFigures";

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

// The same month priced as the provider invoices it: 1.2M tokens beyond the included 5M, all input.
/** The bill as convex/billing/overageBill.ts builds it, from the same pure model. */
function billOf(plan: PlanId, used: { input: number; output: number }) {
  return { plan, ...monthBill(plan, used) };
}

const bill = billOf("basic", { input: summary.tokensIn, output: summary.tokensOut });

describe("usage figures", () => {
  it("shows the month's bill as invoiced: the plan's price plus the overage lines, not the model cost", () => {
    expect(bill.totalMicros).toBe(53_600_000);
    const shown = usageFigures(summary, ["bill"], bill)[0];
    expect(shown).toMatchObject({ value: "$53.60", title: "Basic plan $50.00 + overage $3.60", testId: "bill" });
  });

  it("rounds each overage line to the cent as the provider does, so the bill can be a cent above plan + overage", () => {
    // 1,667 input tokens ($0.005001) and 400 output tokens ($0.006) beyond the allowance: each line
    // is invoiced as 1 cent, so the invoice says $50.02 where plan + overage would read $50.01.
    const used = { input: 1_667, output: 5_000_400 };
    const rounded = billOf("basic", used);
    expect(rounded.overageMicros).toBe(11_001);
    const s = { ...summary, overageMicros: rounded.overageMicros };
    const [billFigure, overage] = usageFigures(s, ["bill", "overage"], rounded);
    expect(billFigure).toMatchObject({ value: "$50.02", title: "Basic plan $50.00 + overage $0.02" });
    // The overage figure is the invoiced one too, so the two figures never disagree.
    expect(overage.value).toBe("$0.02");
    // Before the bill has loaded, the ledger's exact figure shows.
    expect(usageFigures(s, ["overage"])[0].value).toBe("$0.01");
  });

  it("bills nothing on the trial and the plan's price alone without overage", () => {
    const trial = billOf("trial", { input: 900_000, output: 100_000 });
    expect(usageFigures({ ...summary, plan: "trial" }, ["bill"], trial)[0].value).toBe("$0.00");
    const pro = billOf("pro", { input: 10_000_000, output: 2_000_000 });
    expect(usageFigures({ ...summary, plan: "pro" }, ["bill"], pro)[0]).toMatchObject({
      value: "$250.00",
      title: "Pro plan $250.00 + overage $0.00",
    });
  });

  it("says the bill is loading rather than guessing it", () => {
    expect(usageFigures(summary, ["bill"])[0]).toMatchObject({ value: "…", testId: "bill" });
  });

  it("returns the requested figures in the requested order", () => {
    expect(usageFigures(summary, ["requests", "remaining"]).map((f) => f.id)).toEqual(["requests", "remaining"]);
    expect(usageFigures(summary, [])).toEqual([]);
  });

  it("formats each figure for people and explains it on hover", () => {
    const byId = Object.fromEntries(usageFigures(summary, ALL, bill).map((f) => [f.id, f]));
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
    const ids = usageFigures(summary, ALL, bill).flatMap((f) => (f.testId ? [f.testId] : []));
    expect(new Set(ids).size).toBe(ids.length);
  });
});
