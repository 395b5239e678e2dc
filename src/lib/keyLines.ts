// A listed key and its status now, by the model's rule (convex/model/apiKeyStatus.ts).
import { keyStatus } from "../../convex/model/apiKeyStatus";
import type { KeyStatus } from "./apiTypes";

/** What every key listing carries (the customer's own list and the support console's). */
export interface KeyFields {
  name: string;
  prefix: string;
  createdAt: number;
  lastUsedAt?: number;
  lastUsedIp?: string;
  revokedAt?: number;
  graceEndsAt?: number;
  expiresAt?: number;
  /** Set while the anomaly policy has the key suspended (convex/ops/anomalies.ts), with why. */
  suspendedAt?: number;
  suspendedReason?: string;
  /** The model's status when the query ran, where the listing sends it. */
  status?: KeyStatus;
}

/** A listed key with its status as of `now`. */
export interface KeyLine<K extends KeyFields = KeyFields> {
  key: K;
  status: KeyStatus;
}

const STAGE: Record<KeyStatus, number> = { active: 0, grace: 1, revoked: 2 };

/**
 * A key's status at the page's clock, `now`. The row's own `status` is as of the query's last
 * run, and a grace period or an expiry can end while the page stays open without any write to
 * re-run it, so the model's rule is applied again here. A status only moves forward (active,
 * grace, revoked), and the page's clock can be behind the server's (it ticks, and clocks
 * differ): a key revoked a moment ago has a `revokedAt` later than `now`. So the later of the
 * two stages is the status now.
 */
export function statusNow(key: KeyFields, now: number): KeyStatus {
  const byClock = keyStatus(key, now);
  return key.status !== undefined && STAGE[key.status] > STAGE[byClock] ? key.status : byClock;
}

export function keyLines<K extends KeyFields>(keys: readonly K[] | undefined, now: number): KeyLine<K>[] | undefined {
  return keys?.map((key) => ({ key, status: statusNow(key, now) }));
}

/** When the key stops (or stopped) working: the earliest of its revocation, grace end and expiry. */
export function keyEndsAt(key: KeyFields): number | undefined {
  const ends = [key.revokedAt, key.graceEndsAt, key.expiresAt].filter((t): t is number => t !== undefined);
  return ends.length === 0 ? undefined : Math.min(...ends);
}
