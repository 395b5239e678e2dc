// The ops alert evaluator (cron, every minute): folds new usage events into its own aggregates,
// then decides the window rules and the anomaly rules.
//
//   usageEvents (by_at, after its own cursor, bounded pages)
//     -> opsMinuteStats   per provider and minute: requests, 5xx, TTFB histogram
//     -> keyUsageHourly   per key and hour: tokens (the key's own baseline)
//     -> keyIpSightings   per key and client-IP hash: last seen
//   then: error_rate and latency_p99 per provider over the last 5 minutes (raise / auto-resolve),
//         key_usage_spike and key_many_ips for the keys this page touched (raise, and suspend
//         when the anomaly policy says so), signup_burst over signupAttempts (raise / resolve).
//
// Off the proxy's path: it reads the append-only events and writes only its own tables, so it
// never conflicts with a request in flight (the same argument as usage/rollup.ts).
import { v } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { internal } from "../_generated/api";
import { internalMutation } from "../functions";
import { type CursorPage, pageAfter, usageEventsByAt } from "../lib/cursorPages";
import { autoResolveOpsAlert, raiseOpsAlert } from "../lib/opsAlerts";
import {
  addHistograms,
  emptyHistogram,
  ERROR_RATE,
  errorRateVerdict,
  latencyBucket,
  latencyVerdict,
  type OpsRule,
  type WindowTotals,
} from "../model/ops/alerts";
import {
  HOUR,
  hourOf,
  KEY_SPIKE,
  MANY_IPS,
  manyIpsVerdict,
  SIGNUP_BURST,
  signupBursts,
  spikeVerdict,
} from "../model/ops/anomalies";
import { applyAnomalyPolicy } from "./anomaliesPolicy";

const MINUTE = 60_000;
/** Events newer than this wait for the next run (an event's `at` is taken before its commit). */
export const EVALUATOR_LAG_MS = 10_000;
/** Events folded per run; a backlog continues at once in a new transaction. */
export const EVALUATOR_BATCH = 500;
/** A first run starts this far back, not at the beginning of history. */
const FIRST_RUN_LOOKBACK_MS = 60 * MINUTE;
const CURSOR = "usageEvents";
/** Aggregates kept: minute rows a day, IP sightings a day, hourly rows the baseline plus a day. */
const MINUTE_STATS_KEEP_MS = 24 * HOUR;
const SIGHTINGS_KEEP_MS = 24 * HOUR;
const HOURLY_KEEP_MS = (KEY_SPIKE.baselineHours + 24) * HOUR;
const PRUNE_BATCH = 200;
/** Bounds on the window reads (a provider per row and minute; signup attempts in 10 min). */
const MAX_MINUTE_ROWS = 1_000;
const MAX_SIGNUP_ATTEMPTS = 2_000;
const MAX_ACTIVE_READ = 200;

const minuteOf = (at: number) => Math.floor(at / MINUTE) * MINUTE;

async function foldMinuteStats(ctx: MutationCtx, events: Doc<"usageEvents">[]) {
  const folds = new Map<string, { provider: string; minute: number; requests: number; errors: number; ttfbCounts: number[] }>();
  for (const e of events) {
    const minute = minuteOf(e.at);
    const key = `${e.provider}|${minute}`;
    let f = folds.get(key);
    if (!f) folds.set(key, (f = { provider: e.provider, minute, requests: 0, errors: 0, ttfbCounts: emptyHistogram() }));
    f.requests += 1;
    if (e.httpStatus >= 500) f.errors += 1;
    if (e.ttfbMs !== undefined) f.ttfbCounts[latencyBucket(e.ttfbMs)] += 1;
  }
  for (const f of folds.values()) {
    const row = await ctx.db
      .query("opsMinuteStats")
      .withIndex("by_provider_and_minute", (q) => q.eq("provider", f.provider).eq("minute", f.minute))
      .unique();
    if (row === null) await ctx.db.insert("opsMinuteStats", f);
    else {
      await ctx.db.patch("opsMinuteStats", row._id, {
        requests: row.requests + f.requests,
        errors: row.errors + f.errors,
        ttfbCounts: addHistograms(row.ttfbCounts, f.ttfbCounts),
      });
    }
  }
}

