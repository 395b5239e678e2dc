// Metrics (`GET /metrics`) as pure data: how usage events fold into counters, and how the
// counters and the gauges read at scrape time become Prometheus text (exposition format 0.0.4).
//
// Production runs on Convex, where requests share no process memory, so nothing here is a live
// in-memory counter: a cron folds the append-only rows (usage events, webhook events, identity
// step outcomes) into a few counter documents off the request path (ops/metrics.ts), and the
// scrape renders those documents with what it reads then (breakers, outbox, workpool).
//
// Labels are closed sets or our own short identifiers (an event kind, a provider id, a status
// class, a step name): never a user, key, email, instance id or free text. `labelValue` is the
// last guard: anything that is not a short lowercase token becomes "other".

/** Upper bounds (ms) of the latency histogram's buckets; +Inf is implied after the last. */
export const LATENCY_BUCKETS_MS = [25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;

/** Counts per bucket, not cumulative: index i counts latencies in (bound[i-1], bound[i]]; the last is +Inf. */
export type BucketCounts = number[];

export function emptyBuckets(): BucketCounts {
  return new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
}

/** The bucket a latency falls in (`le` is inclusive, as Prometheus defines it). */
export function bucketIndex(latencyMs: number): number {
  const i = LATENCY_BUCKETS_MS.findIndex((bound) => latencyMs <= bound);
  return i === -1 ? LATENCY_BUCKETS_MS.length : i;
}

/** Prometheus' `le` buckets: each counts every observation at or below its bound. */
export function cumulativeBuckets(counts: BucketCounts): Array<{ le: string; count: number }> {
  let running = 0;
  return counts.map((c, i) => {
    running += c;
    return { le: i < LATENCY_BUCKETS_MS.length ? String(LATENCY_BUCKETS_MS[i]) : "+Inf", count: running };
  });
}

const TOKEN = /^[a-z0-9][a-z0-9_.-]{0,39}$/;

/**
 * A label value we can vouch for: a short lowercase token (provider ids, event kinds, step
 * names, outcome codes). Anything else (an email, a mixed-case id, free text) is "other", so a
 * label can never carry personal data even if a caller passes the wrong field.
 */
export function labelValue(value: string | undefined | null): string {
  return value && TOKEN.test(value) && !value.includes("@") ? value : "other";
}

/** "2xx", "4xx", "5xx" from an HTTP status; "other" outside 100-599. */
export function statusClass(httpStatus: number): string {
  return Number.isInteger(httpStatus) && httpStatus >= 100 && httpStatus <= 599 ? `${Math.floor(httpStatus / 100)}xx` : "other";
}

/** The labels one proxied request is counted under. */
export interface ProxySeries {
  endpoint: string;
  provider: string;
  status: string;
  outcome: string;
}

export interface ProxyTotals {
  requests: number;
  latencyBuckets: BucketCounts;
  latencySumMs: number;
  tokensIn: number;
  tokensOut: number;
  characters: number;
  costMicros: number;
}

/** What the fold reads of a usage event. */
export interface FoldableEvent {
  kind: string;
  provider: string;
  status: string;
  httpStatus: number;
  latencyMs: number;
  tokensIn: number;
  tokensOut: number;
  characters: number;
  costMicros: number;
}

export function emptyTotals(): ProxyTotals {
  return { requests: 0, latencyBuckets: emptyBuckets(), latencySumMs: 0, tokensIn: 0, tokensOut: 0, characters: 0, costMicros: 0 };
}

export function seriesOf(e: FoldableEvent): ProxySeries {
  return { endpoint: labelValue(e.kind), provider: labelValue(e.provider), status: statusClass(e.httpStatus), outcome: labelValue(e.status) };
}

export function seriesKey(s: ProxySeries): string {
  return `${s.endpoint}|${s.provider}|${s.status}|${s.outcome}`;
}

/** a + b, bucket by bucket (a stored row's bucket array may be shorter if bounds were added). */
export function addTotals(a: ProxyTotals, b: ProxyTotals): ProxyTotals {
  const buckets = emptyBuckets().map((_, i) => (a.latencyBuckets[i] ?? 0) + (b.latencyBuckets[i] ?? 0));
  return {
    requests: a.requests + b.requests,
    latencyBuckets: buckets,
    latencySumMs: a.latencySumMs + b.latencySumMs,
    tokensIn: a.tokensIn + b.tokensIn,
    tokensOut: a.tokensOut + b.tokensOut,
    characters: a.characters + b.characters,
    costMicros: a.costMicros + b.costMicros,
  };
}

/** Folds a batch of events into one totals entry per series. */
export function foldEvents(events: readonly FoldableEvent[]): Map<string, { series: ProxySeries; totals: ProxyTotals }> {
  const out = new Map<string, { series: ProxySeries; totals: ProxyTotals }>();
  for (const e of events) {
    const series = seriesOf(e);
    const key = seriesKey(series);
    const entry = out.get(key) ?? { series, totals: emptyTotals() };
    const latency = Math.max(0, e.latencyMs);
    entry.totals.requests += 1;
    entry.totals.latencyBuckets[bucketIndex(latency)] += 1;
    entry.totals.latencySumMs += latency;
    entry.totals.tokensIn += e.tokensIn;
    entry.totals.tokensOut += e.tokensOut;
    entry.totals.characters += e.characters;
    entry.totals.costMicros += e.costMicros;
    out.set(key, entry);
  }
  return out;
}

/** Counted one by one (webhook outcomes, identity step outcomes): label set -> count. */
export function countBy<T>(rows: readonly T[], labels: (row: T) => Record<string, string>): Map<string, { labels: Record<string, string>; count: number }> {
  const out = new Map<string, { labels: Record<string, string>; count: number }>();
  for (const row of rows) {
    const l = labels(row);
    const key = labelKey(l);
    const entry = out.get(key) ?? { labels: l, count: 0 };
    entry.count += 1;
    out.set(key, entry);
  }
  return out;
}

/** A label set's stable key (sorted names), how counter rows are found again. */
export function labelKey(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(",");
}

/** The sources a webhook row may name (webhookEvents.provider); anything else counts as "other". */
export const WEBHOOK_SOURCES = ["stripe", "polar", "clerk", "telnyx", "signal"] as const;

/**
 * A webhook row's outcome label: billing rows carry a status (applied, ignored, failed); the
 * others an outcome code, possibly followed by ": detail" (which may name a number or an event
 * type, so only the code before it is kept).
 */
export function webhookLabels(row: { provider: string; outcome: string; status?: string }): Record<string, string> {
  const source = (WEBHOOK_SOURCES as readonly string[]).includes(row.provider) ? row.provider : "other";
  const code = row.status ?? row.outcome.split(/[:\s]/, 1)[0];
  return { source, outcome: labelValue(code) };
}

/** Step statuses that end a step's run: each transition into one is counted once. */
export const STEP_OUTCOMES = ["done", "failed", "skipped"] as const;
export type StepOutcome = (typeof STEP_OUTCOMES)[number];

/**
 * The step outcomes one state-machine event produced: every step whose status changed into
 * done, failed or skipped (a step retried after failing and then done counts both).
 */
export function stepOutcomes(
  before: ReadonlyArray<{ name: string; status: string }>,
  after: ReadonlyArray<{ name: string; status: string }>,
): Array<{ step: string; outcome: StepOutcome }> {
  const was = new Map(before.map((s) => [s.name, s.status]));
  const out: Array<{ step: string; outcome: StepOutcome }> = [];
  for (const s of after) {
    if (!(STEP_OUTCOMES as readonly string[]).includes(s.status)) continue;
    if (was.get(s.name) === s.status) continue;
    out.push({ step: s.name, outcome: s.status as StepOutcome });
  }
  return out;
}

// ---- Exposition (text format 0.0.4) ----

export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type MetricType = "counter" | "gauge" | "histogram";

export interface Sample {
  /** Suffix after the family name: "" for counters and gauges, "_bucket"/"_sum"/"_count" for histograms. */
  suffix?: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

/** Label values escape backslash, double quote and line feed (the format's only escapes). */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** HELP text escapes backslash and line feed. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

export function formatValue(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Prometheus text: per family its HELP and TYPE lines, then its samples; ends with a newline. */
export function renderExposition(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const f of families) {
    if (!METRIC_NAME.test(f.name)) throw new Error(`invalid metric name ${JSON.stringify(f.name)}`);
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const names = Object.keys(s.labels);
      for (const n of names) if (!LABEL_NAME.test(n) || n.startsWith("__")) throw new Error(`invalid label name ${JSON.stringify(n)}`);
      const labels = names.length === 0 ? "" : `{${names.map((n) => `${n}="${escapeLabelValue(s.labels[n])}"`).join(",")}}`;
      lines.push(`${f.name}${s.suffix ?? ""}${labels} ${formatValue(s.value)}`);
    }
  }
  return lines.join("\n") + "\n";
}

// ---- The scrape: stored counters and live gauges -> families ----

export const BREAKER_STATE_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

export interface ScrapeFacts {
  now: number;
  proxy: Array<ProxySeries & ProxyTotals>;
  identitySteps: Array<{ step: string; outcome: string; count: number }>;
  webhooks: Array<{ source: string; outcome: string; count: number }>;
  breakers: Array<{ provider: string; state: keyof typeof BREAKER_STATE_VALUE }>;
  /** Pending mail by status, counted up to a cap (`capped` when the cap was reached). */
  outbox: Array<{ status: string; depth: number; capped: boolean }>;
  /** Work the owning rows say is in a workpool, by the workpool's own status of each run. */
  workpools: Array<{ pool: string; state: string; depth: number }>;
  /** The metrics fold's cursor over usage events, null before its first run. */
  metricsCursor: number | null;
  /** The scheduler heartbeat's last beat, null before its first. */
  heartbeatAt: number | null;
}

/** The histogram of one family per (endpoint, provider): buckets summed over status and outcome. */
function latencyHistogram(proxy: ScrapeFacts["proxy"]): Sample[] {
  const byEndpoint = new Map<string, { endpoint: string; provider: string; totals: ProxyTotals }>();
  for (const p of proxy) {
    const key = `${p.endpoint}|${p.provider}`;
    const entry = byEndpoint.get(key) ?? { endpoint: p.endpoint, provider: p.provider, totals: emptyTotals() };
    entry.totals = addTotals(entry.totals, p);
    byEndpoint.set(key, entry);
  }
  const samples: Sample[] = [];
  for (const { endpoint, provider, totals } of [...byEndpoint.values()].sort((a, b) => `${a.endpoint}|${a.provider}`.localeCompare(`${b.endpoint}|${b.provider}`))) {
    for (const b of cumulativeBuckets(totals.latencyBuckets)) samples.push({ suffix: "_bucket", labels: { endpoint, provider, le: b.le }, value: b.count });
    samples.push({ suffix: "_sum", labels: { endpoint, provider }, value: totals.latencySumMs });
    samples.push({ suffix: "_count", labels: { endpoint, provider }, value: totals.requests });
  }
  return samples;
}

const byLabels = <T,>(a: T, b: T, keys: (keyof T)[]) =>
  keys.map((k) => String(a[k])).join("|").localeCompare(keys.map((k) => String(b[k])).join("|"));

export function metricFamilies(f: ScrapeFacts): MetricFamily[] {
  const proxy = [...f.proxy].sort((a, b) => byLabels(a, b, ["endpoint", "provider", "status", "outcome"]));
  const perProvider = new Map<string, ProxyTotals>();
  for (const p of proxy) perProvider.set(p.provider, addTotals(perProvider.get(p.provider) ?? emptyTotals(), p));
  const providers = [...perProvider.keys()].sort();
  const byProvider = (value: (t: ProxyTotals) => number, extra: Record<string, string> = {}): Sample[] =>
    providers.map((provider) => ({ labels: { provider, ...extra }, value: value(perProvider.get(provider)!) }));
  const families: MetricFamily[] = [
    {
      name: "pdx_proxy_requests_total",
      help: "Settled requests of the AI proxy and the Dex API, by endpoint (usage kind), provider, HTTP status class and outcome. Refusals before admission (bad key, rate limit, quota) record no usage event and are not counted.",
      type: "counter",
      samples: proxy.map((p) => ({ labels: { endpoint: p.endpoint, provider: p.provider, status: p.status, outcome: p.outcome }, value: p.requests })),
    },
    {
      name: "pdx_proxy_request_duration_ms",
      help: "Latency of settled requests in milliseconds, from the request's arrival to its settlement (a stream's is its whole duration).",
      type: "histogram",
      samples: latencyHistogram(proxy),
    },
    {
      name: "pdx_proxy_tokens_total",
      help: "Tokens billed on settled requests, by provider and direction (in: prompt, out: completion).",
      type: "counter",
      samples: [...byProvider((t) => t.tokensIn, { direction: "in" }), ...byProvider((t) => t.tokensOut, { direction: "out" })],
    },
    {
      name: "pdx_proxy_characters_total",
      help: "Characters billed on settled speech requests, by provider.",
      type: "counter",
      samples: byProvider((t) => t.characters),
    },
    {
      name: "pdx_proxy_cost_micros_total",
      help: "Cost charged to customers for settled requests, in micro-dollars, by provider.",
      type: "counter",
      samples: byProvider((t) => t.costMicros),
    },
    {
      name: "pdx_provider_breaker_state",
      help: "Circuit breaker state per provider: 0 closed, 1 half-open, 2 open. Providers whose breaker never tripped have no row and are closed.",
      type: "gauge",
      samples: [...f.breakers]
        .sort((a, b) => a.provider.localeCompare(b.provider))
        .map((b) => ({ labels: { provider: labelValue(b.provider) }, value: BREAKER_STATE_VALUE[b.state] })),
    },
    {
      name: "pdx_identity_steps_total",
      help: "Identity provisioning and deprovisioning step outcomes (done, failed, skipped), by step.",
      type: "counter",
      samples: [...f.identitySteps]
        .sort((a, b) => byLabels(a, b, ["step", "outcome"]))
        .map((s) => ({ labels: { step: labelValue(s.step), outcome: labelValue(s.outcome) }, value: s.count })),
    },
    {
      name: "pdx_webhook_events_total",
      help: "Webhook events recorded (each event id once), by source and outcome.",
      type: "counter",
      samples: [...f.webhooks]
        .sort((a, b) => byLabels(a, b, ["source", "outcome"]))
        .map((w) => ({ labels: { source: labelValue(w.source), outcome: labelValue(w.outcome) }, value: w.count })),
    },
    {
      name: "pdx_email_outbox_depth",
      help: "Mail waiting in the outbox, by status (queued, sending); counted up to a cap, see pdx_email_outbox_depth_capped.",
      type: "gauge",
      samples: f.outbox.map((o) => ({ labels: { status: o.status }, value: o.depth })),
    },
    {
      name: "pdx_email_outbox_depth_capped",
      help: "1 when pdx_email_outbox_depth for the status stopped counting at its cap (the true depth is at least that), else 0.",
      type: "gauge",
      samples: f.outbox.map((o) => ({ labels: { status: o.status }, value: o.capped ? 1 : 0 })),
    },
    {
      name: "pdx_workpool_depth",
      help: "Runs in each workpool that their owning rows reference, by the workpool's status (pending: waiting or backing off between retries; running).",
      type: "gauge",
      samples: [...f.workpools].sort((a, b) => byLabels(a, b, ["pool", "state"])).map((w) => ({ labels: { pool: w.pool, state: w.state }, value: w.depth })),
    },
  ];
  families.push({
    name: "pdx_metrics_lag_seconds",
    help: "How far the metrics fold's cursor over usage events trails now (about 10-25 s normally); absent before its first run.",
    type: "gauge",
    samples: f.metricsCursor === null ? [] : [{ labels: {}, value: Math.max(0, f.now - f.metricsCursor) / 1000 }],
  });
  families.push({
    name: "pdx_scheduler_heartbeat_age_seconds",
    help: "Seconds since the scheduler heartbeat cron last ran (every 30 s normally); absent before its first beat.",
    type: "gauge",
    samples: f.heartbeatAt === null ? [] : [{ labels: {}, value: Math.max(0, f.now - f.heartbeatAt) / 1000 }],
  });
  return families;
}

export function exposition(f: ScrapeFacts): string {
  return renderExposition(metricFamilies(f));
}
