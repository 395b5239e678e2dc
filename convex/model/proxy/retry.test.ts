import { describe, expect, it } from "vitest";
import {
  type AttemptOutcome,
  classifyAttempt,
  DEFAULT_RETRY_POLICY,
  nextRetry,
  parseRetryAfter,
  retryAfterSeconds,
  RetryPolicyError,
  retryPolicyFromEnv,
} from "./retry";

const res = (status: number, retryAfterMs: number | null = null): AttemptOutcome => ({ kind: "response", status, retryAfterMs });

describe("classifying an attempt", () => {
  it.each([
    [res(200), { retryable: false, sample: "success", failover: false }],
    [res(400), { retryable: false, sample: "ignored", failover: false }],
    [res(404), { retryable: false, sample: "ignored", failover: false }],
    [res(413), { retryable: false, sample: "ignored", failover: false }],
    [res(422), { retryable: false, sample: "ignored", failover: false }],
    [res(401), { retryable: false, sample: "failure", failover: true }],
    [res(403), { retryable: false, sample: "failure", failover: true }],
    [res(408), { retryable: true, sample: "failure", failover: true }],
    [res(409), { retryable: true, sample: "failure", failover: true }],
    [res(429), { retryable: true, sample: "failure", failover: true }],
    [res(500), { retryable: true, sample: "failure", failover: true }],
    [res(503), { retryable: true, sample: "failure", failover: true }],
    [{ kind: "unreachable", message: "ECONNREFUSED" } as const, { retryable: true, sample: "failure", failover: true }],
    [{ kind: "timeout", message: "no headers in 60 s" } as const, { retryable: true, sample: "failure", failover: true }],
  ])("%o -> %o", (outcome, expected) => {
    expect(classifyAttempt(outcome)).toEqual(expected);
  });
});

describe("next retry", () => {
  const policy = DEFAULT_RETRY_POLICY;
  const base = { policy, now: 1_000, deadlineAt: 1_000 + policy.retryWindowMs, random: 0.5 };

  it.each([
    ["success", 1, res(200), { retry: false, reason: "success" }],
    ["a client error", 1, res(400), { retry: false, reason: "not_retryable" }],
    ["our credentials refused", 1, res(401), { retry: false, reason: "not_retryable" }],
    ["a 5xx on the first attempt: half of 200 ms", 1, res(500), { retry: true, delayMs: 100 }],
    ["a 5xx on the second attempt: half of 400 ms", 2, res(502), { retry: true, delayMs: 200 }],
    ["a 5xx on the last attempt", 3, res(500), { retry: false, reason: "attempts_exhausted" }],
    ["a 429 with retry-after 1.5 s: exactly that", 1, res(429, 1_500), { retry: true, delayMs: 1_500 }],
    ["a 429 with retry-after 0", 1, res(429, 0), { retry: true, delayMs: 0 }],
    ["a 429 asking for longer than we wait", 1, res(429, 60_000), { retry: false, reason: "retry_after_too_long" }],
    ["a connection error", 1, { kind: "unreachable", message: "reset" } as const, { retry: true, delayMs: 100 }],
  ])("%s", (_name, attempt, outcome, expected) => {
    expect(nextRetry({ ...base, attempt, outcome })).toEqual(expected);
  });

  it("caps the backoff at maxDelayMs and spreads it with the random draw", () => {
    const p = { ...policy, maxAttempts: 10 };
    expect(nextRetry({ ...base, policy: p, attempt: 8, outcome: res(500), random: 0.999 })).toEqual({ retry: true, delayMs: 1_998 });
    expect(nextRetry({ ...base, policy: p, attempt: 8, outcome: res(500), random: 0 })).toEqual({ retry: true, delayMs: 0 });
  });

  it("does not start a retry past the deadline", () => {
    expect(nextRetry({ ...base, attempt: 1, outcome: res(429, 5_000), deadlineAt: base.now + 4_999 })).toEqual({ retry: false, reason: "deadline" });
    expect(nextRetry({ ...base, attempt: 1, outcome: res(429, 5_000), deadlineAt: base.now + 5_000 })).toEqual({ retry: true, delayMs: 5_000 });
  });
});

describe("retry-after", () => {
  const h = (entries: Record<string, string>) => new Headers(entries);
  it.each([
    [{}, null],
    [{ "retry-after": "2" }, 2_000],
    [{ "retry-after": "0.5" }, 500],
    [{ "retry-after-ms": "750", "retry-after": "2" }, 750],
    [{ "retry-after": "-3" }, 0],
    [{ "retry-after": "soon" }, null],
    [{ "retry-after": new Date(Date.UTC(2026, 10, 29, 12, 0, 10)).toUTCString() }, 10_000],
  ])("%o -> %s", (headers, expected) => {
    expect(parseRetryAfter(h(headers), Date.UTC(2026, 10, 29, 12, 0, 0))).toBe(expected);
  });

  it("answers whole seconds, at least one", () => {
    expect([retryAfterSeconds(0), retryAfterSeconds(1), retryAfterSeconds(1_000), retryAfterSeconds(1_001)]).toEqual([1, 1, 1, 2]);
  });
});

describe("policy from the environment", () => {
  it("defaults and overrides", () => {
    expect(retryPolicyFromEnv({})).toEqual(DEFAULT_RETRY_POLICY);
    expect(
      retryPolicyFromEnv({ PROXY_RETRY_MAX_ATTEMPTS: "1", PROXY_RETRY_BASE_DELAY_MS: "10", PROXY_FIRST_BYTE_TIMEOUT_MS: "5000" }),
    ).toMatchObject({ maxAttempts: 1, baseDelayMs: 10, firstByteTimeoutMs: 5_000 });
  });
  it("refuses malformed values with a typed error", () => {
    expect(() => retryPolicyFromEnv({ PROXY_RETRY_MAX_ATTEMPTS: "0" })).toThrow(RetryPolicyError);
    expect(() => retryPolicyFromEnv({ PROXY_RETRY_BASE_DELAY_MS: "fast" })).toThrow("PROXY_RETRY_BASE_DELAY_MS");
    expect(() => retryPolicyFromEnv({ PROXY_FIRST_BYTE_TIMEOUT_MS: "0" })).toThrow("PROXY_FIRST_BYTE_TIMEOUT_MS");
  });
});
