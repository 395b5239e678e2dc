// GET /metrics: Prometheus text (exposition format 0.0.4) behind `Authorization: Bearer
// <METRICS_TOKEN>`, and the cron that keeps its counters.
//
// Convex functions share no process memory between requests, so a counter cannot live in a
// module variable. Counters are documents written by one cron (`fold`, every 15 s) that reads
// the append-only rows after its cursors: usage events by `at` (requests, latency, tokens,
// cost), webhook events by creation time (outcomes), and the identity step outcome rows the
// step mutations insert. Nothing is written per request on the proxy's path. Gauges (breaker
// states, outbox depth, workpool depth, lags) are read at scrape time with indexed, bounded
// reads. The exposition itself is pure: model/ops/metrics.ts.
import { omit } from "convex-helpers";
import { v } from "convex/values";
import type { HttpRouter } from "convex/server";
import { internal } from "../_generated/api";
import type { Doc } from "../_generated/dataModel";
import { type ActionCtx, env, httpAction, type MutationCtx, type QueryCtx } from "../_generated/server";
import { internalMutation, internalQuery } from "../functions";
import { type CursorPage, pageAfter, usageEventsByAt } from "../lib/cursorPages";
import { identityPool } from "../lib/identityPool";
import { providerPool } from "../lib/providerPool";
import { bearerToken, hashSecret, constantTimeEqual } from "../model/apiKeySecrets";
import {
  addTotals,
  countBy,
  EXPOSITION_CONTENT_TYPE,
  exposition,
  foldEvents,
  labelKey,
  type ProxyTotals,
  type StepOutcome,
  webhookLabels,
} from "../model/ops/metrics";
import { metricsTables } from "../schema/metrics";
import { breakerStateValidator } from "../schema/proxy";
import { ROLLUP_LAG_MS } from "../usage/rollup";
import { HEARTBEAT_CURSOR } from "./readiness";

/** rollupState rows holding the fold's cursors (usage events by `at`, webhook events by creation time). */
export const METRICS_CURSOR = "opsMetrics";
export const WEBHOOK_CURSOR = "opsMetricsWebhooks";
/**
 * Rows newer than this are left for the next run: a row's time is taken inside its mutation,
 * which may commit after a fold that already passed that time (the usage rollup's reason).
 */
export const METRICS_LAG_MS = ROLLUP_LAG_MS;
/** Rows read per source per run; a full page reschedules the fold at once. */
export const FOLD_BATCH = 1_000;

/** Pending mail counted per status at scrape time; beyond this the gauge says so (`_capped`). */
export const OUTBOX_DEPTH_CAP = { queued: 1_000, sending: 250 } as const;
/** Identities per phase whose running steps are asked of the workpool, and outbox rows per kind. */
const WORK_OWNER_CAP = 200;
/** Counter rows: a few dozen in practice (kinds x providers x status classes x outcomes). */
const COUNTER_ROWS_CAP = 2_000;
const MAX_BREAKERS = 100;

// ---- The fold (cron) ----

async function cursorRow(ctx: QueryCtx, name: string): Promise<Doc<"rollupState"> | null> {
  return await ctx.db
    .query("rollupState")
    .withIndex("by_name", (q) => q.eq("name", name))
    .unique();
}

async function saveCursor(ctx: MutationCtx, row: Doc<"rollupState"> | null, name: string, cursor: number) {
  if (row === null) await ctx.db.insert("rollupState", { name, cursor });
  else if (row.cursor !== cursor) await ctx.db.patch("rollupState", row._id, { cursor });
}

async function addProxyTotals(ctx: MutationCtx, events: Doc<"usageEvents">[], now: number) {
  for (const { series, totals } of foldEvents(events).values()) {
    const existing = await ctx.db
      .query("metricsProxy")
      .withIndex("by_endpoint_and_provider_and_status_and_outcome", (q) =>
        q.eq("endpoint", series.endpoint).eq("provider", series.provider).eq("status", series.status).eq("outcome", series.outcome),
      )
      .unique();
    if (existing === null) {
      await ctx.db.insert("metricsProxy", { ...series, ...totals, updatedAt: now });
    } else {
      const sum: ProxyTotals = addTotals(existing, totals);
      await ctx.db.patch("metricsProxy", existing._id, { ...sum, updatedAt: now });
    }
  }
}

async function addCounts(
  ctx: MutationCtx,
  metric: Doc<"metricsCounters">["metric"],
  counts: Map<string, { labels: Record<string, string>; count: number }>,
  now: number,
) {
  for (const { labels, count } of counts.values()) {
    const key = labelKey(labels);
    const existing = await ctx.db
      .query("metricsCounters")
      .withIndex("by_metric_and_key", (q) => q.eq("metric", metric).eq("key", key))
      .unique();
    if (existing === null) await ctx.db.insert("metricsCounters", { metric, key, labels, value: count, updatedAt: now });
    else await ctx.db.patch("metricsCounters", existing._id, { value: existing.value + count, updatedAt: now });
  }
}

