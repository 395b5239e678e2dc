// The month's bill and overage reporting as people read them. Shapes come from
// convex/billing/overageBill.ts and overageSupport.ts; the words and figures from here. Pure, so
// the money shown is unit-tested (overage.test.ts).
import type { FunctionReturnType } from "convex/server";
import type { api } from "../../convex/_generated/api";
import type { Tone } from "./accountState";
import { formatInteger, formatMoney, formatRatePerMillion } from "./format";
import { planFor } from "./plans";

export type MonthBill = FunctionReturnType<typeof api.billing.overageBill.mine>;
export type BillLine = MonthBill["lines"][number];
export type OverageMeter = BillLine["meter"];
export type MeterQuantities = MonthBill["billable"];
export type OverageAccount = FunctionReturnType<typeof api.billing.overageSupport.account>;
export type OverageMonthRow = OverageAccount["months"][number];
export type OverageOutboxRow = OverageAccount["outbox"][number];
export type ReconciliationRow = FunctionReturnType<typeof api.billing.overageSupport.discrepancies>["page"][number];

interface Label {
  label: string;
  tone: Tone;
}

export const METER_NAMES: Record<OverageMeter, string> = { input: "Input", output: "Output" };

/** One row of the bill as the invoice lists it: what, how much, at what price, for how much. */
export interface BillRow {
  key: string;
  item: string;
  quantity: string;
  price: string;
  amount: string;
}

function planName(plan: string): string {
  return planFor(plan)?.name ?? plan;
}

/**
 * The month's bill as rows: the plan, then each overage line (tokens times the price, rounded
 * to the cent as the provider rounds it). The rows add up to `totalMicros`.
 */
export function billRows(bill: Pick<MonthBill, "plan" | "planMicros" | "lines">): BillRow[] {
  const plan: BillRow = {
    key: "plan",
    item: `${planName(bill.plan)} plan`,
    quantity: "1 month",
    price: `${formatMoney(bill.planMicros)} / month`,
    amount: formatMoney(bill.planMicros),
  };
  return [
    plan,
    ...bill.lines.map((line) => ({
      key: line.meter,
      item: `${METER_NAMES[line.meter]} overage`,
      quantity: `${formatInteger(line.tokens)} ${line.tokens === 1 ? "token" : "tokens"}`,
      price: formatRatePerMillion(line.microsPerMillion),
      amount: formatMoney(line.amountMicros),
    })),
  ];
}

/** "Basic plan $50.00 + overage $0.02": what makes up the month's bill, for a hover. */
export function billBreakdown(bill: Pick<MonthBill, "plan" | "planMicros" | "overageBilledMicros">): string {
  return `${planName(bill.plan)} plan ${formatMoney(bill.planMicros)} + overage ${formatMoney(bill.overageBilledMicros)}`;
}

/** The month's bill: exactly what the provider's invoice will say. */
export function formatBill(bill: Pick<MonthBill, "totalMicros">): string {
  return formatMoney(bill.totalMicros);
}

/** "1,200,000 in · 300,000 out": a meter pair, exact, for support. */
export function formatQuantities(q: MeterQuantities): string {
  return `${formatInteger(q.input)} in · ${formatInteger(q.output)} out`;
}

export const OUTBOX_STATUS: Record<OverageOutboxRow["status"], Label> = {
  pending: { label: "Pending", tone: "info" },
  sent: { label: "Sent", tone: "success" },
  failed: { label: "Failed", tone: "critical" },
};

/** A month's reconciliation as a badge: not checked yet (the month is running), reconciled, or not. */
export function reconciliationStatus(r: Pick<ReconciliationRow, "status"> | null): Label {
  if (r === null) return { label: "Not checked yet", tone: "neutral" };
  return r.status === "ok" ? { label: "Reconciled", tone: "success" } : { label: "Discrepancy", tone: "critical" };
}

/** Whether everything decided for the month has reached the provider. */
export function allSent(m: Pick<OverageMonthRow, "reported" | "sent">): boolean {
  return m.sent.input >= m.reported.input && m.sent.output >= m.reported.output;
}
