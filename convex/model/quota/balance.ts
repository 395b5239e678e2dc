// The quota balance of one user and month: what the month has used, the holds of requests in
// flight, and the per-minute request and token buckets. `begin` and `settle` each read it, run
// one of the pure steps below, and write it back, so every decision about a user's quota is
// taken on ONE document (docs/proxy.md, "The balance document"). Pure.
import type { Plan } from "../plans";
import { thresholdsCrossed } from "../usage/summary";
import { addEvent, quotaUnits, type UsageAmounts, type UsageTotals, ZERO_TOTALS } from "../usage/totals";
import { admit } from "./holds";

/** Quota reserved by one request in flight; it stops counting at expiresAt even if never settled. */
export interface Hold {
  requestId: string;
  tokens: number;
  expiresAt: number;
}

/** A token bucket's level at `ts` (the state @convex-dev/rate-limiter keeps per key). */
export interface Bucket {
  value: number;
  ts: number;
}

export interface Buckets {
  requests: Bucket;
  tokens: Bucket;
}

export interface Balance extends UsageTotals {
  holds: Hold[];
  /** Absent until the first admission: a bucket never used is full. */
  buckets?: Buckets;
  /** Highest included-token threshold already alerted this month (0, 80, 100). */
  alertedPercent: number;
}

export const EMPTY_BALANCE: Balance = { ...ZERO_TOTALS, holds: [], alertedPercent: 0 };

const MINUTE_MS = 60_000;

/** The holds that still count at `now`: a crashed request's hold stops counting at its expiry. */
export function liveHolds(holds: ReadonlyArray<Hold>, now: number): Hold[] {
  return holds.filter((h) => h.expiresAt > now);
}

export function heldTokens(holds: ReadonlyArray<Hold>, now: number): number {
  return liveHolds(holds, now).reduce((s, h) => s + h.tokens, 0);
}

/** When the sweep must next look at this balance: its earliest hold expiry (none: never). */
export function nextHoldExpiry(holds: ReadonlyArray<Hold>): number | undefined {
  return holds.length === 0 ? undefined : Math.min(...holds.map((h) => h.expiresAt));
}

/**
 * A new month's first balance: nothing used yet, but the holds still live at `now` and the
 * buckets carry over, so a request in flight across midnight still counts against concurrency
 * and quota, and the first minute of a month is not a fresh burst allowance.
 */
export function carryOver(previous: Balance | null, now: number): Balance {
  if (previous === null) return EMPTY_BALANCE;
  return { ...EMPTY_BALANCE, holds: liveHolds(previous.holds, now), buckets: previous.buckets };
}

/**
 * A token bucket refilled continuously at `rate` per minute up to `rate`, then `count` taken.
 * The arithmetic of @convex-dev/rate-limiter's token bucket (`calculateRateLimit`; a test
 * checks they agree), applied to state kept in the balance document.
 */
export function takeFromBucket(
  bucket: Bucket | undefined,
  rate: number,
  now: number,
  count: number,
): { value: number; ts: number; retryAfterMs?: number } {
  const perMs = rate / MINUTE_MS;
  const start = bucket ?? { value: rate, ts: now };
  const value = Math.min(start.value + (now - start.ts) * perMs, rate) - count;
  return value < 0 ? { value, ts: now, retryAfterMs: -value / perMs } : { value, ts: now };
}

export interface RateSnapshot {
  limitRequests: number;
  remainingRequests: number;
  limitTokens: number;
  remainingTokens: number;
}

/** The buckets' levels at `now` for the x-ratelimit-* headers (nothing taken). */
export function rateSnapshot(buckets: Buckets | undefined, plan: Plan, now: number): RateSnapshot {
  const { requestsPerMinute, tokensPerMinute } = plan.limits;
  const level = (b: Bucket | undefined, rate: number) => Math.max(0, Math.floor(takeFromBucket(b, rate, now, 0).value));
  return {
    limitRequests: requestsPerMinute,
    remainingRequests: level(buckets?.requests, requestsPerMinute),
    limitTokens: tokensPerMinute,
    remainingTokens: level(buckets?.tokens, tokensPerMinute),
  };
}

