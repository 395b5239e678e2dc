// The figures under a usage meter, as data: the dashboard card and the usage page pick
// different sets, and both get the same labels, numbers and hover explanations.
import type { UsageSummary } from "./apiTypes";
import { formatInteger, formatMoney, formatTokens } from "./format";
import { billBreakdown, formatBill, type MonthBill } from "./overage";

export type UsageFigureId = "used" | "held" | "remaining" | "bill" | "modelCost" | "overage" | "requests";

export interface UsageFigure {
  id: UsageFigureId;
  label: string;
  value: string;
  /** Exact numbers or what the figure means, shown on hover. */
  title?: string;
  /**
   * Test id suffix (`meter-spend`, `usage-held`). None for "used": the meter heading
   * already carries `<prefix>-used` for the same number.
   */
  testId?: string;
}

type Summary = Pick<
  UsageSummary,
  "plan" | "totalTokens" | "tokensIn" | "tokensOut" | "heldTokens" | "remainingIncluded" | "costMicros" | "overageMicros" | "requests"
>;

/**
 * The month's bill as the provider invoices it (`billing.overageBill.mine`): the plan's price plus
 * each overage line rounded to the cent. Never plan + `overageMicros`, which can be a cent low.
 */
export type BillFigures = Pick<MonthBill, "plan" | "planMicros" | "overageBilledMicros" | "totalMicros">;

/** Builds one figure; exhaustive over the ids so a new id cannot be forgotten here. */
function figure(id: UsageFigureId, s: Summary, bill: BillFigures | undefined): UsageFigure {
  switch (id) {
    case "used":
      return {
        id,
        label: "Used",
        value: formatTokens(s.totalTokens),
        title: `${formatInteger(s.tokensIn)} in, ${formatInteger(s.tokensOut)} out`,
      };
    case "held":
      return { id, label: "Held", value: formatTokens(s.heldTokens), testId: "held" };
    case "remaining":
      return {
        id,
        label: "Remaining",
        value: formatTokens(s.remainingIncluded),
        title: `${formatInteger(s.remainingIncluded)} tokens`,
        testId: "remaining",
      };
    case "bill":
      return bill === undefined
        ? { id, label: "Bill this month", value: "…", title: "Loading the bill…", testId: "bill" }
        : { id, label: "Bill this month", value: formatBill(bill), title: billBreakdown(bill), testId: "bill" };
    case "modelCost":
      // Upstream cost of the requests at the models' list prices: what the included
      // tokens are worth, not an amount the customer is charged. The test id predates
      // the label ("spend") and stays so tests and scripts keep finding it.
      return {
        id,
        label: "Model cost at list price",
        value: formatMoney(s.costMicros),
        title: "What these requests cost at the AI providers' list prices. Not a charge: you pay your plan's price plus any overage.",
        testId: "spend",
      };
    case "overage":
      // Invoiced overage when the bill is known (each line rounded as the provider rounds it);
      // until then, and for accounts without a bill, the ledger's exact figure.
      return {
        id,
        label: "Overage",
        value: formatMoney(bill?.overageBilledMicros ?? s.overageMicros),
        testId: "overage",
      };
    case "requests":
      return { id, label: "Requests", value: formatInteger(s.requests), testId: "requests" };
  }
}

/** The figures `ids`, in that order; "bill" needs the month's bill (`billing.overageBill.mine`). */
export function usageFigures(summary: Summary, ids: readonly UsageFigureId[], bill?: BillFigures): UsageFigure[] {
  return ids.map((id) => figure(id, summary, bill));
}