/** Adds the page's tokens per key and hour; returns the (key, hour) rows touched with their new totals. */
async function foldKeyHours(ctx: MutationCtx, events: Doc<"usageEvents">[]) {
  const folds = new Map<string, { apiKeyId: Id<"apiKeys">; userId: Id<"users">; hour: number; tokens: number; requests: number }>();
  for (const e of events) {
    if (e.apiKeyId === undefined) continue;
    const hour = hourOf(e.at);
    const key = `${e.apiKeyId}|${hour}`;
    let f = folds.get(key);
    if (!f) folds.set(key, (f = { apiKeyId: e.apiKeyId, userId: e.userId, hour, tokens: 0, requests: 0 }));
    f.tokens += e.tokensIn + e.tokensOut + e.characters;
    f.requests += 1;
  }
  const touched: { apiKeyId: Id<"apiKeys">; userId: Id<"users">; hour: number; tokens: number }[] = [];
  for (const f of folds.values()) {
    const row = await ctx.db
      .query("keyUsageHourly")
      .withIndex("by_apiKeyId_and_hour", (q) => q.eq("apiKeyId", f.apiKeyId).eq("hour", f.hour))
      .unique();
    let tokens = f.tokens;
    if (row === null) await ctx.db.insert("keyUsageHourly", f);
    else {
      tokens += row.tokens;
      await ctx.db.patch("keyUsageHourly", row._id, { tokens, requests: row.requests + f.requests });
    }
    touched.push({ apiKeyId: f.apiKeyId, userId: f.userId, hour: f.hour, tokens });
  }
  return touched;
}

/** Records the last time each key was seen from each IP hash; returns each key's latest event time. */
async function foldSightings(ctx: MutationCtx, events: Doc<"usageEvents">[]) {
  const latest = new Map<string, { apiKeyId: Id<"apiKeys">; ipHash: string; at: number }>();
  for (const e of events) {
    if (e.apiKeyId === undefined || e.ipHash === undefined) continue;
    const key = `${e.apiKeyId}|${e.ipHash}`;
    const prev = latest.get(key);
    if (!prev || prev.at < e.at) latest.set(key, { apiKeyId: e.apiKeyId, ipHash: e.ipHash, at: e.at });
  }
  const keys = new Map<Id<"apiKeys">, number>();
  for (const s of latest.values()) {
    const row = await ctx.db
      .query("keyIpSightings")
      .withIndex("by_apiKeyId_and_ipHash", (q) => q.eq("apiKeyId", s.apiKeyId).eq("ipHash", s.ipHash))
      .unique();
    if (row === null) await ctx.db.insert("keyIpSightings", { apiKeyId: s.apiKeyId, ipHash: s.ipHash, lastSeenAt: s.at });
    else if (row.lastSeenAt < s.at) await ctx.db.patch("keyIpSightings", row._id, { lastSeenAt: s.at });
    keys.set(s.apiKeyId, Math.max(keys.get(s.apiKeyId) ?? 0, s.at));
  }
  return keys;
}

/** "key pk_live_AbCd1234… of ada@example.com": what staff read in an alert about a key. */
async function keyLabel(ctx: MutationCtx, apiKeyId: Id<"apiKeys">): Promise<{ label: string; subjectLabel: string; key: Doc<"apiKeys"> | null }> {
  const key = await ctx.db.get("apiKeys", apiKeyId);
  if (key === null) return { label: `key ${apiKeyId}`, subjectLabel: apiKeyId, key };
  const owner = await ctx.db.get("users", key.userId);
  return { label: `key ${key.prefix}… of ${owner?.email ?? key.userId}`, subjectLabel: `${key.prefix}…`, key };
}

