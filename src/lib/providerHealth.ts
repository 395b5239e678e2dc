// The support console's provider health (admin/ProvidersPage) in words: breaker states as
// badges, failure rates and the countdown to an open breaker's next probe.
import type { FunctionReturnType } from "convex/server";
import type { api } from "../../convex/_generated/api";
import { formatPercent } from "./format";
import { labelsByTone } from "./labels";

export type BreakerRow = FunctionReturnType<typeof api.proxy.breakers.list>[number];
export type BreakerTransition = BreakerRow["transitions"][number];

export const BREAKER_STATES = labelsByTone<BreakerRow["state"]>({
  success: { closed: "Closed" },
  warning: { half_open: "Half-open (probing)" },
  critical: { open: "Open" },
});

/** "3 of 4 attempts (75%)" for the window at a transition; a probe is one attempt. */
export function failureRateLine(failures: number, requests: number): string {
  if (requests === 0) return "No attempts";
  return `${failures} of ${requests} attempt${requests === 1 ? "" : "s"} failed (${formatPercent((failures / requests) * 100)})`;
}

/**
 * When an open breaker lets its next probe through, counted in seconds: cool-downs are seconds
 * to minutes long, so "just now" would hide what support is waiting for.
 */
export function probeCountdown(reopenAt: number, now: number): string {
  const ms = reopenAt - now;
  if (ms <= 0) return "probe due now";
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 120) return `probe in ${seconds} s`;
  return `probe in ${Math.ceil(seconds / 60)} min`;
}

/** "closed → open" */
export function transitionLabel(t: Pick<BreakerTransition, "from" | "to">): string {
  return `${BREAKER_STATES[t.from].label.split(" ")[0]} → ${BREAKER_STATES[t.to].label.split(" ")[0]}`;
}

/** Every provider's transitions, newest first, for the history table. */
export function recentTransitions(rows: readonly BreakerRow[], limit = 50): Array<BreakerTransition & { provider: string }> {
  return rows
    .flatMap((r) => r.transitions.map((t) => ({ ...t, provider: r.provider })))
    .sort((a, b) => b.at - a.at)
    .slice(0, limit);
}
