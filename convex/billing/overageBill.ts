// The month's bill from the ledger, for the dashboard and the Billing page: the plan's price
// plus the overage lines as the provider invoices them (each rounded to the cent), live through
// useQuery, with how much of the overage has been reported so far.
import { v, type Infer } from "convex/values";
import type { Doc } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import { userQuery } from "../functions";
import { monthTotals, requireMonth } from "../lib/usageTotals";
import { meteredUsage, monthBill, NO_QUANTITIES } from "../model/billing/overage";
import { meterQuantitiesValidator, overageMeterValidator } from "../schema/billing";
import { billingProviderValidator, planValidator } from "../schema/validators";

export const monthBillValidator = v.object({
  month: v.string(),
  plan: planValidator,
  provider: v.union(billingProviderValidator, v.null()),
  planMicros: v.number(),
  /** The ledger's overage to the micro-dollar (what usage.meters.summary shows). */
  overageMicros: v.number(),
  lines: v.array(v.object({ meter: overageMeterValidator, tokens: v.number(), microsPerMillion: v.number(), amountMicros: v.number() })),
  /** The overage as invoiced: the lines' sum, whole cents. */
  overageBilledMicros: v.number(),
  /** planMicros + overageBilledMicros: what the provider's invoice for the month will say. */
  totalMicros: v.number(),
  billable: meterQuantitiesValidator,
  /** Billable tokens decided for reporting, and those the provider has acknowledged. */
  reported: meterQuantitiesValidator,
  sent: meterQuantitiesValidator,
});
export type MonthBillView = Infer<typeof monthBillValidator>;

/** The bill of one account's month (shared with the support console). */
export async function monthBillOf(ctx: QueryCtx, user: Doc<"users">, month: string): Promise<MonthBillView> {
  const { totals } = await monthTotals(ctx, user._id, month);
  const cursor = await ctx.db
    .query("overageCursors")
    .withIndex("by_userId_and_month", (q) => q.eq("userId", user._id).eq("month", month))
    .unique();
  const bill = monthBill(user.plan, meteredUsage(totals));
  return {
    month,
    plan: user.plan,
    provider: user.billingProvider ?? null,
    planMicros: bill.planMicros,
    overageMicros: bill.overageMicros,
    lines: bill.lines,
    overageBilledMicros: bill.overageBilledMicros,
    totalMicros: bill.totalMicros,
    billable: bill.billable,
    reported: cursor?.reported ?? NO_QUANTITIES,
    sent: cursor?.sent ?? NO_QUANTITIES,
  };
}

async function mineHandler(ctx: QueryCtx & { user: Doc<"users"> }, args: { month: string }): Promise<MonthBillView> {
  requireMonth(args.month);
  return await monthBillOf(ctx, ctx.user, args.month);
}

/** The signed-in customer's bill for a month ("2026-11"), so far. */
export const mine = userQuery({
  args: { month: v.string() },
  returns: monthBillValidator,
  handler: mineHandler,
});