/**
 * One pass: usage events and webhook events after their cursors (up to now - lag), and the
 * identity step outcomes waiting (then deleted), each at most FOLD_BATCH; reschedules itself
 * while any source had a full page. Only this job writes the counters and its cursors, and it
 * reads only rows nobody patches on a hot path, so it never makes a request retry.
 */
async function foldHandler(ctx: MutationCtx) {
  const now = Date.now();
  const until = now - METRICS_LAG_MS;

  const usageState = await cursorRow(ctx, METRICS_CURSOR);
  const usageFrom = usageState?.cursor ?? 0;
  let usage: CursorPage<Doc<"usageEvents">> = { rows: [], cursor: usageFrom, more: false };
  if (until > usageFrom) {
    usage = await pageAfter(usageEventsByAt(ctx), usageFrom, until, FOLD_BATCH);
    await addProxyTotals(ctx, usage.rows, now);
    await saveCursor(ctx, usageState, METRICS_CURSOR, usage.cursor);
  }

  const webhookState = await cursorRow(ctx, WEBHOOK_CURSOR);
  const webhookFrom = webhookState?.cursor ?? 0;
  let webhooks: CursorPage<Doc<"webhookEvents">> = { rows: [], cursor: webhookFrom, more: false };
  if (until > webhookFrom) {
    webhooks = await pageAfter(
      {
        range: (from, to, limit) =>
          ctx.db.query("webhookEvents").withIndex("by_creation_time", (q) => q.gt("_creationTime", from).lte("_creationTime", to)).take(limit),
        at: (time) => ctx.db.query("webhookEvents").withIndex("by_creation_time", (q) => q.eq("_creationTime", time)).collect(),
        time: (e) => e._creationTime,
      },
      webhookFrom,
      until,
      FOLD_BATCH,
    );
    await addCounts(ctx, "webhook_events", countBy(webhooks.rows, webhookLabels), now);
    await saveCursor(ctx, webhookState, WEBHOOK_CURSOR, webhooks.cursor);
  }

  // Outcome rows are deleted once counted, so no cursor (and no lag) is needed.
  const steps = await ctx.db.query("identityStepOutcomes").take(FOLD_BATCH);
  await addCounts(ctx, "identity_steps", countBy(steps, (s): Record<string, string> => ({ step: s.step, outcome: s.outcome satisfies StepOutcome })), now);
  for (const s of steps) await ctx.db.delete("identityStepOutcomes", s._id);

  if (usage.more || webhooks.more || steps.length === FOLD_BATCH) {
    await ctx.scheduler.runAfter(0, internal.ops.metrics.fold, {});
  }
  return { usageEvents: usage.rows.length, webhookEvents: webhooks.rows.length, stepOutcomes: steps.length, cursor: usage.cursor };
}

export const fold = internalMutation({
  args: {},
  returns: v.object({ usageEvents: v.number(), webhookEvents: v.number(), stepOutcomes: v.number(), cursor: v.number() }),
  handler: foldHandler,
});

// ---- The scrape ----

const countedValidator = v.object({ labels: v.record(v.string(), v.string()), value: v.number() });

const scrapeFactsValidator = v.object({
  // The proxy series rows as stored, without their bookkeeping time.
  proxy: v.array(v.object(omit(metricsTables.metricsProxy.validator.fields, ["updatedAt"]))),
  counters: v.object({ webhook_events: v.array(countedValidator), identity_steps: v.array(countedValidator) }),
  breakers: v.array(v.object({ provider: v.string(), state: breakerStateValidator })),
  outbox: v.array(v.object({ status: v.string(), depth: v.number(), capped: v.boolean() })),
  workpools: v.array(v.object({ pool: v.string(), state: v.string(), depth: v.number() })),
  metricsCursor: v.union(v.number(), v.null()),
  heartbeatAt: v.union(v.number(), v.null()),
});

type WorkId = Parameters<typeof identityPool.status>[1];

/** How many of these runs the workpool holds as pending and as running (finished ones are not depth). */
async function poolDepth(ctx: QueryCtx, pool: "identityPool" | "providerPool", workIds: string[]) {
  const client = pool === "identityPool" ? identityPool : providerPool;
  const statuses = workIds.length === 0 ? [] : await client.statusBatch(ctx, workIds as WorkId[]);
  const depth = { pending: 0, running: 0 };
  for (const s of statuses) if (s.state === "pending" || s.state === "running") depth[s.state] += 1;
  return [
    { pool, state: "pending", depth: depth.pending },
    { pool, state: "running", depth: depth.running },
  ];
}

/**
 * Everything the scrape renders, each an indexed read with a bound: the counter rows, the
 * breaker rows, pending mail per status (up to OUTBOX_DEPTH_CAP), the workpool runs that
 * owning rows reference (identity steps of identities mid-change, mail being sent, overage
 * reports pending) asked of the workpool, and the two cursors.
 */
