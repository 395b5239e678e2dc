import { describe, expect, it } from "vitest";
import { monthBill } from "../../convex/model/billing/overage";
import { allSent, billBreakdown, billRows, formatBill, formatQuantities, reconciliationStatus } from "./overage";

describe("the month's bill", () => {
  it("lists the plan, then each overage line as tokens times the price, rounded to the cent", () => {
    // 1,667 input and 400 output tokens beyond Basic's 5M: half a cent and 0.6 cents, one cent each.
    const bill = { plan: "basic" as const, ...monthBill("basic", { input: 1_667, output: 5_000_400 }) };
    expect(billRows(bill)).toEqual([
      { key: "plan", item: "Basic plan", quantity: "1 month", price: "$50.00 / month", amount: "$50.00" },
      { key: "input", item: "Input overage", quantity: "1,667 tokens", price: "$3.00 / 1M tokens", amount: "$0.01" },
      { key: "output", item: "Output overage", quantity: "400 tokens", price: "$15.00 / 1M tokens", amount: "$0.01" },
    ]);
    expect(formatBill(bill)).toBe("$50.02");
    expect(billBreakdown(bill)).toBe("Basic plan $50.00 + overage $0.02");
  });

  it("prices Pro's overage at Pro's rates and shows no overage as $0.00 lines", () => {
    const pro = { plan: "pro" as const, ...monthBill("pro", { input: 31_000_000, output: 2_000_000 }) };
    expect(billRows(pro).slice(1)).toEqual([
      { key: "input", item: "Input overage", quantity: "3,000,000 tokens", price: "$2.50 / 1M tokens", amount: "$7.50" },
      { key: "output", item: "Output overage", quantity: "0 tokens", price: "$12.00 / 1M tokens", amount: "$0.00" },
    ]);
    expect(formatBill(pro)).toBe("$257.50");
  });

  it("has no overage lines on the trial, whose bill is nothing", () => {
    const trial = { plan: "trial" as const, ...monthBill("trial", { input: 1_000, output: 1_000 }) };
    expect(billRows(trial)).toHaveLength(1);
    expect(billRows(trial)[0]).toMatchObject({ item: "Trial plan", amount: "$0.00" });
    expect(formatBill(trial)).toBe("$0.00");
  });
});

describe("overage for support", () => {
  it("reads a month's reconciliation and whether everything decided was sent", () => {
    expect(reconciliationStatus(null).label).toBe("Not checked yet");
    expect(reconciliationStatus({ status: "ok" })).toEqual({ label: "Reconciled", tone: "success" });
    expect(reconciliationStatus({ status: "discrepancy" })).toEqual({ label: "Discrepancy", tone: "critical" });
    expect(allSent({ reported: { input: 100_000, output: 0 }, sent: { input: 100_000, output: 0 } })).toBe(true);
    expect(allSent({ reported: { input: 200_000, output: 0 }, sent: { input: 100_000, output: 0 } })).toBe(false);
    expect(formatQuantities({ input: 1_200_000, output: 300_000 })).toBe("1,200,000 in · 300,000 out");
  });
});
