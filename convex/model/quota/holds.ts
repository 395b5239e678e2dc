// Quota ledger arithmetic: hold sizes and the hold-level admission decision. Pure.
import type { Plan } from "../plans";

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
