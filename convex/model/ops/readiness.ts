// Readiness (`GET /readyz`) as a pure decision: the HTTP action gathers the facts (which
// provider keys are set, the persisted breaker states, the usage rollup's cursor, the oldest
// mail still waiting to go out) and this turns them into named checks. Nothing here calls a
// provider: readiness must stay free to poll, so it reads only configuration and our own rows.
//
// Thresholds, and why:
// - OpenAI's key is required: it serves the default models and is the proxy's failover target;
//   without it the product's core path answers errors. The other providers are optional (a
//   deployment may sell only OpenAI models), so a missing key is ok with "not configured".
// - Any breaker in state "open" fails: that provider's requests are being refused right now.
//   "half_open" is ok (a probe is already testing recovery; failing there would flap).
// - The rollup's cursor trails now by ROLLUP_LAG_MS (10 s) plus its 10 s cron interval at
//   most, about 20 s; beyond ROLLUP_MAX_LAG_MS (2 min) the cron is not running or is failing,
//   and usage charts and quota alerts go stale. No cursor at all means it has never run.
// - The scheduler heartbeat (a cron every HEARTBEAT_INTERVAL_MS, 30 s) last ran within
//   SCHEDULER_MAX_LAG_MS (2 min, four missed beats): older means crons are not being run on
//   time (the scheduler is stalled or backlogged), so every cron-driven job (rollups, overage,
//   sweeps, metrics) is late. Never beaten fails too: a fresh deployment is ready after 30 s.
// - A mail due (sendAfter passed) for more than OUTBOX_MAX_AGE_MS (15 min) and still queued or
//   sending means the email worker is stuck or the provider refuses it past its retries.

export const ROLLUP_MAX_LAG_MS = 2 * 60_000;
export const OUTBOX_MAX_AGE_MS = 15 * 60_000;
export const HEARTBEAT_INTERVAL_MS = 30_000;
export const SCHEDULER_MAX_LAG_MS = 2 * 60_000;

/** The provider keys readiness looks at: the one required and those that may be absent. */
export const REQUIRED_PROVIDER_KEYS = ["OPENAI_API_KEY"] as const;
export const OPTIONAL_PROVIDER_KEYS = ["ANTHROPIC_API_KEY", "GEMINI_API_KEY", "ELEVENLABS_API_KEY", "EMAIL_API_KEY"] as const;
export type ProviderKeyName = (typeof REQUIRED_PROVIDER_KEYS)[number] | (typeof OPTIONAL_PROVIDER_KEYS)[number];

export interface ReadinessFacts {
  now: number;
  /** Whether each provider key is set (non-empty); the values themselves never reach here. */
  providerKeys: Record<ProviderKeyName, boolean>;
  breakers: Array<{ provider: string; state: "closed" | "open" | "half_open"; reopenAt: number | null }>;
  /** The usage rollup's cursor (events at or before it are folded), null if it never ran. */
  rollupCursor: number | null;
  /** When the scheduler heartbeat cron last ran, null if it never did. */
  heartbeatAt: number | null;
  /** sendAfter of the oldest due emailOutbox row still queued or sending, null if none. */
  oldestPendingEmailDueAt: number | null;
}

export interface ReadinessCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Readiness {
  ready: boolean;
  checks: ReadinessCheck[];
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)}s`;
}

function keyChecks(keys: ReadinessFacts["providerKeys"]): ReadinessCheck[] {
  const required = REQUIRED_PROVIDER_KEYS.map((k) => ({
    name: `env:${k}`,
    ok: keys[k],
    detail: keys[k] ? "configured" : "missing (required)",
  }));
  const optional = OPTIONAL_PROVIDER_KEYS.map((k) => ({
    name: `env:${k}`,
    ok: true,
    detail: keys[k] ? "configured" : "not configured",
  }));
  return [...required, ...optional];
}

function breakerChecks(now: number, breakers: ReadinessFacts["breakers"]): ReadinessCheck[] {
  // A provider with no row has never tripped, so it is closed: only rows are reported.
  return [...breakers]
    .sort((a, b) => a.provider.localeCompare(b.provider))
    .map((b) => {
      if (b.state !== "open") return { name: `breaker:${b.provider}`, ok: true, detail: b.state };
      const probe = b.reopenAt === null ? "" : b.reopenAt > now ? `, next probe in ${seconds(b.reopenAt - now)}` : ", probe due";
      return { name: `breaker:${b.provider}`, ok: false, detail: `open${probe}` };
    });
}

function rollupCheck(now: number, cursor: number | null): ReadinessCheck {
  if (cursor === null) return { name: "rollup", ok: false, detail: "usage rollup has never run" };
  const lag = Math.max(0, now - cursor);
  const ok = lag <= ROLLUP_MAX_LAG_MS;
  return { name: "rollup", ok, detail: `lag ${seconds(lag)} (max ${seconds(ROLLUP_MAX_LAG_MS)})` };
}

function schedulerCheck(now: number, heartbeatAt: number | null): ReadinessCheck {
  if (heartbeatAt === null) return { name: "scheduler", ok: false, detail: "scheduler heartbeat has never run" };
  const age = Math.max(0, now - heartbeatAt);
  const ok = age <= SCHEDULER_MAX_LAG_MS;
  return { name: "scheduler", ok, detail: `last heartbeat ${seconds(age)} ago (max ${seconds(SCHEDULER_MAX_LAG_MS)})` };
}

function outboxCheck(now: number, dueAt: number | null): ReadinessCheck {
  if (dueAt === null) return { name: "emailOutbox", ok: true, detail: "no due mail pending" };
  const age = Math.max(0, now - dueAt);
  const ok = age <= OUTBOX_MAX_AGE_MS;
  return { name: "emailOutbox", ok, detail: `oldest due mail pending ${seconds(age)} (max ${seconds(OUTBOX_MAX_AGE_MS)})` };
}

/** Every check, in a stable order; ready only when all pass. */
export function readiness(facts: ReadinessFacts): Readiness {
  const checks = [
    ...keyChecks(facts.providerKeys),
    ...breakerChecks(facts.now, facts.breakers),
    rollupCheck(facts.now, facts.rollupCursor),
    schedulerCheck(facts.now, facts.heartbeatAt),
    outboxCheck(facts.now, facts.oldestPendingEmailDueAt),
  ];
  return { ready: checks.every((c) => c.ok), checks };
}
