import { describe, expect, it } from "vitest";
import {
  type BreakerConfig,
  BreakerConfigError,
  breakerConfigFromEnv,
  CircuitBreaker,
  DEFAULT_BREAKER_CONFIG,
  type HealthSample,
} from "./breaker";

const config: BreakerConfig = {
  windowMs: 10_000,
  buckets: 10,
  minRequests: 4,
  failureRate: 0.5,
  coolDownMs: 1_000,
  maxCoolDownMs: 4_000,
  probeTimeoutMs: 5_000,
};

type Step =
  | { at: number; record: HealthSample; probe?: boolean; expect: string; transition?: string | null }
  | { at: number; admit: true; expect: string; allowed: boolean; probe?: boolean; transition?: string | null; retryAfterMs?: number };

/** Runs a script of admits and records, checking the state and transition after each step. */
function run(steps: Step[]) {
  const b = new CircuitBreaker(config);
  steps.forEach((step, i) => {
    const where = `step ${i} (t=${step.at})`;
    if ("record" in step) {
      const t = b.record(step.at, step.record, config, { probe: step.probe ?? false, error: "HTTP 503" });
      if (step.transition !== undefined) expect(t ? `${t.from}->${t.to}` : null, where).toBe(step.transition);
    } else {
      const a = b.admit(step.at, config);
      expect(a.allowed, where).toBe(step.allowed);
      if (a.allowed) {
        if (step.probe !== undefined) expect(a.probe, where).toBe(step.probe);
        if (step.transition !== undefined) expect(a.transition ? `${a.transition.from}->${a.transition.to}` : null, where).toBe(step.transition);
      } else if (step.retryAfterMs !== undefined) {
        expect(a.retryAfterMs, where).toBe(step.retryAfterMs);
      }
    }
    expect(b.state, where).toBe(step.expect);
  });
  return b;
}

describe("circuit breaker", () => {
  it("stays closed below the minimum number of attempts, however many fail", () => {
    run([
      { at: 0, record: "failure", expect: "closed", transition: null },
      { at: 1, record: "failure", expect: "closed", transition: null },
      { at: 2, record: "failure", expect: "closed", transition: null },
    ]);
  });

  it("opens at the failure rate once the window holds enough attempts", () => {
    const b = run([
      { at: 0, record: "success", expect: "closed" },
      { at: 1, record: "success", expect: "closed" },
      { at: 2, record: "failure", expect: "closed", transition: null },
      { at: 3, record: "failure", expect: "open", transition: "closed->open" },
    ]);
    expect(b.openedAt).toBe(3);
    expect(b.reopenAt).toBe(3 + config.coolDownMs);
  });

  it("stays closed under the failure rate", () => {
    run([
      { at: 0, record: "success", expect: "closed" },
      { at: 1, record: "success", expect: "closed" },
      { at: 2, record: "success", expect: "closed" },
      { at: 3, record: "failure", expect: "closed", transition: null },
      { at: 4, record: "success", expect: "closed" },
      { at: 5, record: "failure", expect: "closed", transition: null },
    ]);
  });

  it("ignores client errors: they neither fail nor dilute the rate", () => {
    const b = run([
      { at: 0, record: "ignored", expect: "closed" },
      { at: 1, record: "ignored", expect: "closed" },
      { at: 2, record: "ignored", expect: "closed" },
      { at: 3, record: "ignored", expect: "closed" },
      { at: 4, record: "failure", expect: "closed", transition: null },
    ]);
    expect(b.window(4, config)).toEqual({ requests: 1, failures: 1 });
  });

  it("forgets attempts older than the window", () => {
    const b = run([
      { at: 0, record: "failure", expect: "closed" },
      { at: 1, record: "failure", expect: "closed" },
      { at: 2, record: "failure", expect: "closed" },
      // 10 s later the three failures have left the window: one more is not enough.
      { at: 10_500, record: "failure", expect: "closed", transition: null },
    ]);
    expect(b.window(10_500, config)).toEqual({ requests: 1, failures: 1 });
  });

  it("refuses while open, lets one probe through after the cool-down, and closes on its success", () => {
    const b = run([
      { at: 0, record: "failure", expect: "closed" },
      { at: 1, record: "failure", expect: "closed" },
      { at: 2, record: "failure", expect: "closed" },
      { at: 3, record: "failure", expect: "open", transition: "closed->open" },
      { at: 500, admit: true, expect: "open", allowed: false, retryAfterMs: 503 },
      { at: 1_003, admit: true, expect: "half_open", allowed: true, probe: true, transition: "open->half_open" },
      // While the probe is out, nobody else goes; they are asked back in a second.
      { at: 1_004, admit: true, expect: "half_open", allowed: false, retryAfterMs: 1_000 },
      // A late result from an attempt admitted before the opening decides nothing.
      { at: 1_005, record: "success", probe: false, expect: "half_open", transition: null },
      { at: 1_010, record: "success", probe: true, expect: "closed", transition: "half_open->closed" },
      { at: 1_011, admit: true, expect: "closed", allowed: true, probe: false },
    ]);
    // The window starts empty again: one failure does not re-open it.
    expect(b.window(1_011, config)).toEqual({ requests: 0, failures: 0 });
    expect(b.openedAt).toBeNull();
  });

  it("re-opens on a failed probe with a doubled cool-down, capped", () => {
    const b = run([
      { at: 0, record: "failure", expect: "closed" },
      { at: 1, record: "failure", expect: "closed" },
      { at: 2, record: "failure", expect: "closed" },
      { at: 3, record: "failure", expect: "open", transition: "closed->open" },
      { at: 1_003, admit: true, expect: "half_open", allowed: true, probe: true },
      { at: 1_004, record: "failure", probe: true, expect: "open", transition: "half_open->open" },
    ]);
    expect(b.reopenAt).toBe(1_004 + 2_000);
    expect(b.openedAt).toBe(3);
    b.admit(3_004, config);
    b.record(3_005, "failure", config, { probe: true });
    expect(b.reopenAt).toBe(3_005 + 4_000);
    b.admit(7_005, config);
    b.record(7_006, "failure", config, { probe: true });
    expect(b.coolDownMs).toBe(config.maxCoolDownMs);
    expect(b.reopenAt).toBe(7_006 + 4_000);
  });

  it("frees the probe slot when the probe met a client error, without deciding anything", () => {
    run([
      { at: 0, record: "failure", expect: "closed" },
      { at: 1, record: "failure", expect: "closed" },
      { at: 2, record: "failure", expect: "closed" },
      { at: 3, record: "failure", expect: "open" },
      { at: 1_003, admit: true, expect: "half_open", allowed: true, probe: true },
      { at: 1_004, record: "ignored", probe: true, expect: "half_open", transition: null },
      { at: 1_005, admit: true, expect: "half_open", allowed: true, probe: true, transition: null },
      { at: 1_006, record: "success", probe: true, expect: "closed", transition: "half_open->closed" },
    ]);
  });

  it("lets a new probe through when the last one never reported", () => {
    run([
      { at: 0, record: "failure", expect: "closed" },
      { at: 1, record: "failure", expect: "closed" },
      { at: 2, record: "failure", expect: "closed" },
      { at: 3, record: "failure", expect: "open" },
      { at: 1_003, admit: true, expect: "half_open", allowed: true, probe: true },
      { at: 1_003 + 4_999, admit: true, expect: "half_open", allowed: false, retryAfterMs: 1 },
      { at: 1_003 + 5_000, admit: true, expect: "half_open", allowed: true, probe: true, transition: null },
    ]);
  });

  it("returns the transition with the window's counts and the last error", () => {
    const b = new CircuitBreaker(config);
    b.record(0, "success", config);
    b.record(1, "failure", config, { probe: false, error: "HTTP 500" });
    b.record(2, "ignored", config);
    b.record(3, "failure", config, { probe: false, error: "connection refused" });
    const t = b.record(4, "failure", config, { probe: false, error: "HTTP 503" });
    expect(t).toEqual({
      from: "closed",
      to: "open",
      at: 4,
      requests: 4,
      failures: 3,
      reopenAt: 4 + config.coolDownMs,
      coolDownMs: config.coolDownMs,
      lastError: "HTTP 503",
    });
  });
});

