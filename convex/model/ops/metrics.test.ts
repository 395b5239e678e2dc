import { describe, expect, test } from "vitest";
import {
  bucketIndex,
  cumulativeBuckets,
  escapeLabelValue,
  exposition,
  type FoldableEvent,
  foldEvents,
  labelValue,
  LATENCY_BUCKETS_MS,
  renderExposition,
  type ScrapeFacts,
  statusClass,
  stepOutcomes,
  webhookLabels,
} from "./metrics";
import { parseExposition, sampleValue } from "./metricsParser.setup";

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);

function event(over: Partial<FoldableEvent> = {}): FoldableEvent {
  return {
    kind: "chat",
    provider: "openai",
    status: "ok",
    httpStatus: 200,
    latencyMs: 40,
    tokensIn: 10,
    tokensOut: 5,
    characters: 0,
    costMicros: 7,
    ...over,
  };
}

function facts(over: Partial<ScrapeFacts> = {}): ScrapeFacts {
  return {
    now: NOW,
    proxy: [],
    identitySteps: [],
    webhooks: [],
    breakers: [],
    outbox: [],
    workpools: [],
    metricsCursor: null,
    heartbeatAt: null,
    ...over,
  };
}

describe("latency buckets", () => {
  test("le is inclusive: a latency equal to a bound falls in that bound's bucket", () => {
    expect(bucketIndex(0)).toBe(0);
    expect(bucketIndex(25)).toBe(0);
    expect(bucketIndex(26)).toBe(1);
    expect(bucketIndex(10_000)).toBe(LATENCY_BUCKETS_MS.length - 1);
    expect(bucketIndex(10_001)).toBe(LATENCY_BUCKETS_MS.length);
  });

  test("cumulative buckets count everything at or below each bound and end with +Inf = total", () => {
    const counts = [1, 0, 2, 0, 0, 0, 0, 0, 0, 3];
    const cum = cumulativeBuckets(counts);
    expect(cum.map((b) => b.le)).toEqual([...LATENCY_BUCKETS_MS.map(String), "+Inf"]);
    expect(cum.map((b) => b.count)).toEqual([1, 1, 3, 3, 3, 3, 3, 3, 3, 6]);
  });
});

describe("folding usage events", () => {
  test("one entry per endpoint x provider x status class x outcome, with exact sums", () => {
    const folded = foldEvents([
      event({ latencyMs: 20 }),
      event({ latencyMs: 300, tokensIn: 1, tokensOut: 2, costMicros: 3 }),
      event({ httpStatus: 502, status: "upstream_error", latencyMs: 20_000, tokensIn: 0, tokensOut: 0, costMicros: 0 }),
      event({ kind: "speech", provider: "elevenlabs", latencyMs: 700, tokensIn: 0, tokensOut: 0, characters: 42 }),
    ]);
    expect([...folded.keys()].sort()).toEqual([
      "chat|openai|2xx|ok",
      "chat|openai|5xx|upstream_error",
      "speech|elevenlabs|2xx|ok",
    ]);
    const ok = folded.get("chat|openai|2xx|ok")!.totals;
    expect(ok).toMatchObject({ requests: 2, latencySumMs: 320, tokensIn: 11, tokensOut: 7, costMicros: 10 });
    expect(ok.latencyBuckets).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
    expect(folded.get("chat|openai|5xx|upstream_error")!.totals.latencyBuckets.at(-1)).toBe(1);
    expect(folded.get("speech|elevenlabs|2xx|ok")!.totals.characters).toBe(42);
  });

  test("status classes", () => {
    expect([200, 404, 429, 503, 99, 600].map(statusClass)).toEqual(["2xx", "4xx", "4xx", "5xx", "other", "other"]);
  });

  test("a label value that is not a short lowercase token becomes 'other' (emails, ids, free text)", () => {
    expect(labelValue("openai")).toBe("openai");
    expect(labelValue("openai-fallback")).toBe("openai-fallback");
    expect(labelValue("ada@example.com")).toBe("other");
    expect(labelValue("jd7fk2ABCDEF")).toBe("other");
    expect(labelValue("stored: no identity has this number")).toBe("other");
    expect(labelValue("")).toBe("other");
    expect(labelValue(undefined)).toBe("other");
  });

  test("webhook labels keep the source and the outcome code, never the detail after it", () => {
    expect(webhookLabels({ provider: "stripe", outcome: "subscription updated for user x", status: "applied" })).toEqual({ source: "stripe", outcome: "applied" });
    expect(webhookLabels({ provider: "telnyx", outcome: "stored: no identity has this number" })).toEqual({ source: "telnyx", outcome: "stored" });
    expect(webhookLabels({ provider: "telnyx", outcome: "ignored: message.finalized" })).toEqual({ source: "telnyx", outcome: "ignored" });
    expect(webhookLabels({ provider: "clerk", outcome: "email_updated" })).toEqual({ source: "clerk", outcome: "email_updated" });
    expect(webhookLabels({ provider: "someone-else", outcome: "Ada Lovelace" })).toEqual({ source: "other", outcome: "other" });
  });

  test("step outcomes: each step that moved into done, failed or skipped, once", () => {
    const before = [
      { name: "workspace_user", status: "running" },
      { name: "mailbox", status: "pending" },
      { name: "number_order", status: "done" },
    ];
    const after = [
      { name: "workspace_user", status: "done" },
      { name: "mailbox", status: "running" },
      { name: "number_order", status: "done" },
      { name: "signal_register", status: "skipped" },
    ];
    expect(stepOutcomes(before, after)).toEqual([
      { step: "workspace_user", outcome: "done" },
      { step: "signal_register", outcome: "skipped" },
    ]);
    expect(stepOutcomes(after, after)).toEqual([]);
  });
});

