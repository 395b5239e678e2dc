// The live usage summary and the quota alerts it raises. Pure.
import { overageMicros, type Plan } from "../plans";
import { quotaUnits, type UsageTotals } from "./totals";

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

/** The in-app alert text for a crossed threshold of the plan's included tokens. */
export function quotaAlertMessage(plan: Plan, month: string, threshold: number): string {
  const included = plan.includedTokens.toLocaleString("en-US");
  if (threshold < 100) {
    return `You have used ${threshold}% of the ${included} tokens included in your ${plan.name} plan for ${month}.`;
  }
  return plan.overage === null
    ? `You have used all ${included} tokens of your ${plan.name} plan for ${month}. Choose a plan to keep using the AI proxy.`
    : `You have used all ${included} tokens included in your ${plan.name} plan for ${month}; further use is billed as overage.`;
}