async function activeAlerts(ctx: MutationCtx, rule: OpsRule): Promise<Doc<"opsAlerts">[]> {
  const open = await ctx.db
    .query("opsAlerts")
    .withIndex("by_rule_and_status_and_lastSeenAt", (q) => q.eq("rule", rule).eq("status", "open"))
    .take(MAX_ACTIVE_READ);
  const acked = await ctx.db
    .query("opsAlerts")
    .withIndex("by_rule_and_status_and_lastSeenAt", (q) => q.eq("rule", rule).eq("status", "acknowledged"))
    .take(MAX_ACTIVE_READ);
  return [...open, ...acked];
}

/** error_rate and latency_p99 per provider over the minute rows of the window ending at `end`. */
async function evaluateWindows(ctx: MutationCtx, end: number) {
  // The current (partial) minute and the four before it: ERROR_RATE.windowMs == LATENCY.windowMs.
  const first = minuteOf(end) - (ERROR_RATE.windowMs - MINUTE);
  const rows = await ctx.db
    .query("opsMinuteStats")
    .withIndex("by_minute", (q) => q.gte("minute", first).lte("minute", end))
    .take(MAX_MINUTE_ROWS);
  const byProvider = new Map<string, WindowTotals>();
  for (const r of rows) {
    const w = byProvider.get(r.provider) ?? { requests: 0, errors: 0, ttfbCounts: emptyHistogram() };
    byProvider.set(r.provider, { requests: w.requests + r.requests, errors: w.errors + r.errors, ttfbCounts: addHistograms(w.ttfbCounts, r.ttfbCounts) });
  }
  const checks: { rule: OpsRule; decide: typeof errorRateVerdict }[] = [
    { rule: "error_rate", decide: errorRateVerdict },
    { rule: "latency_p99", decide: latencyVerdict },
  ];
  for (const { rule, decide } of checks) {
    const firing = new Set<string>();
    for (const [provider, w] of byProvider) {
      const verdict = decide(provider, w);
      if (verdict.state === "firing") {
        firing.add(provider);
        await raiseOpsAlert(ctx, { rule, subject: provider, message: verdict.message, at: end });
      }
    }
    // Auto-resolve: every active alert of the rule whose provider no longer fires (too few
    // requests in the window counts as cleared: nothing is failing that anyone sees).
    for (const alert of await activeAlerts(ctx, rule)) {
      if (!firing.has(alert.subject)) await autoResolveOpsAlert(ctx, rule, alert.subject, end);
    }
  }
}

async function evaluateKeys(
  ctx: MutationCtx,
  touched: { apiKeyId: Id<"apiKeys">; userId: Id<"users">; hour: number; tokens: number }[],
  sightings: Map<Id<"apiKeys">, number>,
) {
  for (const t of touched) {
    // Cheap first: most hours are under the floor and need no baseline read.
    if (t.tokens <= KEY_SPIKE.floorTokens) continue;
    const history = await ctx.db
      .query("keyUsageHourly")
      .withIndex("by_apiKeyId_and_hour", (q) => q.eq("apiKeyId", t.apiKeyId).gte("hour", t.hour - KEY_SPIKE.baselineHours * HOUR).lt("hour", t.hour))
      .take(KEY_SPIKE.baselineHours);
    const oldest = await ctx.db.query("keyUsageHourly").withIndex("by_apiKeyId_and_hour", (q) => q.eq("apiKeyId", t.apiKeyId)).first();
    const { label, subjectLabel, key } = await keyLabel(ctx, t.apiKeyId);
    const verdict = spikeVerdict({ hourTokens: t.tokens, hour: t.hour, history, firstSeenHour: oldest?.hour ?? t.hour, keyLabel: label });
    if (!verdict.firing) continue;
    const raised = await raiseOpsAlert(ctx, { rule: "key_usage_spike", subject: t.apiKeyId, subjectLabel, userId: t.userId, message: verdict.message });
    if (key !== null) await applyAnomalyPolicy(ctx, { rule: "key_usage_spike", key, alertId: raised.alertId });
  }
  for (const [apiKeyId, lastAt] of sightings) {
    const recent = await ctx.db
      .query("keyIpSightings")
      .withIndex("by_apiKeyId_and_lastSeenAt", (q) => q.eq("apiKeyId", apiKeyId).gt("lastSeenAt", lastAt - MANY_IPS.windowMs))
      .take(MANY_IPS.minDistinct * 4);
    if (recent.length < MANY_IPS.minDistinct) continue;
    const { label, subjectLabel, key } = await keyLabel(ctx, apiKeyId);
    const verdict = manyIpsVerdict(recent.length, label);
    if (!verdict.firing) continue;
    const raised = await raiseOpsAlert(ctx, { rule: "key_many_ips", subject: apiKeyId, subjectLabel, userId: key?.userId, message: verdict.message });
    if (key !== null) await applyAnomalyPolicy(ctx, { rule: "key_many_ips", key, alertId: raised.alertId });
  }
}

