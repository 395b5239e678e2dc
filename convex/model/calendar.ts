// Calendar keys the ledger and the meters share: UTC months ("2026-11") and days. Pure.

/** "YYYY-MM" of an epoch-ms time, in UTC. */
export function monthOf(at: number): string {
  const d = new Date(at);
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
}

/** "YYYY-MM-DD" of an epoch-ms time, in UTC. */
export function dayOf(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

const MONTH_PATTERN = /^(\d{4})-(0[1-9]|1[0-2])$/;

export function isMonth(month: string): boolean {
  return MONTH_PATTERN.test(month);
}

/** [start, end) of a "YYYY-MM" month in epoch ms (UTC). */
export function monthRange(month: string): { start: number; end: number } {
  const m = MONTH_PATTERN.exec(month);
  if (!m) throw new RangeError(`month must look like 2026-11; got '${month}'.`);
  const year = Number(m[1]);
  const index = Number(m[2]) - 1;
  return { start: Date.UTC(year, index, 1), end: Date.UTC(year, index + 1, 1) };
}

/** Moves a "YYYY-MM" key by whole months (`shiftMonth("2026-01", -1)` is "2025-12"). */
export function shiftMonth(month: string, delta: number): string {
  const start = new Date(monthRange(month).start);
  return monthOf(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + delta, 1));
}
