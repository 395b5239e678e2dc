// Ops alerts: the rules, their thresholds and the window decisions the evaluator makes, the
// dedupe decision for a repeated detection, and the mail staff get for a new alert. Pure.
//
// The plan's alerting list (error rate over 1%, p99 latency over 500 ms, provisioning
// failures, payment failures) plus provider outages and the fraud rules of
// model/ops/anomalies.ts.

export type OpsRule =
  | "error_rate"
  | "latency_p99"
  | "provisioning_failed"
  | "payment_failed"
  | "provider_outage"
  | "key_usage_spike"
  | "key_many_ips"
  | "signup_burst";
export type OpsSeverity = "info" | "warning" | "critical";
export type OpsAlertStatus = "open" | "acknowledged" | "resolved";

/**
 * How an alert ends. `condition`: the evaluator resolves it once its window no longer fires
 * (error rate, latency, signup bursts). `breaker`: the provider's breaker closing resolves it.
 * `manual`: staff resolve it after looking (a failed step or payment, and the key anomalies,
 * where someone should decide whether the key was stolen).
 */
export type ResolveMode = "condition" | "breaker" | "manual";

export interface RuleInfo {
  label: string;
  severity: OpsSeverity;
  resolves: ResolveMode;
  /** One line for the alerts page's legend. */
  description: string;
}

export const RULES: Record<OpsRule, RuleInfo> = {
  error_rate: {
    label: "Error rate",
    severity: "critical",
    resolves: "condition",
    description: "More than 1% of a provider's proxied requests answered 5xx over 5 minutes (at least 100 requests).",
  },
  latency_p99: {
    label: "p99 latency",
    severity: "warning",
    resolves: "condition",
    description: "p99 time to first byte above 500 ms over 5 minutes (streams, embeddings and speech; at least 100 requests).",
  },
  provisioning_failed: {
    label: "Provisioning failed",
    severity: "critical",
    resolves: "manual",
    description: "An identity provisioning step stopped after its retries.",
  },
  payment_failed: {
    label: "Payment failed",
    severity: "warning",
    resolves: "manual",
    description: "A customer's invoice payment failed (the account is past due).",
  },
  provider_outage: {
    label: "Provider outage",
    severity: "critical",
    resolves: "breaker",
    description: "A provider's circuit breaker opened; it resolves when the breaker closes.",
  },
  key_usage_spike: {
    label: "Key usage spike",
    severity: "warning",
    resolves: "manual",
    description: "A key's tokens in one hour far above its own 7-day baseline.",
  },
  key_many_ips: {
    label: "Key used from many IPs",
    severity: "warning",
    resolves: "manual",
    description: "One key used from many client addresses within 10 minutes (shared or stolen).",
  },
  signup_burst: {
    label: "Signup burst",
    severity: "warning",
    resolves: "condition",
    description: "Many signup attempts in 10 minutes, from everyone or from one address.",
  },
};

export const OPS_RULES = Object.keys(RULES) as OpsRule[];

const MINUTE = 60_000;

/** The error-rate rule: over `windowMs`, errors / requests > maxRate once requests >= minRequests. */
export const ERROR_RATE = { windowMs: 5 * MINUTE, maxRate: 0.01, minRequests: 100 } as const;

/**
 * The latency rule, on time to first byte (TTFB): the proxy's admission plus the upstream's time
 * to answer with headers. Only requests whose headers come at once are sampled (streams,
 * embeddings, speech): a JSON completion's headers wait for the whole generation, so its
 * duration measures the answer's length, not anyone's health.
 */
export const LATENCY = { windowMs: 5 * MINUTE, quantile: 0.99, maxMs: 500, minSamples: 100 } as const;

/**
 * Histogram bucket upper bounds (ms) of the per-minute TTFB counts; one more bucket counts
 * everything above the last. LATENCY.maxMs is a bound, so "p99 above it" is decided exactly.
 */
export const LATENCY_BOUNDS_MS = [50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000] as const;

/** The histogram bucket a sample falls in. */
export function latencyBucket(ms: number): number {
  const i = LATENCY_BOUNDS_MS.findIndex((b) => ms <= b);
  return i === -1 ? LATENCY_BOUNDS_MS.length : i;
}

export function emptyHistogram(): number[] {
  return new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
}

export function addHistograms(a: readonly number[], b: readonly number[]): number[] {
  const out = emptyHistogram();
  for (let i = 0; i < out.length; i++) out[i] = (a[i] ?? 0) + (b[i] ?? 0);
  return out;
}

/**
 * The q-quantile by nearest rank, as the upper bound of its bucket (Infinity past the last
 * bound); null without samples.
 */
export function quantileOf(counts: readonly number[], q: number): number | null {
  const n = counts.reduce((s, c) => s + c, 0);
  if (n === 0) return null;
  const rank = Math.max(1, Math.ceil(q * n));
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i];
    if (seen >= rank) return i < LATENCY_BOUNDS_MS.length ? LATENCY_BOUNDS_MS[i] : Infinity;
  }
  return Infinity;
}

