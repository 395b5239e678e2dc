// Usage arithmetic, in one place: quota units, totals of events, and the day-by-model and
// by-model breakdowns that the rollup, the meters and the Dex API all add up the same way.
// Pure.

/** What one usage event (or a sum of them) counts. */
export interface UsageAmounts {
  tokensIn: number;
  tokensOut: number;
  characters: number;
  costMicros: number;
}

export interface UsageTotals extends UsageAmounts {
  requests: number;
}

export const ZERO_TOTALS: UsageTotals = {
  tokensIn: 0,
  tokensOut: 0,
  characters: 0,
  costMicros: 0,
  requests: 0,
};

/** One request's usage as a provider reports it (normalised by the provider's adapter). */
export interface NormalizedUsage {
  tokensIn: number;
  cachedTokensIn: number;
  tokensOut: number;
  characters: number;
}

/** A usage of nothing: what a request the provider refused or never received consumed. */
export const NO_USAGE: NormalizedUsage = { tokensIn: 0, cachedTokensIn: 0, tokensOut: 0, characters: 0 };

/** Quota units a usage event consumes: tokens both ways, plus characters for speech. */
export function quotaUnits(e: { tokensIn: number; tokensOut: number; characters: number }): number {
  return e.tokensIn + e.tokensOut + e.characters;
}

/** Two totals added field by field. */
export function addTotals(a: UsageTotals, b: UsageTotals): UsageTotals {
  return {
    tokensIn: a.tokensIn + b.tokensIn,
    tokensOut: a.tokensOut + b.tokensOut,
    characters: a.characters + b.characters,
    costMicros: a.costMicros + b.costMicros,
    requests: a.requests + b.requests,
  };
}

/** One event counted into a total (one request). */
export function addEvent(totals: UsageTotals, e: UsageAmounts): UsageTotals {
  return addTotals(totals, { ...pickAmounts(e), requests: 1 });
}

export function sumEvents(base: UsageTotals, events: ReadonlyArray<UsageAmounts>): UsageTotals {
  return events.reduce(addEvent, base);
}

/** Only the counted fields of a row (a stored row also has ids and keys). */
export function pickAmounts(e: UsageAmounts): UsageAmounts {
  return { tokensIn: e.tokensIn, tokensOut: e.tokensOut, characters: e.characters, costMicros: e.costMicros };
}

export function pickTotals(e: UsageTotals): UsageTotals {
  return { ...pickAmounts(e), requests: e.requests };
}

export interface DayModelTotals extends UsageTotals {
  day: string;
  model: string;
}

export interface ModelTotals extends UsageTotals {
  model: string;
}

/**
 * Day-by-model totals: `rolled` rows (already summed) plus `events` (one request each, `day`
 * given by the caller's calendar). Rows of the same day and model are merged.
 */
export function byDayAndModel(
  rolled: ReadonlyArray<DayModelTotals>,
  events: ReadonlyArray<UsageAmounts & { day: string; model: string }>,
): DayModelTotals[] {
  const rows = new Map<string, DayModelTotals>();
  const add = (day: string, model: string, t: UsageTotals) => {
    const k = `${day}|${model}`;
    const row = rows.get(k);
    rows.set(k, { day, model, ...(row ? addTotals(row, t) : t) });
  };
  for (const r of rolled) add(r.day, r.model, pickTotals(r));
  for (const e of events) add(e.day, e.model, { ...pickAmounts(e), requests: 1 });
  return [...rows.values()];
}

/** Totals per model, most expensive first. */
export function byModel(rows: ReadonlyArray<UsageTotals & { model: string }>): ModelTotals[] {
  const models = new Map<string, ModelTotals>();
  for (const r of rows) {
    const row = models.get(r.model);
    models.set(r.model, { model: r.model, ...(row ? addTotals(row, pickTotals(r)) : pickTotals(r)) });
  }
  return [...models.values()].sort((a, b) => b.costMicros - a.costMicros);
}