export const scrapeFacts = internalQuery({
  args: {},
  returns: scrapeFactsValidator,
  handler: async (ctx) => {
    const proxy = (await ctx.db.query("metricsProxy").take(COUNTER_ROWS_CAP)).map(({ _id, _creationTime, updatedAt: _u, ...row }) => row);
    const counted = async (metric: Doc<"metricsCounters">["metric"]) =>
      (await ctx.db.query("metricsCounters").withIndex("by_metric_and_key", (q) => q.eq("metric", metric)).take(COUNTER_ROWS_CAP)).map(
        (c) => ({ labels: c.labels, value: c.value }),
      );
    const breakers = (await ctx.db.query("providerBreakers").take(MAX_BREAKERS)).map((b) => ({ provider: b.provider, state: b.state }));

    const outbox = [];
    const mailWork: string[] = [];
    for (const status of ["queued", "sending"] as const) {
      const cap = OUTBOX_DEPTH_CAP[status];
      const rows = await ctx.db.query("emailOutbox").withIndex("by_status_and_sendAfter", (q) => q.eq("status", status)).take(cap + 1);
      outbox.push({ status, depth: Math.min(rows.length, cap), capped: rows.length > cap });
      if (status === "sending") for (const r of rows.slice(0, WORK_OWNER_CAP)) if (r.workId) mailWork.push(r.workId);
    }
    const overageWork = (await ctx.db.query("overageOutbox").withIndex("by_status_and_createdAt", (q) => q.eq("status", "pending")).take(WORK_OWNER_CAP))
      .flatMap((r) => (r.workId ? [r.workId] : []));
    const stepWork: string[] = [];
    for (const phase of ["provisioning", "suspended", "deprovisioning"] as const) {
      const rows = await ctx.db.query("identities").withIndex("by_phase", (q) => q.eq("phase", phase)).take(WORK_OWNER_CAP);
      for (const row of rows) for (const s of row.steps) if (s.workId && (s.status === "running" || s.status === "waiting")) stepWork.push(s.workId);
    }

    return {
      proxy,
      counters: { webhook_events: await counted("webhook_events"), identity_steps: await counted("identity_steps") },
      breakers,
      outbox,
      workpools: [...(await poolDepth(ctx, "identityPool", stepWork)), ...(await poolDepth(ctx, "providerPool", [...mailWork, ...overageWork]))],
      metricsCursor: (await cursorRow(ctx, METRICS_CURSOR))?.cursor ?? null,
      heartbeatAt: (await cursorRow(ctx, HEARTBEAT_CURSOR))?.cursor ?? null,
    };
  },
});

function jsonError(status: number, message: string, code: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ error: { message, code } }), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}

/**
 * Whether the presented token is METRICS_TOKEN. Both are hashed first, so the comparison runs
 * over two equal-length digests without an early exit: its time reveals neither the token's
 * length nor how much of it matched.
 */
async function tokenMatches(presented: string, expected: string): Promise<boolean> {
  return constantTimeEqual(await hashSecret(presented), await hashSecret(expected));
}

async function metricsHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  const expected = env.METRICS_TOKEN;
  // Unset: 503, not 404. The route is documented, so hiding it protects nothing, and a scraper
  // pointed at a deployment that has not configured metrics should say why its target is down.
  if (!expected) {
    return jsonError(503, "Metrics are disabled on this deployment: set METRICS_TOKEN to enable GET /metrics.", "metrics_disabled");
  }
  const presented = bearerToken(request.headers.get("authorization"));
  if (presented === null || !(await tokenMatches(presented, expected))) {
    return jsonError(
      401,
      presented === null ? "Send the metrics token as 'Authorization: Bearer <METRICS_TOKEN>'." : "Incorrect metrics token.",
      "invalid_metrics_token",
      { "www-authenticate": 'Bearer realm="metrics"' },
    );
  }
  const now = Date.now();
  const facts = await ctx.runQuery(internal.ops.metrics.scrapeFacts, {});
  const text = exposition({
    now,
    proxy: facts.proxy,
    identitySteps: facts.counters.identity_steps.map((c) => ({ step: c.labels.step, outcome: c.labels.outcome, count: c.value })),
    webhooks: facts.counters.webhook_events.map((c) => ({ source: c.labels.source, outcome: c.labels.outcome, count: c.value })),
    breakers: facts.breakers,
    outbox: facts.outbox,
    workpools: facts.workpools,
    metricsCursor: facts.metricsCursor,
    heartbeatAt: facts.heartbeatAt,
  });
  return new Response(text, { status: 200, headers: { "content-type": EXPOSITION_CONTENT_TYPE, "cache-control": "no-store" } });
}

export const metrics = httpAction(metricsHandler);

export function mountMetricsRoutes(http: HttpRouter): void {
  http.route({ path: "/metrics", method: "GET", handler: metrics });
}
