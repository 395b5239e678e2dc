// Usage summaries and threshold alerts from a month's rolled-up row plus the events after it.
// Pure.
import { overageMicros, type Plan } from "./plans";
import { quotaUnits } from "./quota";

export interface UsageTotals {
  tokensIn: number;
  tokensOut: number;
  characters: number;
  costMicros: number;
  requests: number;
}

export const ZERO_TOTALS: UsageTotals = {
  tokensIn: 0,
  tokensOut: 0,
  characters: 0,
  costMicros: 0,
  requests: 0,
};

export function addEvent(
  totals: UsageTotals,
  e: { tokensIn: number; tokensOut: number; characters: number; costMicros: number },
): UsageTotals {
  return {
    tokensIn: totals.tokensIn + e.tokensIn,
    tokensOut: totals.tokensOut + e.tokensOut,
    characters: totals.characters + e.characters,
    costMicros: totals.costMicros + e.costMicros,
    requests: totals.requests + 1,
  };
}

export function sumEvents(
  base: UsageTotals,
  events: ReadonlyArray<{ tokensIn: number; tokensOut: number; characters: number; costMicros: number }>,
): UsageTotals {
  return events.reduce(addEvent, base);
}

export interface UsageSummary {
  month: string;
  plan: Plan["id"];
  includedTokens: number;
  hardCapTokens: number;
  tokensIn: number;
  tokensOut: number;
  /** Quota units: tokens in + out, plus characters of speech (1 character = 1 unit). */
  totalTokens: number;
  heldTokens: number;
  remainingIncluded: number;
  percentOfIncluded: number;
  costMicros: number;
  overageMicros: number;
  requests: number;
}

export function summarize(month: string, plan: Plan, totals: UsageTotals, heldTokens: number): UsageSummary {
  const totalTokens = quotaUnits(totals);
  return {
    month,
    plan: plan.id,
    includedTokens: plan.includedTokens,
    hardCapTokens: plan.hardCapTokens,
    tokensIn: totals.tokensIn,
    tokensOut: totals.tokensOut,
    totalTokens,
    heldTokens,
    remainingIncluded: Math.max(0, plan.includedTokens - totalTokens),
    percentOfIncluded: plan.includedTokens > 0 ? Math.round((totalTokens / plan.includedTokens) * 1000) / 10 : 0,
    costMicros: totals.costMicros,
    // Characters of speech are charged as input-side units for overage purposes.
    overageMicros: overageMicros(plan.id, totals.tokensIn + totals.characters, totals.tokensOut),
    requests: totals.requests,
  };
}

export const ALERT_THRESHOLDS = [80, 100] as const;

/** Thresholds newly crossed: each fires once per month (alertedPercent records the highest). */
export function thresholdsCrossed(alertedPercent: number, usedUnits: number, includedTokens: number): number[] {
  if (includedTokens <= 0) return [];
  const percent = (usedUnits / includedTokens) * 100;
  return ALERT_THRESHOLDS.filter((t) => t > alertedPercent && percent >= t);
}
