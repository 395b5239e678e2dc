// The providerBreakers table's functions: the one mutation that records a breaker transition,
// the cheap read every proxy process syncs from, and the support console's live view. The
// per-process breakers that call them are in providerHealth.ts.
import { v } from "convex/values";
import type { Doc } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { internalMutation, internalQuery, supportQuery } from "../functions";
import { autoResolveOpsAlert, raiseOpsAlert } from "../lib/opsAlerts";
import schema from "../schema";
import { BREAKER_HISTORY, breakerStateValidator, breakerTransitionValidator } from "../schema/proxy";

/** What a process needs to honour another's breaker (model/proxy/breaker.ts PersistedBreaker). */
const persistedValidator = v.object({
  provider: v.string(),
  state: breakerStateValidator,
  changedAt: v.number(),
  openedAt: v.union(v.number(), v.null()),
  reopenAt: v.union(v.number(), v.null()),
  coolDownMs: v.number(),
});

function persisted(row: Doc<"providerBreakers">) {
  return {
    provider: row.provider,
    state: row.state,
    changedAt: row.changedAt,
    openedAt: row.openedAt,
    reopenAt: row.reopenAt,
    coolDownMs: row.coolDownMs,
  };
}

/** Providers are a handful; this bounds the reads if the table ever held junk. */
const MAX_PROVIDERS = 100;

/**
 * Records one transition and answers the provider's persisted state, which the caller adopts.
 * The most recent transition wins: one older than the row's (another process moved on since)
 * changes nothing, and a second process reporting the state the row already has (two processes
 * opening at once) is not recorded twice.
 */
async function recordTransitionHandler(
  ctx: MutationCtx,
  { provider, transition }: { provider: string; transition: Doc<"providerBreakers">["transitions"][number] },
) {
  const row = await ctx.db
    .query("providerBreakers")
    .withIndex("by_provider", (q) => q.eq("provider", provider))
    .unique();
  if (row && (transition.at < row.changedAt || row.state === transition.to)) return persisted(row);
  const openedAt =
    transition.to === "closed" ? null : row && row.state !== "closed" && row.openedAt !== null ? row.openedAt : transition.at;
  const fields = {
    state: transition.to,
    changedAt: transition.at,
    openedAt,
    reopenAt: transition.reopenAt,
    coolDownMs: transition.coolDownMs,
    requests: transition.requests,
    failures: transition.failures,
    lastError: transition.lastError ?? row?.lastError ?? null,
    transitions: [transition, ...(row?.transitions ?? [])].slice(0, BREAKER_HISTORY),
  };
  // Ops alerts follow the recorded state: an outage opens with the breaker, resolves when it closes.
  // A failed probe (half_open -> open) bumps the same alert: the provider is still down.
  if (transition.to === "open") {
    await raiseOpsAlert(ctx, {
      rule: "provider_outage",
      subject: provider,
      message: `The ${provider} breaker opened: ${transition.failures} of ${transition.requests} attempts failed${transition.lastError ? ` (last: ${transition.lastError})` : ""}. Requests fail over or get 503 until a probe succeeds.`,
      at: transition.at,
    });
  } else if (transition.to === "closed") {
    await autoResolveOpsAlert(ctx, "provider_outage", provider, transition.at);
  }
  if (row) {
    await ctx.db.patch("providerBreakers", row._id, fields);
    return persisted({ ...row, ...fields });
  }
  const id = await ctx.db.insert("providerBreakers", { provider, ...fields });
  const inserted = await ctx.db.get("providerBreakers", id);
  if (!inserted) throw new Error(`providerBreakers row for ${provider} vanished after its insert.`);
  return persisted(inserted);
}

export const recordTransition = internalMutation({
  args: { provider: v.string(), transition: breakerTransitionValidator },
  returns: persistedValidator,
  handler: recordTransitionHandler,
});

/**
 * Every provider's persisted state. Rows change only on transitions, so on a deployment this
 * query's result is cached and re-run only when a breaker moves.
 */
export const current = internalQuery({
  args: {},
  returns: v.array(persistedValidator),
  handler: async (ctx) => (await ctx.db.query("providerBreakers").take(MAX_PROVIDERS)).map(persisted),
});

const breakerRowValidator = v.object({
  ...schema.tables.providerBreakers.validator.fields,
  /** failures / requests at the last transition, 0..1 (0 when there were no attempts). */
  failureRate: v.number(),
});

/**
 * The support console's provider health (admin/Providers): each provider's breaker, live. A
 * provider with no row has never tripped, so it is closed.
 */
export const list = supportQuery({
  args: {},
  returns: v.array(breakerRowValidator),
  handler: async (ctx) => {
    const rows = await ctx.db.query("providerBreakers").take(MAX_PROVIDERS);
    return rows
      .map((r) => ({
        provider: r.provider,
        state: r.state,
        changedAt: r.changedAt,
        openedAt: r.openedAt,
        reopenAt: r.reopenAt,
        coolDownMs: r.coolDownMs,
        requests: r.requests,
        failures: r.failures,
        failureRate: r.requests === 0 ? 0 : r.failures / r.requests,
        lastError: r.lastError,
        transitions: r.transitions,
      }))
      .sort((a, b) => a.provider.localeCompare(b.provider));
  },
});
