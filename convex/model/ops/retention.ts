// Retention windows as pure decisions (ops/retention.ts runs them by cron). Audit rows and raw
// usage events are kept AUDIT_RETENTION_DAYS / USAGE_EVENT_RETENTION_DAYS (default 400: a year and
// a month, so a dispute about last year's invoice still finds its trail); incoming SMS and Signal
// messages 30 days (identity/sms.ts). Raw usage events are deleted only once the usage rollup has
// folded them into usageDaily: its cursor bounds the deletion, so the charts and monthly totals
// never lose a request.

const DAY_MS = 24 * 60 * 60 * 1000;

export const DEFAULT_AUDIT_RETENTION_DAYS = 400;
export const DEFAULT_USAGE_EVENT_RETENTION_DAYS = 400;
/** The shortest window an env value may set: less would cut into the current billing month. */
export const MIN_RETENTION_DAYS = 31;
export const MAX_RETENTION_DAYS = 3650;

/**
 * Whole days from an env value; unset or blank gives the default. A value that is not a whole
 * number in [MIN_RETENTION_DAYS, MAX_RETENTION_DAYS] throws: a typo must not delete a year of
 * audit trail, and a loud failure in the cron's log is what an operator notices.
 */
export function retentionDays(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw.trim());
  if (!Number.isInteger(n) || n < MIN_RETENTION_DAYS || n > MAX_RETENTION_DAYS) {
    throw new RangeError(`${name}="${raw}" is not a whole number of days between ${MIN_RETENTION_DAYS} and ${MAX_RETENTION_DAYS}; nothing was deleted.`);
  }
  return n;
}

/** Rows strictly older than this time are past retention. */
export function cutoff(now: number, days: number): number {
  return now - days * DAY_MS;
}

/**
 * The newest `at` (exclusive) below which raw usage events may go: the retention cutoff, but
 * never past the rollup's cursor (events at or before the cursor are folded). No cursor means the
 * rollup never ran: nothing is deleted.
 */
export function usageEventCutoff(now: number, days: number, rollupCursor: number | null): number | null {
  if (rollupCursor === null) return null;
  return Math.min(cutoff(now, days), rollupCursor + 1);
}