describe("exposition", () => {
  test("label values escape backslash, quote and line feed", () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    const text = renderExposition([{ name: "x_total", help: "with \\ and\nnewline", type: "counter", samples: [{ labels: { l: 'q"\\\n' }, value: 1 }] }]);
    expect(text).toBe('# HELP x_total with \\\\ and\\nnewline\n# TYPE x_total counter\nx_total{l="q\\"\\\\\\n"} 1\n');
    const parsed = parseExposition(text);
    expect(parsed.get("x_total")!.help).toBe("with \\ and\nnewline");
    expect(parsed.get("x_total")!.samples[0].labels.l).toBe('q"\\\n');
  });

  test("refuses invalid metric and label names instead of emitting a text Prometheus rejects", () => {
    expect(() => renderExposition([{ name: "bad-name", help: "", type: "gauge", samples: [] }])).toThrow(/metric name/);
    expect(() => renderExposition([{ name: "ok", help: "", type: "gauge", samples: [{ labels: { "bad-label": "x" }, value: 1 }] }])).toThrow(/label name/);
  });

  test("a full scrape parses strictly, with histogram buckets summed across status classes", () => {
    const folded = foldEvents([
      event({ latencyMs: 20 }),
      event({ latencyMs: 600 }),
      event({ httpStatus: 503, status: "upstream_error", latencyMs: 30, tokensIn: 0, tokensOut: 0, costMicros: 0 }),
    ]);
    const text = exposition(facts({
      proxy: [...folded.values()].map((e) => ({ ...e.series, ...e.totals })),
      breakers: [{ provider: "anthropic", state: "open" }, { provider: "openai", state: "half_open" }],
      identitySteps: [{ step: "mailbox", outcome: "done", count: 3 }],
      webhooks: [{ source: "stripe", outcome: "applied", count: 2 }],
      outbox: [{ status: "queued", depth: 4, capped: false }, { status: "sending", depth: 250, capped: true }],
      workpools: [{ pool: "identityPool", state: "running", depth: 2 }],
      metricsCursor: NOW - 15_000,
      heartbeatAt: NOW - 5_000,
    }));
    const f = parseExposition(text);
    expect(sampleValue(f, "pdx_proxy_requests_total", { endpoint: "chat", provider: "openai", status: "2xx", outcome: "ok" })).toBe(2);
    expect(sampleValue(f, "pdx_proxy_requests_total", { endpoint: "chat", provider: "openai", status: "5xx", outcome: "upstream_error" })).toBe(1);
    expect(sampleValue(f, "pdx_proxy_request_duration_ms_bucket", { endpoint: "chat", provider: "openai", le: "25" })).toBe(1);
    expect(sampleValue(f, "pdx_proxy_request_duration_ms_bucket", { endpoint: "chat", provider: "openai", le: "50" })).toBe(2);
    expect(sampleValue(f, "pdx_proxy_request_duration_ms_bucket", { endpoint: "chat", provider: "openai", le: "500" })).toBe(2);
    expect(sampleValue(f, "pdx_proxy_request_duration_ms_bucket", { endpoint: "chat", provider: "openai", le: "+Inf" })).toBe(3);
    expect(sampleValue(f, "pdx_proxy_request_duration_ms_count", { endpoint: "chat", provider: "openai" })).toBe(3);
    expect(sampleValue(f, "pdx_proxy_request_duration_ms_sum", { endpoint: "chat", provider: "openai" })).toBe(650);
    expect(sampleValue(f, "pdx_proxy_tokens_total", { provider: "openai", direction: "in" })).toBe(20);
    expect(sampleValue(f, "pdx_proxy_tokens_total", { provider: "openai", direction: "out" })).toBe(10);
    expect(sampleValue(f, "pdx_proxy_cost_micros_total", { provider: "openai" })).toBe(14);
    expect(sampleValue(f, "pdx_provider_breaker_state", { provider: "anthropic" })).toBe(2);
    expect(sampleValue(f, "pdx_provider_breaker_state", { provider: "openai" })).toBe(1);
    expect(sampleValue(f, "pdx_identity_steps_total", { step: "mailbox", outcome: "done" })).toBe(3);
    expect(sampleValue(f, "pdx_webhook_events_total", { source: "stripe", outcome: "applied" })).toBe(2);
    expect(sampleValue(f, "pdx_email_outbox_depth", { status: "sending" })).toBe(250);
    expect(sampleValue(f, "pdx_email_outbox_depth_capped", { status: "sending" })).toBe(1);
    expect(sampleValue(f, "pdx_email_outbox_depth_capped", { status: "queued" })).toBe(0);
    expect(sampleValue(f, "pdx_workpool_depth", { pool: "identityPool", state: "running" })).toBe(2);
    expect(sampleValue(f, "pdx_metrics_lag_seconds")).toBe(15);
    expect(sampleValue(f, "pdx_scheduler_heartbeat_age_seconds")).toBe(5);
    for (const family of f.values()) {
      expect(family.help, family.name).not.toBeNull();
      expect(family.type, family.name).not.toBe("untyped");
    }
  });

  test("an empty deployment still declares every family and parses", () => {
    const f = parseExposition(exposition(facts()));
    expect(f.get("pdx_proxy_requests_total")?.samples).toEqual([]);
    expect(f.get("pdx_metrics_lag_seconds")?.samples).toEqual([]);
    expect(f.get("pdx_proxy_request_duration_ms")?.type).toBe("histogram");
  });
});

describe("the strict parser catches what Prometheus rejects", () => {
  const bad: Array<[string, string]> = [
    ["sample before TYPE", "x_total 1\n"],
    ["no trailing newline", "# TYPE x gauge\nx 1"],
    ["bad escape", '# TYPE x gauge\nx{a="\\t"} 1\n'],
    ["duplicate series", "# TYPE x gauge\nx 1\nx 2\n"],
    ["split family", "# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\n# TYPE x gauge\n"],
    ["non-cumulative buckets", '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ["+Inf differs from count", '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 2\n'],
    ["negative counter", "# TYPE c counter\nc -1\n"],
    ["value with a unit", "# TYPE x gauge\nx 1ms\n"],
  ];
  test.each(bad)("%s", (_name, text) => {
    expect(() => parseExposition(text)).toThrow();
  });
});