/** `firing`: raise (or bump); `clear`: resolve an open one; `insufficient`: too few samples to say (also resolves). */
export type Verdict = { state: "firing" | "clear" | "insufficient"; message: string };

export interface WindowTotals {
  requests: number;
  errors: number;
  ttfbCounts: readonly number[];
}

function pct(x: number): string {
  return `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
}

export function errorRateVerdict(provider: string, w: WindowTotals): Verdict {
  if (w.requests < ERROR_RATE.minRequests) {
    return { state: "insufficient", message: `${w.requests} requests to ${provider} in 5 min (fewer than ${ERROR_RATE.minRequests}).` };
  }
  const rate = w.errors / w.requests;
  const line = `${w.errors} of ${w.requests} requests to ${provider} failed with 5xx in the last 5 min (${pct(rate)}; threshold ${pct(ERROR_RATE.maxRate)}).`;
  return { state: rate > ERROR_RATE.maxRate ? "firing" : "clear", message: line };
}

export function latencyVerdict(provider: string, w: WindowTotals): Verdict {
  const samples = w.ttfbCounts.reduce((s, c) => s + c, 0);
  if (samples < LATENCY.minSamples) {
    return { state: "insufficient", message: `${samples} latency samples for ${provider} in 5 min (fewer than ${LATENCY.minSamples}).` };
  }
  const p99 = quantileOf(w.ttfbCounts, LATENCY.quantile) ?? 0;
  const shown = p99 === Infinity ? `over ${LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1]} ms` : `at most ${p99} ms`;
  const line = `p99 time to first byte for ${provider} is ${p99 > LATENCY.maxMs ? "above" : "within"} ${LATENCY.maxMs} ms (${shown}) over ${samples} requests in the last 5 min.`;
  return { state: p99 > LATENCY.maxMs ? "firing" : "clear", message: line };
}

/**
 * An alert resolved by its condition that fires again within this time reopens (count bumped,
 * no new mail), so a flapping condition is one incident, not a mail a minute.
 */
export const REOPEN_WITHIN_MS = 30 * MINUTE;

export interface StoredAlert {
  status: OpsAlertStatus;
  resolvedAt?: number;
  resolvedBy?: string;
}

/**
 * What a detection does given the newest alert of its rule and subject: bump the active one,
 * reopen one the condition resolved moments ago, or open a new one (the only case that mails).
 */
export function raiseDecision(latest: StoredAlert | null, now: number): "bump" | "reopen" | "insert" {
  if (latest === null) return "insert";
  if (latest.status !== "resolved") return "bump";
  if (latest.resolvedBy === "auto" && latest.resolvedAt !== undefined && now - latest.resolvedAt < REOPEN_WITHIN_MS) return "reopen";
  return "insert";
}

const MAX_NOTE = 500;

/** A staff note (acknowledge, resolve): trimmed, 1..500 characters; throws a RangeError otherwise. */
export function cleanNote(note: string): string {
  const trimmed = note.trim();
  if (trimmed.length === 0) throw new RangeError("Write a short note: what you checked or what happens next.");
  if (trimmed.length > MAX_NOTE) throw new RangeError(`A note is at most ${MAX_NOTE} characters; this one is ${trimmed.length}.`);
  return trimmed;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** The mail to OPS_ALERT_EMAIL for a new alert: what fired, about what, and where to act. */
export function alertMail(
  alert: { rule: OpsRule; severity: OpsSeverity; subject: string; message: string; firstSeenAt: number },
  appUrl: string | undefined,
): { subject: string; text: string; html: string } {
  const rule = RULES[alert.rule];
  const link = appUrl ? `${appUrl.replace(/\/+$/, "")}/admin/alerts` : null;
  const when = new Date(alert.firstSeenAt).toISOString();
  const subject = `[${alert.severity}] ${rule.label}: ${alert.subject}`;
  const lines = [
    `${rule.label} (${alert.severity}) at ${when}`,
    "",
    alert.message,
    "",
    `Subject: ${alert.subject}`,
    `Rule: ${rule.description}`,
    "",
    link ? `Acknowledge it on ${link}` : "Acknowledge it on the admin console's Alerts page.",
    "Repeats of this alert update the same row; no further mail is sent until it is resolved.",
  ];
  const html = [
    `<p><strong>${escapeHtml(rule.label)}</strong> (${escapeHtml(alert.severity)}) at ${escapeHtml(when)}</p>`,
    `<p>${escapeHtml(alert.message)}</p>`,
    `<p>Subject: <code>${escapeHtml(alert.subject)}</code><br>Rule: ${escapeHtml(rule.description)}</p>`,
    link ? `<p><a href="${escapeHtml(link)}">Acknowledge it on the Alerts page</a></p>` : "<p>Acknowledge it on the admin console's Alerts page.</p>",
    "<p>Repeats of this alert update the same row; no further mail is sent until it is resolved.</p>",
  ].join("\n");
  return { subject, text: lines.join("\n"), html };
}
