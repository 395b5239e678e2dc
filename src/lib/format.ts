// Numbers and times for people: "4.2M tokens", "$12.40", "3 minutes ago".
// Month and day keys come from the model (convex/model/calendar.ts), as the usage functions use them.
import { dayOf, monthRange } from "../../convex/model/calendar";

const DAY_MS = 86_400_000;

const COMPACT_UNITS: ReadonlyArray<[number, string]> = [
  [1e9, "B"],
  [1e6, "M"],
  [1e3, "K"],
];

/** 950 -> "950", 4_230_000 -> "4.2M", 12_000 -> "12K". */
export function formatCompact(n: number): string {
  const abs = Math.abs(n);
  for (const [size, unit] of COMPACT_UNITS) {
    if (abs >= size) {
      const scaled = n / size;
      // One decimal below 10 ("4.2M"), none above ("42M"); drop a trailing ".0".
      const text = Math.abs(scaled) < 10 ? scaled.toFixed(1) : Math.round(scaled).toString();
      return `${text.replace(/\.0$/, "")}${unit}`;
    }
  }
  return Math.round(n).toString();
}

export function formatTokens(n: number): string {
  return `${formatCompact(n)} ${Math.abs(n) === 1 ? "token" : "tokens"}`;
}

/** Exact count with separators, for tables and tooltips: 1234567 -> "1,234,567". */
export function formatInteger(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/**
 * Integer micro-dollars to "$12.40" (with thousands separators). A non-zero amount
 * that rounds to nothing reads "<$0.01": "$0.00" would claim the request was free.
 */
export function formatMoney(micros: number): string {
  if (micros > 0 && micros < 5_000) return "<$0.01";
  const fixed = (Math.abs(micros) / 1e6).toFixed(2);
  const [whole, cents] = fixed.split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${micros < 0 ? "-" : ""}$${grouped}.${cents}`;
}

/** Overage rates and other sub-cent prices: "$3.00 / 1M tokens". */
export function formatRatePerMillion(micros: number): string {
  return `${formatMoney(micros)} / 1M tokens`;
}

export function formatPercent(percent: number): string {
  if (!Number.isFinite(percent)) return "0%";
  if (percent > 0 && percent < 1) return "<1%";
  return `${Math.round(percent)}%`;
}

/** Share of the included tokens used, from the raw counts (never rounded away to 0%). */
export function percentUsed(used: number, included: number): string {
  if (included <= 0) return used > 0 ? "100%" : "0%";
  return formatPercent((used / included) * 100);
}

const RELATIVE = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
const STEPS: ReadonlyArray<[Intl.RelativeTimeFormatUnit, number]> = [
  ["second", 60],
  ["minute", 60],
  ["hour", 24],
  ["day", 30],
  ["month", 12],
  ["year", Infinity],
];

/** "just now", "5 minutes ago", "in 3 hours". `now` is passed in so renders stay pure. */
export function formatRelative(at: number, now: number): string {
  let value = (at - now) / 1000;
  if (Math.abs(value) < 45) return "just now";
  for (const [unit, per] of STEPS) {
    if (Math.abs(value) < per) return RELATIVE.format(Math.round(value), unit);
    value /= per;
  }
  return RELATIVE.format(Math.round(value), "year");
}

const DATE_TIME = new Intl.DateTimeFormat("en", {
  dateStyle: "medium",
  timeStyle: "short",
});
const DATE = new Intl.DateTimeFormat("en", { dateStyle: "medium" });
const MONTH_NAME = new Intl.DateTimeFormat("en", { month: "long", year: "numeric", timeZone: "UTC" });

export function formatDateTime(at: number): string {
  return DATE_TIME.format(new Date(at));
}

export function formatDate(at: number): string {
  return DATE.format(new Date(at));
}

export { shiftMonth } from "../../convex/model/calendar";

/** "2026-11" -> "November 2026". */
export function formatMonth(month: string): string {
  return MONTH_NAME.format(new Date(monthRange(month).start));
}

/** Every "YYYY-MM-DD" of a month, for charts that must show quiet days as zero. */
export function daysOfMonth(month: string): string[] {
  const { start, end } = monthRange(month);
  const days: string[] = [];
  for (let at = start; at < end; at += DAY_MS) days.push(dayOf(at));
  return days;
}

/** Whole days until `at`, rounded up, never negative. */
export function daysUntil(at: number, now: number): number {
  return Math.max(0, Math.ceil((at - now) / DAY_MS));
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * Time since a reference moment, for timelines: "+0 s", "+0.4 s", "+12 s", "+3 min 20 s",
 * "+2 h 5 min", "+3 d 4 h". Sub-10-second steps keep a decimal: that is where a signup's
 * steps are told apart.
 */
export function formatOffset(ms: number): string {
  const sign = ms < 0 ? "-" : "+";
  const abs = Math.abs(ms);
  const seconds = abs / 1000;
  if (seconds < 10) {
    const text = seconds.toFixed(1).replace(/\.0$/, "");
    return `${sign}${text} s`;
  }
  if (seconds < 60) return `${sign}${Math.floor(seconds)} s`;
  const pair = (big: number, bigUnit: string, small: number, smallUnit: string) =>
    `${sign}${big} ${bigUnit}${small > 0 ? ` ${small} ${smallUnit}` : ""}`;
  const totalSeconds = Math.floor(seconds);
  if (totalSeconds < 3600) return pair(Math.floor(totalSeconds / 60), "min", totalSeconds % 60, "s");
  const totalMinutes = Math.floor(totalSeconds / 60);
  if (totalMinutes < 24 * 60) return pair(Math.floor(totalMinutes / 60), "h", totalMinutes % 60, "min");
  const totalHours = Math.floor(totalMinutes / 60);
  return pair(Math.floor(totalHours / 24), "d", totalHours % 24, "h");
}
