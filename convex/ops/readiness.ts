// Readiness (`GET /readyz`): whether this deployment can serve its core paths right now. The
// facts come from configuration and our own rows only (never a paid provider call), so load
// balancers and monitors may poll it freely; the decision and its thresholds are in
// model/ops/readiness.ts. 200 with the checks when ready, 503 naming each failing check.
import { v } from "convex/values";
import { internal } from "../_generated/api";
import { type ActionCtx, env, httpAction, type MutationCtx, type QueryCtx } from "../_generated/server";
import { internalMutation, internalQuery } from "../functions";
import type { ProviderId } from "../model/pricing";
import { hasMasterKey } from "../providers/ai/masterKeys";
import { OPTIONAL_PROVIDER_KEYS, type ProviderKeyName, readiness, REQUIRED_PROVIDER_KEYS } from "../model/ops/readiness";
import { breakerStateValidator } from "../schema/proxy";

/** Providers are a handful (one breaker row each); the same bound as proxy/breakers.ts. */
const MAX_BREAKERS = 100;
/** The usage rollup's cursor row (convex/usage/rollup.ts keeps its historical name). */
const ROLLUP_CURSOR = "usageMonthly";
/** The scheduler heartbeat's row in rollupState: `cursor` is when the heartbeat cron last ran. */
export const HEARTBEAT_CURSOR = "schedulerHeartbeat";

const factsValidator = v.object({
  breakers: v.array(
    v.object({ provider: v.string(), state: breakerStateValidator, reopenAt: v.union(v.number(), v.null()) }),
  ),
  rollupCursor: v.union(v.number(), v.null()),
  heartbeatAt: v.union(v.number(), v.null()),
  oldestPendingEmailDueAt: v.union(v.number(), v.null()),
});

/** sendAfter of the oldest row of a status that is already due (index range, one document). */
async function oldestDue(ctx: QueryCtx, status: "queued" | "sending", now: number): Promise<number | null> {
  const row = await ctx.db
    .query("emailOutbox")
    .withIndex("by_status_and_sendAfter", (q) => q.eq("status", status).lte("sendAfter", now))
    .order("asc")
    .first();
  return row?.sendAfter ?? null;
}

/**
 * The database facts readiness needs, each an indexed read of at most a few documents: the
 * breaker rows (one per provider), the rollup cursor and the scheduler heartbeat by name, and the first due mail of each
 * pending status. `now` is an argument so the outbox range is the caller's clock.
 */
export const facts = internalQuery({
  args: { now: v.number() },
  returns: factsValidator,
  handler: async (ctx, { now }) => {
    const breakers = (await ctx.db.query("providerBreakers").take(MAX_BREAKERS)).map((b) => ({
      provider: b.provider,
      state: b.state,
      reopenAt: b.reopenAt,
    }));
    const rollup = await ctx.db
      .query("rollupState")
      .withIndex("by_name", (q) => q.eq("name", ROLLUP_CURSOR))
      .unique();
    const heartbeat = await ctx.db
      .query("rollupState")
      .withIndex("by_name", (q) => q.eq("name", HEARTBEAT_CURSOR))
      .unique();
    // Queued mail waits for its worker; "sending" mail is in the workpool's retries. Either one
    // long past its sendAfter means mail is not going out.
    const dues = [await oldestDue(ctx, "queued", now), await oldestDue(ctx, "sending", now)].filter(
      (d): d is number => d !== null,
    );
    return {
      breakers,
      rollupCursor: rollup?.cursor ?? null,
      heartbeatAt: heartbeat?.cursor ?? null,
      oldestPendingEmailDueAt: dues.length === 0 ? null : Math.min(...dues),
    };
  },
});

// An AI provider counts as configured when its keyring has a usable master key: the single
// `<P>_API_KEY` or the `<P>_API_KEYS` list (convex/credentials/README.md, "Master keys"), so a
// deployment that moved to key ids is not reported unready.
const AI_PROVIDER_OF: Partial<Record<ProviderKeyName, ProviderId>> = {
  OPENAI_API_KEY: "openai",
  ANTHROPIC_API_KEY: "anthropic",
  GEMINI_API_KEY: "gemini",
  ELEVENLABS_API_KEY: "elevenlabs",
};

/** Which provider keys are set; only booleans leave this function, never a value. */
function providerKeys(): Record<ProviderKeyName, boolean> {
  const out = {} as Record<ProviderKeyName, boolean>;
  for (const k of [...REQUIRED_PROVIDER_KEYS, ...OPTIONAL_PROVIDER_KEYS]) {
    const provider = AI_PROVIDER_OF[k];
    out[k] = provider === undefined ? Boolean(env[k]) : hasMasterKey(provider);
  }
  return out;
}

async function readyzHandler(ctx: ActionCtx): Promise<Response> {
  const now = Date.now();
  const dbFacts = await ctx.runQuery(internal.ops.readiness.facts, { now });
  const result = readiness({ now, providerKeys: providerKeys(), ...dbFacts });
  return new Response(JSON.stringify(result), {
    status: result.ready ? 200 : 503,
    // A monitor must see the state now, never a cached answer.
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

export const readyz = httpAction(readyzHandler);

/**
 * Cron (every HEARTBEAT_INTERVAL_MS): records that the scheduler ran it, now. Readiness fails
 * when the last beat is older than SCHEDULER_MAX_LAG_MS: the scheduler is not running crons
 * (stalled, or backlogged behind other work), which the same check sees on Convex and on the
 * offline runtime alike. One document, written only here.
 */
async function beatHandler(ctx: MutationCtx): Promise<number> {
  const now = Date.now();
  const row = await ctx.db
    .query("rollupState")
    .withIndex("by_name", (q) => q.eq("name", HEARTBEAT_CURSOR))
    .unique();
  if (row === null) await ctx.db.insert("rollupState", { name: HEARTBEAT_CURSOR, cursor: now });
  else await ctx.db.patch("rollupState", row._id, { cursor: now });
  return now;
}

export const beat = internalMutation({ args: {}, returns: v.number(), handler: beatHandler });
