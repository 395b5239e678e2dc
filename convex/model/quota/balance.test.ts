import { calculateRateLimit } from "@convex-dev/rate-limiter";
import { describe, expect, it } from "vitest";
import { PLANS } from "../plans";
import {
  type Balance,
  carryOver,
  EMPTY_BALANCE,
  heldTokens,
  nextHoldExpiry,
  placeHold,
  rateSnapshot,
  settleUsage,
  takeFromBucket,
} from "./balance";

const NOW = Date.UTC(2026, 10, 10, 12);
const TTL = 600_000;
const trial = PLANS.trial;
const place = (b: Balance, tokens: number, now = NOW, requestId = `r${tokens}@${now}`) =>
  placeHold(b, { plan: trial, requestId, tokens, now, ttlMs: TTL });

describe("token buckets", () => {
  it("refill and take exactly as @convex-dev/rate-limiter's token bucket does", () => {
    const config = { kind: "token bucket" as const, rate: 20, period: 60_000 };
    const cases: Array<[{ value: number; ts: number } | undefined, number, number]> = [
      [undefined, NOW, 1],
      [{ value: 0.5, ts: NOW - 1_000 }, NOW, 1],
      [{ value: 3, ts: NOW - 90_000 }, NOW, 25],
      [{ value: -0, ts: NOW }, NOW + 2_999, 1],
      [{ value: 19, ts: NOW - 10 }, NOW, 0],
    ];
    for (const [state, now, count] of cases) {
      const theirs = calculateRateLimit(state ?? null, config, now, count);
      const ours = takeFromBucket(state, config.rate, now, count);
      expect(ours.value).toBeCloseTo(theirs.value, 9);
      expect(ours.ts).toBe(theirs.ts);
      if (theirs.retryAfter === undefined) expect(ours.retryAfterMs).toBeUndefined();
      else expect(ours.retryAfterMs).toBeCloseTo(theirs.retryAfter, 6);
    }
  });

  it("report levels for the headers without taking anything, full before first use", () => {
    expect(rateSnapshot(undefined, trial, NOW)).toEqual({
      limitRequests: trial.limits.requestsPerMinute,
      remainingRequests: trial.limits.requestsPerMinute,
      limitTokens: trial.limits.tokensPerMinute,
      remainingTokens: trial.limits.tokensPerMinute,
    });
    const buckets = { requests: { value: 2.7, ts: NOW }, tokens: { value: -10, ts: NOW } };
    expect(rateSnapshot(buckets, trial, NOW)).toMatchObject({ remainingRequests: 2, remainingTokens: 0 });
  });
});

