// Parsing and index choice for the console's searches (accounts, audit log) and the admin HTTP
// API's query strings. Pure: the Convex side only runs the range this picks.

export const ACCOUNT_STATES = ["pending", "trial", "active", "past_due", "suspended", "canceled"] as const;
export const ACCOUNT_PLANS = ["trial", "basic", "pro"] as const;
export type AccountStateName = (typeof ACCOUNT_STATES)[number];
export type AccountPlanName = (typeof ACCOUNT_PLANS)[number];

export interface AccountFilter {
  state?: AccountStateName;
  plan?: AccountPlanName;
  /** Lower-cased email prefix. */
  email?: string;
}

/**
 * Which users index serves a filter: every combination is one index range, so a page reads
 * only matching rows (no filter over a scan). Unfiltered and without a search the console shows
 * the most recently seen first; anything filtered is in email order.
 */
export type AccountIndex = "by_lastSeenAt" | "by_email" | "by_state_and_email" | "by_plan_and_email" | "by_state_and_plan_and_email";

export function accountIndexFor(filter: AccountFilter): AccountIndex {
  if (filter.state && filter.plan) return "by_state_and_plan_and_email";
  if (filter.state) return "by_state_and_email";
  if (filter.plan) return "by_plan_and_email";
  return filter.email ? "by_email" : "by_lastSeenAt";
}

export function normalizeEmailPrefix(raw: string | undefined | null): string | undefined {
  const term = raw?.trim().toLowerCase();
  return term ? term : undefined;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; param: string; message: string };

function oneOf<T extends string>(values: readonly T[], raw: string | null, param: string): Parsed<T | undefined> {
  if (raw === null || raw === "") return { ok: true, value: undefined };
  return (values as readonly string[]).includes(raw)
    ? { ok: true, value: raw as T }
    : { ok: false, param, message: `${param} must be one of ${values.join(", ")}; got '${raw}'.` };
}

export const MAX_PAGE = 100;
export const DEFAULT_PAGE = 25;

/** `limit` of a list endpoint: 1-100, 25 when absent. */
export function parseLimit(raw: string | null): Parsed<number> {
  if (raw === null || raw === "") return { ok: true, value: DEFAULT_PAGE };
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) return { ok: false, param: "limit", message: `limit must be a whole number from 1 to ${MAX_PAGE}; got '${raw}'.` };
  return { ok: true, value: n };
}

/** The filters of GET /v1/admin/users (state, plan, email prefix). */
export function parseAccountFilter(query: URLSearchParams): Parsed<AccountFilter> {
  const state = oneOf(ACCOUNT_STATES, query.get("state"), "state");
  if (!state.ok) return state;
  const plan = oneOf(ACCOUNT_PLANS, query.get("plan"), "plan");
  if (!plan.ok) return plan;
  const email = query.get("email");
  if (email !== null && email.length > 254) return { ok: false, param: "email", message: "email is at most 254 characters." };
  return { ok: true, value: { state: state.value, plan: plan.value, email: normalizeEmailPrefix(email) } };
}

export interface AuditFilter {
  targetId?: string;
  actor?: string;
  action?: string;
  from?: number;
  to?: number;
}

export type AuditIndex = "by_targetId_and_at" | "by_actorLabel_and_at" | "by_action_and_at" | "by_at";

/**
 * The most selective index the filter allows (a target's rows are few, an actor's more, an
 * action's many); the other conditions are checked on that index's range only.
 */
export function auditIndexFor(filter: AuditFilter): AuditIndex {
  if (filter.targetId) return "by_targetId_and_at";
  if (filter.actor) return "by_actorLabel_and_at";
  if (filter.action) return "by_action_and_at";
  return "by_at";
}

/** A time range must run forwards; either end may be open. */
export function checkTimeRange(from: number | undefined, to: number | undefined): string | null {
  for (const [name, value] of [["from", from], ["to", to]] as const) {
    if (value !== undefined && (!Number.isFinite(value) || value < 0)) return `${name} must be a time (epoch ms).`;
  }
  if (from !== undefined && to !== undefined && from > to) return "from must be before to.";
  return null;
}
