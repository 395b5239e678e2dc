// Quota ledger arithmetic: months, hold sizes and the admission decision. Pure.
import type { Plan } from "./plans";

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

/** How long a hold protects quota before it counts as abandoned. */
export const HOLD_TTL_MS = 10 * 60 * 1000;
/** Upstream calls are cut before their hold expires, so a live request is always held. */
export const UPSTREAM_DEADLINE_MS = 9 * 60 * 1000;

/**
 * Output tokens a request may produce: what it asked for, or the plan's default, which the
 * proxy then sends upstream as the maximum so the output cannot exceed the hold.
 */
export function effectiveMaxOutput(requested: number | null, plan: Plan): number {
  return requested ?? plan.limits.defaultMaxOutputTokens;
}

/** Quota units held for a request: its prompt upper bound plus all the output it may produce. */
export function holdTokens(promptTokens: number, maxOutputTokens: number, choices: number): number {
  return promptTokens + maxOutputTokens * Math.max(1, choices);
}

export type Admission =
  | { ok: true }
  | { ok: false; reason: "concurrency"; limit: number }
  | { ok: false; reason: "quota"; remaining: number; limit: number };

/**
 * Admit a new hold only if used + live holds + new hold stays within the plan's hard cap and
 * the live holds leave room under the concurrency limit.
 */
export function admit(input: {
  plan: Plan;
  usedTokens: number;
  heldTokens: number;
  liveHolds: number;
  newHoldTokens: number;
}): Admission {
  const { plan } = input;
  if (input.liveHolds >= plan.limits.concurrentRequests) {
    return { ok: false, reason: "concurrency", limit: plan.limits.concurrentRequests };
  }
  const remaining = Math.max(0, plan.hardCapTokens - input.usedTokens - input.heldTokens);
  if (input.newHoldTokens > remaining) {
    return { ok: false, reason: "quota", remaining, limit: plan.hardCapTokens };
  }
  return { ok: true };
}

/** Quota units a usage event consumes: tokens both ways, plus characters for speech. */
export function quotaUnits(e: { tokensIn: number; tokensOut: number; characters: number }): number {
  return e.tokensIn + e.tokensOut + e.characters;
}
