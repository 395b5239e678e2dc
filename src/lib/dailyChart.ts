import type { DailyUsageRow } from "./apiTypes";
import { daysOfMonth } from "./format";

export type ChartRow = { day: string; label: string } & Record<string, number | string>;

/** The column of a model in a chart row; prefixed so no model name can clash with "day". */
export function modelKey(model: string): string {
  return `model:${model}`;
}

/** Rows of (day, model, tokens) to one row per day, with a zero-filled column per model. */
export function pivotDaily(month: string, rows: DailyUsageRow[]): { data: ChartRow[]; models: string[] } {
  const totals = new Map<string, number>();
  for (const r of rows) totals.set(r.model, (totals.get(r.model) ?? 0) + r.tokens);
  // Biggest model at the bottom of each stack, so the stack reads from the base.
  const models = [...totals.keys()].sort((a, b) => (totals.get(b) ?? 0) - (totals.get(a) ?? 0));
  const byDay = new Map<string, ChartRow>();
  for (const day of daysOfMonth(month)) {
    const row: ChartRow = { day, label: String(Number(day.slice(8))) };
    for (const m of models) row[modelKey(m)] = 0;
    byDay.set(day, row);
  }
  for (const r of rows) {
    const row = byDay.get(r.day);
    if (row) row[modelKey(r.model)] = (row[modelKey(r.model)] as number) + r.tokens;
  }
  return { data: [...byDay.values()], models };
}
