// The overview's sums: one month's usage, revenue and refunds, folded row by row by the refresh
// job (admin/overview.ts) so a page view reads a handful of rows. Pure.
import { monthOf, shiftMonth } from "../calendar";

export interface MonthFigures {
  tokensIn: number;
  tokensOut: number;
  characters: number;
  costMicros: number;
  requests: number;
  activeAccounts: number;
  revenueMicros: number;
  refundedMicros: number;
  paidInvoices: number;
}

/** Months the overview covers: this one and the 11 before it. */
export const OVERVIEW_MONTHS = 12;

export function emptyFigures(): MonthFigures {
  return { tokensIn: 0, tokensOut: 0, characters: 0, costMicros: 0, requests: 0, activeAccounts: 0, revenueMicros: 0, refundedMicros: 0, paidInvoices: 0 };
}

/** The last `count` months ending with now's, oldest first ("2025-12" ... "2026-11"). */
export function monthsEndingAt(now: number, count = OVERVIEW_MONTHS): string[] {
  const current = monthOf(now);
  return Array.from({ length: count }, (_, i) => shiftMonth(current, i - count + 1));
}

/** One user's month from the balance document (usageMonthly). */
export function addUsage(into: MonthFigures, row: { tokensIn: number; tokensOut: number; characters: number; costMicros: number; requests: number }): MonthFigures {
  return {
    ...into,
    tokensIn: into.tokensIn + row.tokensIn,
    tokensOut: into.tokensOut + row.tokensOut,
    characters: into.characters + row.characters,
    costMicros: into.costMicros + row.costMicros,
    requests: into.requests + row.requests,
    activeAccounts: into.activeAccounts + (row.requests > 0 ? 1 : 0),
  };
}

const PAID_STATUSES = new Set(["paid", "partially_refunded", "refunded"]);

/**
 * One invoice, counted in the month it was created: revenue when it was paid (refunded ones were
 * paid first), and its refunds. `refundedMicros`: what our refund rows say came back; a
 * `refunded` invoice without any (refunded in the provider's dashboard) counts in full.
 */
export function addInvoice(into: MonthFigures, invoice: { status: string; amountMicros: number }, refundedByUs: number): MonthFigures {
  if (!PAID_STATUSES.has(invoice.status)) return into;
  const refunded = invoice.status === "refunded" && refundedByUs === 0 ? invoice.amountMicros : Math.min(refundedByUs, invoice.amountMicros);
  return {
    ...into,
    revenueMicros: into.revenueMicros + invoice.amountMicros,
    refundedMicros: into.refundedMicros + refunded,
    paidInvoices: into.paidInvoices + 1,
  };
}

/** Adds one to `key` of a count record. */
export function bump(counts: Record<string, number>, key: string): Record<string, number> {
  return { ...counts, [key]: (counts[key] ?? 0) + 1 };
}
