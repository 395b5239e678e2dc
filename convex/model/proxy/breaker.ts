// A per-provider circuit breaker as a pure state machine: time comes in as an argument, so
// every transition is table-tested without timers. The proxy keeps one per provider per
// process (convex/proxy/providerHealth.ts) and persists only the transitions it returns.
//
//            failures/requests >= failureRate over the window (and requests >= minRequests)
//   closed ───────────────────────────────────────────────────────────────────────────> open
//     ^                                                                                  │
//     │ probe succeeds                                        cool-down elapsed, admit() │
//     │                      probe fails (cool-down doubles, up to maxCoolDownMs)        v
//     └──────────────────── half_open <───────────────────────────────────────────────── ┘
//                               │ ^
//                               └─┘ (also back to open)
//
// A success while closed changes nothing that needs persisting: the rolling window is memory
// only, so a healthy provider costs no database write at all.

export type BreakerState = "closed" | "open" | "half_open";

/** What one upstream attempt says about the provider's health. */
export type HealthSample = "success" | "failure" | "ignored";

export interface BreakerConfig {
  /** Length of the rolling window the failure rate is measured over. */
  windowMs: number;
  /** Buckets the window is kept in (its time resolution is windowMs / buckets). */
  buckets: number;
  /** No opening on fewer attempts than this in the window: two failures in a quiet minute are noise. */
  minRequests: number;
  /** Opens when failures / attempts in the window reach this (0 < rate <= 1). */
  failureRate: number;
  /** How long an open breaker refuses before letting a probe through. */
  coolDownMs: number;
  /** Each failed probe doubles the cool-down, up to this. */
  maxCoolDownMs: number;
  /** A probe that has not reported after this long (its request died) lets another one through. */
  probeTimeoutMs: number;
}

export const DEFAULT_BREAKER_CONFIG: BreakerConfig = {
  windowMs: 30_000,
  buckets: 10,
  minRequests: 20,
  failureRate: 0.5,
  coolDownMs: 30_000,
  maxCoolDownMs: 5 * 60_000,
  probeTimeoutMs: 60_000,
};

/** What a request refused while another request probes is told to wait. */
export const PROBING_RETRY_AFTER_MS = 1_000;

export class BreakerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BreakerConfigError";
  }
}

/**
 * The configuration from the deployment's PROXY_BREAKER_* variables (unset: the default), so
 * operators can tune thresholds without a deploy. A malformed value is a typed error naming
 * the variable, never a silently different breaker.
 */
export function breakerConfigFromEnv(env: Record<string, string | undefined>): BreakerConfig {
  const num = (name: string, fallback: number, ok: (n: number) => boolean, want: string) => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === "") return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || !ok(n)) throw new BreakerConfigError(`${name} must be ${want}; got "${raw}".`);
    return n;
  };
  const positiveInt = (n: number) => Number.isInteger(n) && n > 0;
  const config: BreakerConfig = {
    ...DEFAULT_BREAKER_CONFIG,
    failureRate: num("PROXY_BREAKER_FAILURE_RATE", DEFAULT_BREAKER_CONFIG.failureRate, (n) => n > 0 && n <= 1, "a number in (0, 1]"),
    minRequests: num("PROXY_BREAKER_MIN_REQUESTS", DEFAULT_BREAKER_CONFIG.minRequests, positiveInt, "a positive integer"),
    windowMs: num("PROXY_BREAKER_WINDOW_MS", DEFAULT_BREAKER_CONFIG.windowMs, positiveInt, "a positive integer (ms)"),
    coolDownMs: num("PROXY_BREAKER_COOLDOWN_MS", DEFAULT_BREAKER_CONFIG.coolDownMs, positiveInt, "a positive integer (ms)"),
  };
  config.maxCoolDownMs = Math.max(config.coolDownMs, DEFAULT_BREAKER_CONFIG.maxCoolDownMs);
  return config;
}

/** One state change, as persisted in providerBreakers (and its bounded history). */
export interface Transition {
  from: BreakerState;
  to: BreakerState;
  at: number;
  /** Attempts and failures in the window when it happened (the probe's own result for half-open). */
  requests: number;
  failures: number;
  /** When an open breaker lets its next probe through; null unless `to` is open. */
  reopenAt: number | null;
  coolDownMs: number;
  /** What the last failure was ("HTTP 503", "connection refused"...), never a secret. */
  lastError: string | null;
}

/** The persisted state another process wrote, adopted so every process honours an open breaker. */
export interface PersistedBreaker {
  state: BreakerState;
  changedAt: number;
  openedAt: number | null;
  reopenAt: number | null;
  coolDownMs: number;
}

export type Admission =
  | { allowed: true; probe: boolean; transition: Transition | null }
  | { allowed: false; retryAfterMs: number };

interface Bucket {
  /** floor(time / bucketMs) of the attempts it counts; a stale epoch means an empty bucket. */
  epoch: number;
  requests: number;
  failures: number;
}

export class CircuitBreaker {
  state: BreakerState = "closed";
  /** Time of the last transition, local or adopted: the most recent one wins when adopting. */
  changedAt = 0;
  openedAt: number | null = null;
  reopenAt: number | null = null;
  coolDownMs: number;
  probeStartedAt: number | null = null;
  lastError: string | null = null;
  private buckets: Bucket[] = [];

  constructor(config: BreakerConfig = DEFAULT_BREAKER_CONFIG) {
    this.coolDownMs = config.coolDownMs;
  }

