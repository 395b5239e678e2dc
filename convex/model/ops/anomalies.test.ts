import { describe, expect, test } from "vitest";
import {
  actionFor,
  DEFAULT_POLICY,
  HOUR,
  hourOf,
  KEY_SPIKE,
  MANY_IPS,
  manyIpsVerdict,
  quantile,
  SIGNUP_BURST,
  signupBursts,
  spikeVerdict,
} from "./anomalies";

const HOUR0 = hourOf(Date.UTC(2026, 10, 29, 12, 30));

/** `hours` of history before HOUR0, each with `tokens` (0 = idle, no row). */
function steady(hours: number, tokens: number) {
  return Array.from({ length: hours }, (_, i) => ({ hour: HOUR0 - (i + 1) * HOUR, tokens })).filter((h) => h.tokens > 0);
}

function spike(hourTokens: number, history: { hour: number; tokens: number }[], firstSeenHour: number) {
  return spikeVerdict({ hourTokens, hour: HOUR0, history, firstSeenHour, keyLabel: "key pk_live_x" }).firing;
}

describe("key usage spike", () => {
  test.each([
    ["at the floor, no history", KEY_SPIKE.floorTokens, [], HOUR0 - 200 * HOUR, false],
    ["a brand-new key's first busy hour", 5_000_000, [], HOUR0, false],
    ["a key with 23 h of history", 5_000_000, steady(23, 1_000), HOUR0 - 23 * HOUR, false],
    ["a week-old idle key jumping past the floor", KEY_SPIKE.floorTokens + 1, [], HOUR0 - 168 * HOUR, true],
    ["10x its steady 50k/h is not over 10x", 500_000, steady(168, 50_000), HOUR0 - 168 * HOUR, false],
    ["just over 10x its steady 50k/h", 500_001, steady(168, 50_000), HOUR0 - 168 * HOUR, true],
    ["busy at 20k/h: 150k is under 10x", 150_000, steady(168, 20_000), HOUR0 - 168 * HOUR, false],
  ] as const)("%s", (_name, tokens, history, firstSeen, firing) => {
    expect(spike(tokens, [...history], firstSeen)).toBe(firing);
  });

  test("the baseline is the p95 with idle hours as zero: a key busy 1 hour a day keeps a zero baseline", () => {
    // 7 busy hours of 300k among 168: p95 is 0, so the threshold is the floor.
    const history = Array.from({ length: 7 }, (_, d) => ({ hour: HOUR0 - (d * 24 + 1) * HOUR, tokens: 300_000 }));
    expect(spike(KEY_SPIKE.floorTokens + 1, history, HOUR0 - 168 * HOUR)).toBe(true);
    // Busy 10 hours a day (30% of hours): p95 is the busy level, so 2x it is normal.
    const daily = steady(168, 0).concat(
      Array.from({ length: 168 }, (_, i) => ({ hour: HOUR0 - (i + 1) * HOUR, tokens: i % 24 < 10 ? 300_000 : 0 })).filter((h) => h.tokens > 0),
    );
    expect(spike(600_000, daily, HOUR0 - 168 * HOUR)).toBe(false);
  });

  test("history older than 7 days is ignored", () => {
    const old = [{ hour: HOUR0 - 200 * HOUR, tokens: 10_000_000 }];
    expect(spike(KEY_SPIKE.floorTokens + 1, old, HOUR0 - 300 * HOUR)).toBe(true);
  });

  test("nearest-rank quantile", () => {
    expect(quantile([], 0.95)).toBe(0);
    expect(quantile([5, 1, 3], 0.5)).toBe(3);
    expect(quantile(Array.from({ length: 100 }, (_, i) => i + 1), 0.95)).toBe(95);
  });
});

describe("many IPs on one key", () => {
  test.each([
    [1, false],
    [MANY_IPS.minDistinct - 1, false],
    [MANY_IPS.minDistinct, true],
    [20, true],
  ])("%i distinct addresses in 10 min: firing=%s", (distinct, firing) => {
    expect(manyIpsVerdict(distinct, "key k").firing).toBe(firing);
  });
});

describe("signup bursts", () => {
  const attempts = (n: number, ipHash?: string) => Array.from({ length: n }, () => (ipHash ? { ipHash } : {}));

  test("below both thresholds nothing fires", () => {
    const bursts = signupBursts([...attempts(SIGNUP_BURST.minPerIp - 1, "aaaa"), ...attempts(10)]);
    expect(bursts.filter((b) => b.firing)).toEqual([]);
  });

  test("one address reaching the per-IP threshold fires for that address only", () => {
    const bursts = signupBursts([...attempts(SIGNUP_BURST.minPerIp, "abcdef0123456789"), ...attempts(3, "ffff")]);
    expect(bursts.filter((b) => b.firing).map((b) => [b.subject, b.count])).toEqual([["ip:abcdef012345", SIGNUP_BURST.minPerIp]]);
  });

  test("everyone together reaching the global threshold fires globally", () => {
    const bursts = signupBursts(attempts(SIGNUP_BURST.minGlobal));
    expect(bursts.filter((b) => b.firing).map((b) => b.subject)).toEqual(["global"]);
  });
});

describe("policy", () => {
  test("alerts only until an admin says otherwise", () => {
    expect(actionFor(DEFAULT_POLICY, "key_usage_spike")).toBe("alert");
    expect(actionFor(DEFAULT_POLICY, "key_many_ips")).toBe("alert");
    expect(actionFor({ keyUsageSpike: "alert", keyManyIps: "alert_and_suspend" }, "key_many_ips")).toBe("alert_and_suspend");
  });
});
