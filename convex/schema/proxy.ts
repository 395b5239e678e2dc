// The AI proxy's provider health: one row per upstream provider (or deployment) whose circuit
// breaker has ever changed state. Written only on transitions, never per request
// (docs/proxy.md, "Retries, breakers, failover").
import { defineTable } from "convex/server";
import { v } from "convex/values";

export const breakerStateValidator = v.union(v.literal("closed"), v.literal("open"), v.literal("half_open"));

/** One state change, as model/proxy/breaker.ts returns it. */
export const breakerTransitionValidator = v.object({
  from: breakerStateValidator,
  to: breakerStateValidator,
  at: v.number(),
  /** Attempts and failures in the rolling window at the transition (the probe's own for half-open). */
  requests: v.number(),
  failures: v.number(),
  reopenAt: v.union(v.number(), v.null()),
  coolDownMs: v.number(),
  lastError: v.union(v.string(), v.null()),
});

/** How many transitions a row keeps, newest first. */
export const BREAKER_HISTORY = 20;

export const proxyTables = {
  providerBreakers: defineTable({
    provider: v.string(),
    state: breakerStateValidator,
    changedAt: v.number(),
    /** When the current open episode began (kept through half-open and re-opens); null when closed. */
    openedAt: v.union(v.number(), v.null()),
    /** When an open breaker lets its next probe through; null unless open. */
    reopenAt: v.union(v.number(), v.null()),
    coolDownMs: v.number(),
    requests: v.number(),
    failures: v.number(),
    lastError: v.union(v.string(), v.null()),
    transitions: v.array(breakerTransitionValidator),
  }).index("by_provider", ["provider"]),
};
