// This process's circuit breakers, one per upstream provider, and their sync with the
// providerBreakers table. The rolling windows live in module scope: an action's module scope
// survives across requests in the same Convex isolate (and is per process on the offline
// runtime), so counting successes and failures costs no database write. Only transitions are
// written (breakers.recordTransition), and every process re-reads the persisted states at most
// once per BREAKER_SYNC_MS, so an open breaker is honoured everywhere within that bound plus the
// transition's commit. docs/proxy.md, "Retries, breakers, failover".
import { internal } from "../_generated/api";
import { type ActionCtx, env } from "../_generated/server";
import {
  type Admission,
  type BreakerConfig,
  breakerConfigFromEnv,
  CircuitBreaker,
  DEFAULT_BREAKER_CONFIG,
  type HealthSample,
  type Transition,
} from "../model/proxy/breaker";

/** How stale this process's view of another process's breaker may get. */
export const BREAKER_SYNC_MS = 2_000;

const breakers = new Map<string, CircuitBreaker>();
let syncedAt = Number.NEGATIVE_INFINITY;
let syncing: Promise<void> | null = null;
let reportedConfigError: string | null = null;

function breakerOf(provider: string): CircuitBreaker {
  let b = breakers.get(provider);
  if (!b) {
    b = new CircuitBreaker(config());
    breakers.set(provider, b);
  }
  return b;
}

/**
 * PROXY_BREAKER_* as set on the deployment. A malformed value is logged (once) and the defaults
 * apply: a typo in a tuning knob must not take every AI request down with it.
 */
function config(): BreakerConfig {
  try {
    return breakerConfigFromEnv(env);
  } catch (e) {
    const message = (e as Error).message;
    if (message !== reportedConfigError) {
      reportedConfigError = message;
      console.error(`${message} Using the default breaker settings until it is fixed.`);
    }
    return DEFAULT_BREAKER_CONFIG;
  }
}

/** Adopts the persisted states when this process's copy is older than BREAKER_SYNC_MS. */
async function sync(ctx: ActionCtx): Promise<void> {
  if (Date.now() - syncedAt < BREAKER_SYNC_MS) return;
  // Concurrent requests in one process share a single read.
  syncing ??= (async () => {
    try {
      const rows = await ctx.runQuery(internal.proxy.breakers.current, {});
      for (const row of rows) breakerOf(row.provider).adopt(row);
    } catch (e) {
      // Keep serving on this process's own view; the next sync tries again.
      console.error("provider breakers: reading the persisted states failed", e);
    } finally {
      syncedAt = Date.now();
      syncing = null;
    }
  })();
  await syncing;
}

async function persist(ctx: ActionCtx, provider: string, transition: Transition): Promise<void> {
  try {
    const row = await ctx.runMutation(internal.proxy.breakers.recordTransition, { provider, transition });
    // Another process may have moved on meanwhile: the most recent transition wins.
    breakerOf(provider).adopt(row);
  } catch (e) {
    console.error(`provider breaker ${provider}: recording ${transition.from} -> ${transition.to} failed`, e);
  }
}

/** May an attempt go to `provider` now? Persists open -> half_open when this is the probe. */
export async function admitAttempt(ctx: ActionCtx, provider: string): Promise<Admission> {
  await sync(ctx);
  const admission = breakerOf(provider).admit(Date.now(), config());
  if (admission.allowed && admission.transition) await persist(ctx, provider, admission.transition);
  return admission;
}

/** Counts an attempt's result; writes only when it moves the breaker. */
export async function reportAttempt(
  ctx: ActionCtx,
  provider: string,
  result: { probe: boolean; sample: HealthSample; error?: string },
): Promise<void> {
  const transition = breakerOf(provider).record(Date.now(), result.sample, config(), { probe: result.probe, error: result.error });
  if (transition) await persist(ctx, provider, transition);
}

/** Forgets every breaker and the sync time, as a fresh process would start (tests). */
export function resetProviderHealth(): void {
  breakers.clear();
  syncedAt = Number.NEGATIVE_INFINITY;
  syncing = null;
}