async function evaluateSignups(ctx: MutationCtx, now: number) {
  const attempts = await ctx.db
    .query("signupAttempts")
    .withIndex("by_at", (q) => q.gt("at", now - SIGNUP_BURST.windowMs))
    .take(MAX_SIGNUP_ATTEMPTS);
  const firing = new Set<string>();
  for (const burst of signupBursts(attempts)) {
    if (!burst.firing) continue;
    firing.add(burst.subject);
    await raiseOpsAlert(ctx, { rule: "signup_burst", subject: burst.subject, message: burst.message, at: now });
  }
  for (const alert of await activeAlerts(ctx, "signup_burst")) {
    if (!firing.has(alert.subject)) await autoResolveOpsAlert(ctx, "signup_burst", alert.subject, now);
  }
}

/** Deletes aggregates past their use, a bounded batch per table per run. */
async function prune(ctx: MutationCtx, now: number) {
  for (const r of await ctx.db.query("opsMinuteStats").withIndex("by_minute", (q) => q.lt("minute", now - MINUTE_STATS_KEEP_MS)).take(PRUNE_BATCH)) {
    await ctx.db.delete("opsMinuteStats", r._id);
  }
  for (const r of await ctx.db.query("keyIpSightings").withIndex("by_lastSeenAt", (q) => q.lt("lastSeenAt", now - SIGHTINGS_KEEP_MS)).take(PRUNE_BATCH)) {
    await ctx.db.delete("keyIpSightings", r._id);
  }
  for (const r of await ctx.db.query("keyUsageHourly").withIndex("by_hour", (q) => q.lt("hour", now - HOURLY_KEEP_MS)).take(PRUNE_BATCH)) {
    await ctx.db.delete("keyUsageHourly", r._id);
  }
}

const evaluateResult = v.object({ events: v.number(), cursor: v.number(), more: v.boolean() });

export async function evaluateHandler(ctx: MutationCtx) {
  const now = Date.now();
  const state = await ctx.db.query("opsEvaluatorState").withIndex("by_name", (q) => q.eq("name", CURSOR)).unique();
  const from = state?.cursor ?? now - FIRST_RUN_LOOKBACK_MS;
  const until = now - EVALUATOR_LAG_MS;
  let page: CursorPage<Doc<"usageEvents">> = { rows: [], cursor: from, more: false };
  if (until > from) page = await pageAfter(usageEventsByAt(ctx), from, until, EVALUATOR_BATCH);
  const events = page.rows;

  await foldMinuteStats(ctx, events);
  const touched = await foldKeyHours(ctx, events);
  const sightings = await foldSightings(ctx, events);

  if (state === null) await ctx.db.insert("opsEvaluatorState", { name: CURSOR, cursor: page.cursor, ranAt: now });
  else await ctx.db.patch("opsEvaluatorState", state._id, { cursor: page.cursor, ranAt: now });

  await evaluateKeys(ctx, touched, sightings);
  // The windows are judged once the backlog is folded, at the cursor (what the folds cover).
  if (!page.more) {
    await evaluateWindows(ctx, page.cursor);
    await evaluateSignups(ctx, now);
    await prune(ctx, now);
  } else {
    await ctx.scheduler.runAfter(0, internal.ops.alertsEvaluator.evaluate, {});
  }
  return { events: events.length, cursor: page.cursor, more: page.more };
}

export const evaluate = internalMutation({ args: {}, returns: evaluateResult, handler: evaluateHandler });