describe("adopting another process's state", () => {
  it("honours a more recent open breaker until its reopenAt, then probes itself", () => {
    const b = new CircuitBreaker(config);
    b.adopt({ state: "open", changedAt: 100, openedAt: 100, reopenAt: 1_100, coolDownMs: 1_000 });
    expect(b.admit(500, config)).toEqual({ allowed: false, retryAfterMs: 600 });
    const a = b.admit(1_100, config);
    expect(a).toMatchObject({ allowed: true, probe: true, transition: { from: "open", to: "half_open" } });
  });

  it("ignores an older persisted state than its own", () => {
    const b = new CircuitBreaker(config);
    for (let i = 0; i < 4; i++) b.record(200 + i, "failure", config);
    expect(b.state).toBe("open");
    b.adopt({ state: "closed", changedAt: 150, openedAt: null, reopenAt: null, coolDownMs: 1_000 });
    expect(b.state).toBe("open");
  });

  it("closes when another process's probe closed it, with an empty window", () => {
    const b = new CircuitBreaker(config);
    for (let i = 0; i < 4; i++) b.record(i, "failure", config);
    b.adopt({ state: "closed", changedAt: 2_000, openedAt: null, reopenAt: null, coolDownMs: 1_000 });
    expect(b.state).toBe("closed");
    expect(b.window(2_000, config)).toEqual({ requests: 0, failures: 0 });
  });

  it("takes a remote half-open as a cool-down that has ended", () => {
    const b = new CircuitBreaker(config);
    b.adopt({ state: "half_open", changedAt: 5_000, openedAt: 1_000, reopenAt: null, coolDownMs: 2_000 });
    expect(b.state).toBe("open");
    expect(b.admit(5_001, config)).toMatchObject({ allowed: true, probe: true });
  });
});

describe("configuration from the environment", () => {
  it("defaults when unset and reads each variable", () => {
    expect(breakerConfigFromEnv({})).toEqual(DEFAULT_BREAKER_CONFIG);
    expect(
      breakerConfigFromEnv({
        PROXY_BREAKER_FAILURE_RATE: "0.25",
        PROXY_BREAKER_MIN_REQUESTS: "5",
        PROXY_BREAKER_WINDOW_MS: "60000",
        PROXY_BREAKER_COOLDOWN_MS: "500",
      }),
    ).toMatchObject({ failureRate: 0.25, minRequests: 5, windowMs: 60_000, coolDownMs: 500, maxCoolDownMs: DEFAULT_BREAKER_CONFIG.maxCoolDownMs });
  });

  it.each([
    ["PROXY_BREAKER_FAILURE_RATE", "0"],
    ["PROXY_BREAKER_FAILURE_RATE", "1.5"],
    ["PROXY_BREAKER_MIN_REQUESTS", "2.5"],
    ["PROXY_BREAKER_WINDOW_MS", "soon"],
    ["PROXY_BREAKER_COOLDOWN_MS", "-1"],
  ])("refuses %s=%s with a typed error naming it", (name, value) => {
    expect(() => breakerConfigFromEnv({ [name]: value })).toThrow(BreakerConfigError);
    expect(() => breakerConfigFromEnv({ [name]: value })).toThrow(name);
  });
});