export type Placement =
  | { ok: true; balance: Balance; rate: RateSnapshot }
  | {
      ok: false;
      refusal:
        | { reason: "concurrency" }
        | { reason: "quota"; remaining: number }
        | { reason: "rate"; limit: "requests" | "tokens"; retryAfterMs: number };
      /** The balance to store even though the request was refused (a request counted), or null. */
      balance: Balance | null;
      rate: RateSnapshot;
    };

/**
 * Admits a hold of `tokens` for `requestId`, or says why not, in the order the proxy has always
 * checked: concurrency (live holds), quota (used + live holds + this hold within the hard cap),
 * then requests per minute and tokens per minute. A request refused for tokens per minute
 * still counts as a request, as it does at OpenAI (so the returned balance must be stored);
 * one refused for requests takes no tokens. Expired holds are dropped on the way.
 */
export function placeHold(
  balance: Balance,
  input: { plan: Plan; requestId: string; tokens: number; now: number; ttlMs: number },
): Placement {
  const { plan, now } = input;
  const holds = liveHolds(balance.holds, now);
  const decision = admit({
    plan,
    usedTokens: quotaUnits(balance),
    heldTokens: holds.reduce((s, h) => s + h.tokens, 0),
    liveHolds: holds.length,
    newHoldTokens: input.tokens,
  });
  if (!decision.ok) {
    const refusal = decision.reason === "concurrency"
      ? { reason: "concurrency" as const }
      : { reason: "quota" as const, remaining: decision.remaining };
    return { ok: false, refusal, balance: null, rate: rateSnapshot(balance.buckets, plan, now) };
  }

  const { requestsPerMinute, tokensPerMinute } = plan.limits;
  const requests = takeFromBucket(balance.buckets?.requests, requestsPerMinute, now, 1);
  if (requests.retryAfterMs !== undefined) {
    return {
      ok: false,
      refusal: { reason: "rate", limit: "requests", retryAfterMs: requests.retryAfterMs },
      balance: null,
      rate: rateSnapshot(balance.buckets, plan, now),
    };
  }
  const tokens = takeFromBucket(balance.buckets?.tokens, tokensPerMinute, now, input.tokens);
  if (tokens.retryAfterMs !== undefined) {
    // The request is counted; the token bucket stays as it was.
    const buckets: Buckets = {
      requests: { value: requests.value, ts: now },
      tokens: balance.buckets?.tokens ?? { value: tokensPerMinute, ts: now },
    };
    return {
      ok: false,
      refusal: { reason: "rate", limit: "tokens", retryAfterMs: tokens.retryAfterMs },
      balance: { ...balance, holds, buckets },
      rate: rateSnapshot(buckets, plan, now),
    };
  }
  const buckets: Buckets = { requests: { value: requests.value, ts: now }, tokens: { value: tokens.value, ts: now } };
  return {
    ok: true,
    balance: {
      ...balance,
      holds: [...holds, { requestId: input.requestId, tokens: input.tokens, expiresAt: now + input.ttlMs }],
      buckets,
    },
    rate: rateSnapshot(buckets, plan, now),
  };
}

/**
 * Records one request's actual usage: its hold (if still there) is released, the usage is
 * added, expired holds are dropped, and the 80%/100% thresholds of the plan's included tokens
 * this usage crossed are returned (each fires once per month: alertedPercent remembers).
 */
export function settleUsage(
  balance: Balance,
  input: { plan: Plan; requestId: string; usage: UsageAmounts; now: number },
): { balance: Balance; crossed: number[] } {
  const totals = addEvent(balance, input.usage);
  const crossed = thresholdsCrossed(balance.alertedPercent, quotaUnits(totals), input.plan.includedTokens);
  return {
    balance: {
      ...balance,
      ...totals,
      holds: liveHolds(balance.holds, input.now).filter((h) => h.requestId !== input.requestId),
      alertedPercent: crossed.length > 0 ? Math.max(balance.alertedPercent, ...crossed) : balance.alertedPercent,
    },
    crossed,
  };
}