describe("placing a hold on the balance", () => {
  it("admits, holds until expiry, and takes one request and the hold's tokens", () => {
    const placed = place(EMPTY_BALANCE, 1_000);
    if (!placed.ok) throw new Error("refused");
    expect(placed.balance.holds).toEqual([{ requestId: `r1000@${NOW}`, tokens: 1_000, expiresAt: NOW + TTL }]);
    expect(placed.rate).toMatchObject({
      remainingRequests: trial.limits.requestsPerMinute - 1,
      remainingTokens: trial.limits.tokensPerMinute - 1_000,
    });
    expect(heldTokens(placed.balance.holds, NOW)).toBe(1_000);
    expect(heldTokens(placed.balance.holds, NOW + TTL)).toBe(0);
    expect(nextHoldExpiry(placed.balance.holds)).toBe(NOW + TTL);
    expect(nextHoldExpiry([])).toBeUndefined();
  });

  it("checks concurrency, then quota, then requests, then tokens per minute", () => {
    let b = EMPTY_BALANCE;
    for (let i = 0; i < trial.limits.concurrentRequests; i++) {
      const p = place(b, 10, NOW, `c${i}`);
      if (!p.ok) throw new Error("refused");
      b = p.balance;
    }
    // Concurrency wins over a quota that is also spent; nothing is taken from the buckets.
    const full = place({ ...b, tokensIn: trial.hardCapTokens }, 10);
    expect(full).toMatchObject({ ok: false, refusal: { reason: "concurrency" }, balance: null });

    const nearCap = { ...EMPTY_BALANCE, tokensIn: trial.hardCapTokens - 100 };
    expect(place(nearCap, 101)).toMatchObject({ ok: false, refusal: { reason: "quota", remaining: 100 }, balance: null });
    expect(place(nearCap, 100).ok).toBe(true);

    const noRequests = { ...EMPTY_BALANCE, buckets: { requests: { value: 0, ts: NOW }, tokens: { value: 0, ts: NOW } } };
    const r = place(noRequests, 10);
    expect(r).toMatchObject({ ok: false, refusal: { reason: "rate", limit: "requests" }, balance: null });
    if (r.ok || r.refusal.reason !== "rate") throw new Error("admitted");
    expect(r.refusal.retryAfterMs).toBeCloseTo(60_000 / trial.limits.requestsPerMinute, 6);
  });

  it("counts a request refused for tokens per minute, and leaves the token bucket as it was", () => {
    const tokens = { value: 50, ts: NOW };
    const r = place({ ...EMPTY_BALANCE, buckets: { requests: { value: 5, ts: NOW }, tokens } }, 100);
    expect(r).toMatchObject({ ok: false, refusal: { reason: "rate", limit: "tokens" } });
    if (r.ok) throw new Error("admitted");
    expect(r.balance?.buckets).toEqual({ requests: { value: 4, ts: NOW }, tokens });
    expect(r.balance?.holds).toEqual([]);
  });

  it("drops expired holds: a crashed request no longer blocks concurrency or quota", () => {
    const crashed = { ...EMPTY_BALANCE, holds: [{ requestId: "a", tokens: 490_000, expiresAt: NOW }, { requestId: "b", tokens: 1, expiresAt: NOW }] };
    // Counted, the two holds would fill both the concurrency (2) and the quota (500K).
    const p = place(crashed, 30_000);
    expect(p.ok).toBe(true);
    if (p.ok) expect(p.balance.holds.map((h) => h.requestId)).toEqual([`r30000@${NOW}`]);
  });
});

describe("settling on the balance", () => {
  it("adds the usage, releases the hold and fires each threshold once", () => {
    const placed = place(EMPTY_BALANCE, 1_000, NOW, "req");
    if (!placed.ok) throw new Error("refused");
    const included = trial.includedTokens;
    const usage = { tokensIn: 0.8 * included, tokensOut: 0, characters: 0, costMicros: 7 };
    const first = settleUsage(placed.balance, { plan: trial, requestId: "req", usage, now: NOW });
    expect(first.crossed).toEqual([80]);
    expect(first.balance).toMatchObject({ tokensIn: 0.8 * included, costMicros: 7, requests: 1, holds: [], alertedPercent: 80 });
    const again = settleUsage(first.balance, { plan: trial, requestId: "x", usage: { ...usage, tokensIn: 1 }, now: NOW });
    expect(again.crossed).toEqual([]);
    const last = settleUsage(again.balance, { plan: trial, requestId: "y", usage: { ...usage, tokensIn: included }, now: NOW });
    expect(last.crossed).toEqual([100]);
    expect(last.balance.alertedPercent).toBe(100);
  });

  it("starts a month with nothing used but the live holds and the buckets carried over", () => {
    const buckets = { requests: { value: 3, ts: NOW }, tokens: { value: 9, ts: NOW } };
    const previous: Balance = {
      ...EMPTY_BALANCE,
      tokensIn: 5,
      requests: 2,
      alertedPercent: 80,
      holds: [{ requestId: "live", tokens: 7, expiresAt: NOW + 1 }, { requestId: "dead", tokens: 9, expiresAt: NOW }],
      buckets,
    };
    expect(carryOver(previous, NOW)).toEqual({ ...EMPTY_BALANCE, holds: [{ requestId: "live", tokens: 7, expiresAt: NOW + 1 }], buckets });
    expect(carryOver(null, NOW)).toEqual(EMPTY_BALANCE);
  });
});
