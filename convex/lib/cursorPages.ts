// Cursor paging over an append-only table ordered by a timestamp index: the rollup, the alert
// evaluator and the metrics fold each read "the rows after my cursor, up to now - lag" in bounded
// pages and save the cursor the page covers.
import type { Doc } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";

/** One page of rows and the cursor that covers exactly them; `more` when the page was full. */
export interface CursorPage<T> {
  rows: T[];
  cursor: number;
  more: boolean;
}

/** How to read one table by its timestamp index. */
export interface TimeIndex<T> {
  /** The rows with from < time <= until in index order, at most `limit`. */
  range: (from: number, until: number, limit: number) => Promise<T[]>;
  /** Every row at exactly one timestamp. */
  at: (time: number) => Promise<T[]>;
  time: (row: T) => number;
}

/**
 * The rows with from < time <= until, at most `limit`, and the cursor that covers exactly them.
 * A full page never splits one timestamp across runs: it stops before the last timestamp it
 * reached, or, when the whole page shares that timestamp, reads every row at it (the next run
 * starts after it, so a row at a split timestamp would otherwise be skipped or counted twice).
 */
export async function pageAfter<T>(index: TimeIndex<T>, from: number, until: number, limit: number): Promise<CursorPage<T>> {
  const rows = await index.range(from, until, limit);
  if (rows.length < limit) return { rows, cursor: until, more: false };
  const last = index.time(rows[rows.length - 1]);
  const before = rows.filter((r) => index.time(r) < last);
  // The index is ordered, so the cursor at the page's last earlier row covers every row up to it.
  if (before.length > 0) return { rows: before, cursor: index.time(before[before.length - 1]), more: true };
  return { rows: await index.at(last), cursor: last, more: true };
}

/** usageEvents by their `by_at` index. */
export function usageEventsByAt(ctx: QueryCtx): TimeIndex<Doc<"usageEvents">> {
  return {
    range: (from, until, limit) =>
      ctx.db.query("usageEvents").withIndex("by_at", (q) => q.gt("at", from).lte("at", until)).take(limit),
    at: (time) => ctx.db.query("usageEvents").withIndex("by_at", (q) => q.eq("at", time)).collect(),
    time: (e) => e.at,
  };
}
