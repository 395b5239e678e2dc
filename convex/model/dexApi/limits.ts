// Per-plan rate limits of the Dex API, per account and group (operations.ts `limit`), as token
// buckets for @convex-dev/rate-limiter: `rate` per minute, bursts up to `capacity`. Sending reaches
// other people, so it is limited hardest; a plan without the feature never gets that far (403).
// Pure.
import type { PlanId } from "../plans";
import type { LimitGroup } from "./operations";

export interface GroupLimit {
  /** Tokens added per minute. */
  rate: number;
  /** Largest burst. */
  capacity: number;
}

export const DEX_API_LIMITS: Record<PlanId, Record<LimitGroup, GroupLimit>> = {
  trial: {
    read: { rate: 60, capacity: 60 },
    account: { rate: 10, capacity: 10 },
    // Trials have no identity; these only bound what a 403 costs.
    email_send: { rate: 1, capacity: 1 },
    email_write: { rate: 1, capacity: 1 },
    signal_send: { rate: 1, capacity: 1 },
    calendar_write: { rate: 1, capacity: 1 },
  },
  basic: {
    read: { rate: 120, capacity: 120 },
    account: { rate: 20, capacity: 20 },
    email_send: { rate: 10, capacity: 10 },
    email_write: { rate: 60, capacity: 60 },
    signal_send: { rate: 20, capacity: 20 },
    calendar_write: { rate: 30, capacity: 30 },
  },
  pro: {
    read: { rate: 600, capacity: 600 },
    account: { rate: 60, capacity: 60 },
    email_send: { rate: 60, capacity: 60 },
    email_write: { rate: 300, capacity: 300 },
    signal_send: { rate: 60, capacity: 60 },
    calendar_write: { rate: 120, capacity: 120 },
  },
};

export function limitOf(plan: PlanId, group: LimitGroup): GroupLimit {
  return DEX_API_LIMITS[plan][group];
}