  /** Attempts and failures in the rolling window ending at `now`. */
  window(now: number, config: BreakerConfig): { requests: number; failures: number } {
    const bucketMs = config.windowMs / config.buckets;
    const current = Math.floor(now / bucketMs);
    let requests = 0;
    let failures = 0;
    for (const b of this.buckets) {
      if (b.epoch > current - config.buckets && b.epoch <= current) {
        requests += b.requests;
        failures += b.failures;
      }
    }
    return { requests, failures };
  }

  /**
   * May an attempt go to the provider now? Closed: yes. Open: no, until the cool-down ends;
   * then one probe is let through (the open -> half_open transition). Half-open: only the
   * probe, or a new one when the previous probe never reported.
   */
  admit(now: number, config: BreakerConfig): Admission {
    if (this.state === "closed") return { allowed: true, probe: false, transition: null };
    if (this.state === "open") {
      if (this.reopenAt !== null && now < this.reopenAt) return { allowed: false, retryAfterMs: this.reopenAt - now };
      const transition = this.move("half_open", now, { requests: 0, failures: 0 });
      this.probeStartedAt = now;
      return { allowed: true, probe: true, transition };
    }
    // half_open
    if (this.probeStartedAt === null || now - this.probeStartedAt >= config.probeTimeoutMs) {
      this.probeStartedAt = now;
      return { allowed: true, probe: true, transition: null };
    }
    // The probe's answer usually comes within seconds: ask callers back soon, not at its timeout.
    return { allowed: false, retryAfterMs: Math.max(1, Math.min(PROBING_RETRY_AFTER_MS, this.probeStartedAt + config.probeTimeoutMs - now)) };
  }

  /**
   * Records an attempt's result. Returns the transition to persist, or null. `probe` is what
   * admit() said for this attempt: only the probe's result decides a half-open breaker;
   * attempts admitted before the breaker opened report into an empty window and decide nothing.
   */
  record(now: number, sample: HealthSample, config: BreakerConfig, opts: { probe: boolean; error?: string } = { probe: false }): Transition | null {
    if (sample === "ignored") {
      // The probe reached a provider that answered the caller's mistake: that proves nothing
      // either way, so free the probe slot for the next request instead of waiting out its timeout.
      if (this.state === "half_open" && opts.probe) this.probeStartedAt = null;
      return null;
    }
    if (sample === "failure" && opts.error) this.lastError = opts.error;
    if (this.state === "half_open" && opts.probe) {
      this.probeStartedAt = null;
      const counts = { requests: 1, failures: sample === "failure" ? 1 : 0 };
      if (sample === "success") {
        this.buckets = [];
        this.coolDownMs = config.coolDownMs;
        return this.move("closed", now, counts);
      }
      this.coolDownMs = Math.min(this.coolDownMs * 2, config.maxCoolDownMs);
      return this.move("open", now, counts);
    }
    if (this.state !== "closed") return null;
    this.count(now, sample, config);
    if (sample === "success") return null;
    const { requests, failures } = this.window(now, config);
    if (requests >= config.minRequests && failures / requests >= config.failureRate) {
      this.coolDownMs = config.coolDownMs;
      return this.move("open", now, { requests, failures });
    }
    return null;
  }

  /**
   * Takes on a state another process persisted when it is more recent than this one's: an
   * open breaker elsewhere is honoured here until its reopenAt (then this process sends its
   * own probe); a close elsewhere closes here with an empty window. A remote half-open is
   * taken as open with its cool-down over, so this process may probe too.
   */
  adopt(remote: PersistedBreaker): void {
    if (remote.changedAt <= this.changedAt) return;
    this.changedAt = remote.changedAt;
    this.coolDownMs = remote.coolDownMs;
    this.probeStartedAt = null;
    if (remote.state === "closed") {
      this.state = "closed";
      this.openedAt = null;
      this.reopenAt = null;
      this.buckets = [];
      return;
    }
    this.state = "open";
    this.openedAt = remote.openedAt ?? remote.changedAt;
    this.reopenAt = remote.state === "half_open" ? remote.changedAt : remote.reopenAt ?? remote.changedAt;
  }

  private count(now: number, sample: "success" | "failure", config: BreakerConfig) {
    const bucketMs = config.windowMs / config.buckets;
    const epoch = Math.floor(now / bucketMs);
    if (this.buckets.length !== config.buckets) this.buckets = Array.from({ length: config.buckets }, () => ({ epoch: -1, requests: 0, failures: 0 }));
    const b = this.buckets[epoch % config.buckets];
    if (b.epoch !== epoch) {
      b.epoch = epoch;
      b.requests = 0;
      b.failures = 0;
    }
    b.requests++;
    if (sample === "failure") b.failures++;
  }

  private move(to: BreakerState, now: number, counts: { requests: number; failures: number }): Transition {
    const from = this.state;
    this.state = to;
    this.changedAt = now;
    if (to === "open") {
      this.openedAt = from === "closed" ? now : this.openedAt ?? now;
      this.reopenAt = now + this.coolDownMs;
    } else {
      this.reopenAt = null;
      if (to === "closed") this.openedAt = null;
    }
    return {
      from,
      to,
      at: now,
      ...counts,
      reopenAt: this.reopenAt,
      coolDownMs: this.coolDownMs,
      lastError: this.lastError,
    };
  }

  /** What admin and other processes see. */
  persisted(): PersistedBreaker {
    return { state: this.state, changedAt: this.changedAt, openedAt: this.openedAt, reopenAt: this.reopenAt, coolDownMs: this.coolDownMs };
  }
}
