// Retry policy for upstream attempts made before the first byte reaches the client. Pure:
// the proxy's send loop (convex/proxy/upstream.ts) feeds it outcomes, the time and a random
// number, and does what it says.

/** What one attempt at the provider came back with. */
export type AttemptOutcome =
  | { kind: "response"; status: number; retryAfterMs: number | null }
  /** Connection refused or reset, DNS failure: nothing reached the provider, or nothing came back. */
  | { kind: "unreachable"; message: string }
  /** No response headers before the attempt's timeout. */
  | { kind: "timeout"; message: string };

export interface Classification {
  /** Whether the same provider may be tried again. */
  retryable: boolean;
  /** What the attempt says about the provider's health (client errors say nothing). */
  sample: "success" | "failure" | "ignored";
  /** Another provider of the model may serve it (our side failed, not the caller's request). */
  failover: boolean;
}

/**
 * 2xx: success. The caller's own mistakes (400, 404, 413, 422, ...) are neither retried nor
 * held against the provider. 401/403 mean our credentials for that provider are wrong: a
 * provider failure, not worth repeating, but another provider may serve. 408, 409 (OpenAI's
 * lock timeout), 429 and 5xx are transient, as are connection errors and timeouts.
 */
export function classifyAttempt(outcome: AttemptOutcome): Classification {
  if (outcome.kind !== "response") return { retryable: true, sample: "failure", failover: true };
  const s = outcome.status;
  if (s < 400) return { retryable: false, sample: "success", failover: false };
  if (s === 401 || s === 403) return { retryable: false, sample: "failure", failover: true };
  if (s === 408 || s === 409 || s === 429 || s >= 500) return { retryable: true, sample: "failure", failover: true };
  return { retryable: false, sample: "ignored", failover: false };
}

export interface RetryPolicy {
  /** Attempts per provider, the first included. */
  maxAttempts: number;
  /** Backoff before retry n is random in [0, min(maxDelayMs, baseDelayMs x 2^(n-1))] ("full jitter"). */
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * A provider's retry-after is waited out only up to this; a longer one gives up on that
   * provider (fail over, or answer 503 with the provider's retry-after for the client to honour).
   */
  maxRetryAfterMs: number;
  /** No retry starts later than this after the request's first attempt. */
  retryWindowMs: number;
  /**
   * An attempt whose response headers take longer is a timeout (retried), for requests whose
   * headers come at once: streams, embeddings, speech.
   */
  firstByteTimeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 200,
  maxDelayMs: 2_000,
  maxRetryAfterMs: 10_000,
  retryWindowMs: 30_000,
  firstByteTimeoutMs: 60_000,
};

export class RetryPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RetryPolicyError";
  }
}

/**
 * The policy from PROXY_RETRY_MAX_ATTEMPTS, PROXY_RETRY_BASE_DELAY_MS and
 * PROXY_FIRST_BYTE_TIMEOUT_MS (unset: the default).
 */
export function retryPolicyFromEnv(env: Record<string, string | undefined>): RetryPolicy {
  const int = (name: string, fallback: number, min: number) => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === "") return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new RetryPolicyError(`${name} must be an integer >= ${min}; got "${raw}".`);
    return n;
  };
  return {
    ...DEFAULT_RETRY_POLICY,
    maxAttempts: int("PROXY_RETRY_MAX_ATTEMPTS", DEFAULT_RETRY_POLICY.maxAttempts, 1),
    baseDelayMs: int("PROXY_RETRY_BASE_DELAY_MS", DEFAULT_RETRY_POLICY.baseDelayMs, 0),
    firstByteTimeoutMs: int("PROXY_FIRST_BYTE_TIMEOUT_MS", DEFAULT_RETRY_POLICY.firstByteTimeoutMs, 1),
  };
}

export type RetryDecision =
  | { retry: true; delayMs: number }
  | { retry: false; reason: "success" | "not_retryable" | "attempts_exhausted" | "retry_after_too_long" | "deadline" };

/**
 * After attempt number `attempt` (1-based) came back with `outcome`: wait and retry, or stop.
 * `random` is in [0, 1); a retry-after from the provider is honoured exactly (it knows when it
 * will have capacity), backoff otherwise. `deadlineAt` is the last moment a retry may start.
 */
export function nextRetry(input: {
  policy: RetryPolicy;
  attempt: number;
  outcome: AttemptOutcome;
  now: number;
  deadlineAt: number;
  random: number;
}): RetryDecision {
  const { policy, attempt, outcome, now } = input;
  const c = classifyAttempt(outcome);
  if (c.sample === "success") return { retry: false, reason: "success" };
  if (!c.retryable) return { retry: false, reason: "not_retryable" };
  if (attempt >= policy.maxAttempts) return { retry: false, reason: "attempts_exhausted" };
  const retryAfterMs = outcome.kind === "response" ? outcome.retryAfterMs : null;
  if (retryAfterMs !== null && retryAfterMs > policy.maxRetryAfterMs) return { retry: false, reason: "retry_after_too_long" };
  const delayMs = retryAfterMs ?? Math.floor(input.random * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1)));
  if (now + delayMs > input.deadlineAt) return { retry: false, reason: "deadline" };
  return { retry: true, delayMs };
}

/**
 * A provider's wait hint in ms: `retry-after-ms` (OpenAI sends it), else `retry-after` as
 * seconds or an HTTP date. null when absent or unreadable; never negative.
 */
export function parseRetryAfter(headers: { get(name: string): string | null }, now: number): number | null {
  const ms = headers.get("retry-after-ms");
  if (ms !== null && ms.trim() !== "" && Number.isFinite(Number(ms))) return Math.max(0, Math.round(Number(ms)));
  const raw = headers.get("retry-after");
  if (raw === null || raw.trim() === "") return null;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const date = Date.parse(raw);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** Whole seconds for a `retry-after` header: at least 1, so a client never spins. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
