// GET /metrics on convex-test: the token gate, the fold cron's exact counts and cursors, the
// gauges read at scrape time, and that no label carries anything personal.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import { providerPool } from "../lib/providerPool";
import { PRICE_VERSION } from "../model/pricing";
import { allLabelValues, parseExposition, sampleValue } from "../model/ops/metricsParser.setup";
import { customer, newTest, type TestConvex, usageEvent } from "../test.setup";
import { FOLD_BATCH, METRICS_LAG_MS, OUTBOX_DEPTH_CAP } from "./metrics";
import { recordStepOutcomes } from "./metricsRecord";

const TOKEN = "metrics-token-for-tests-0123456789";
const START = Date.UTC(2026, 10, 29, 12, 0, 0);

beforeEach(() => {
  vi.useFakeTimers({ now: START, toFake: ["Date"] });
  vi.stubEnv("METRICS_TOKEN", TOKEN);
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

async function scrape(t: TestConvex, authorization: string | null = `Bearer ${TOKEN}`) {
  return await t.fetch("/metrics", { method: "GET", headers: authorization === null ? {} : { authorization } });
}

async function scraped(t: TestConvex) {
  const res = await scrape(t);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  const text = await res.text();
  return { text, families: parseExposition(text) };
}

/** A raw usage event (no balance), for volume tests. */
function rawEvent(userId: Id<"users">, at: number, n: number): Omit<Doc<"usageEvents">, "_id" | "_creationTime"> {
  return {
    userId,
    requestId: `req_raw_${n}`,
    kind: "chat",
    provider: "openai",
    model: "gpt-4o-mini",
    tokensIn: 1,
    tokensOut: 1,
    characters: 0,
    costMicros: 1,
    priceVersion: PRICE_VERSION,
    usageSource: "provider",
    latencyMs: 10,
    status: "ok",
    httpStatus: 200,
    at,
  };
}

describe("the token gate", () => {
  test("METRICS_TOKEN unset: 503 metrics_disabled, in JSON", async () => {
    vi.stubEnv("METRICS_TOKEN", "");
    const res = await scrape(newTest());
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({ error: { message: expect.stringContaining("METRICS_TOKEN"), code: "metrics_disabled" } });
  });

  test("no token, a wrong token, another scheme: 401 JSON with a Bearer challenge, nothing rendered", async () => {
    const t = newTest();
    for (const authorization of [null, "Bearer wrong-token", `Bearer ${TOKEN}x`, `Basic ${TOKEN}`, `Bearer ${TOKEN.slice(0, -1)}`]) {
      const res = await scrape(t, authorization);
      expect(res.status, String(authorization)).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="metrics"');
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("invalid_metrics_token");
      expect(body.error.message).not.toContain(TOKEN);
    }
  });

  test("the right token: 200 Prometheus text that parses strictly, every family declared", async () => {
    const { families } = await scraped(newTest());
    for (const name of [
      "pdx_proxy_requests_total",
      "pdx_proxy_request_duration_ms",
      "pdx_proxy_tokens_total",
      "pdx_proxy_cost_micros_total",
      "pdx_provider_breaker_state",
      "pdx_identity_steps_total",
      "pdx_webhook_events_total",
      "pdx_email_outbox_depth",
      "pdx_workpool_depth",
      "pdx_metrics_lag_seconds",
    ]) {
      expect(families.has(name), name).toBe(true);
    }
  });
});

describe("the fold cron and the scrape", () => {
  test("counts match the seeded events exactly, and no label is an id, email, key or request id", async () => {
    const t = newTest();
    const ada = await customer(t, "basic", "ada.lovelace@example.com");
    const bob = await customer(t, "pro", "bob@example.org");
    const old = START - 60_000;
    const ids: string[] = [];
    const seed = async (userId: Id<"users">, keyId: Id<"apiKeys">, over: Parameters<typeof usageEvent>[2]) => {
      const id = await usageEvent(t, userId, { apiKeyId: keyId, instanceId: "dex-instance-7f3a", at: old, ...over });
      ids.push(id);
    };
    // chat / openai / 2xx / ok: latencies 10, 30, 30, 120, 700, 3000, 20000 (ms)
    for (const latencyMs of [10, 30, 30, 120, 700, 3000, 20_000]) {
      await seed(ada.userId, ada.keyId, { latencyMs, tokensIn: 100, tokensOut: 50, costMicros: 45 });
    }
    // chat / openai / 5xx / upstream_error, twice
    for (let i = 0; i < 2; i++) {
      await seed(bob.userId, bob.keyId, { latencyMs: 60, tokensIn: 0, tokensOut: 0, costMicros: 0, status: "upstream_error", httpStatus: 502 });
    }
    // embedding / openai / 2xx / ok, three
    for (let i = 0; i < 3; i++) {
      await seed(bob.userId, bob.keyId, { kind: "embedding", model: "text-embedding-3-small", latencyMs: 40, tokensIn: 8, tokensOut: 0, costMicros: 1 });
    }
    // speech / elevenlabs / 2xx / ok
    await seed(ada.userId, ada.keyId, { kind: "speech", provider: "elevenlabs", model: "eleven_turbo_v2_5", latencyMs: 900, tokensIn: 0, tokensOut: 0, characters: 42, costMicros: 12 });
    // A provider field that is not one of ours is never a label value.
    await seed(ada.userId, ada.keyId, { provider: ada.email, latencyMs: 5, tokensIn: 1, tokensOut: 1, costMicros: 1 });

    const run = await t.mutation(internal.ops.metrics.fold, {});
    expect(run.usageEvents).toBe(14);
    expect(run.cursor).toBe(START - METRICS_LAG_MS);
    const { text, families: f } = await scraped(t);

    const requests = (labels: Record<string, string>) => sampleValue(f, "pdx_proxy_requests_total", labels);
    expect(requests({ endpoint: "chat", provider: "openai", status: "2xx", outcome: "ok" })).toBe(7);
    expect(requests({ endpoint: "chat", provider: "openai", status: "5xx", outcome: "upstream_error" })).toBe(2);
    expect(requests({ endpoint: "embedding", provider: "openai", status: "2xx", outcome: "ok" })).toBe(3);
    expect(requests({ endpoint: "speech", provider: "elevenlabs", status: "2xx", outcome: "ok" })).toBe(1);
    expect(requests({ endpoint: "chat", provider: "other", status: "2xx", outcome: "ok" })).toBe(1);
    expect(f.get("pdx_proxy_requests_total")!.samples.reduce((s, x) => s + x.value, 0)).toBe(14);

    // chat/openai: the 7 ok and the 2 failed (60 ms) together.
    const bucket = (le: string) => sampleValue(f, "pdx_proxy_request_duration_ms_bucket", { endpoint: "chat", provider: "openai", le });
    expect(["25", "50", "100", "250", "500", "1000", "2500", "5000", "10000", "+Inf"].map(bucket)).toEqual([1, 3, 5, 6, 6, 7, 7, 8, 8, 9]);
    expect(sampleValue(f, "pdx_proxy_request_duration_ms_count", { endpoint: "chat", provider: "openai" })).toBe(9);
    expect(sampleValue(f, "pdx_proxy_request_duration_ms_sum", { endpoint: "chat", provider: "openai" })).toBe(10 + 30 + 30 + 120 + 700 + 3000 + 20_000 + 120);

    expect(sampleValue(f, "pdx_proxy_tokens_total", { provider: "openai", direction: "in" })).toBe(7 * 100 + 3 * 8);
    expect(sampleValue(f, "pdx_proxy_tokens_total", { provider: "openai", direction: "out" })).toBe(7 * 50);
    expect(sampleValue(f, "pdx_proxy_cost_micros_total", { provider: "openai" })).toBe(7 * 45 + 3);
    expect(sampleValue(f, "pdx_proxy_cost_micros_total", { provider: "elevenlabs" })).toBe(12);
    expect(sampleValue(f, "pdx_proxy_characters_total", { provider: "elevenlabs" })).toBe(42);
    expect(sampleValue(f, "pdx_metrics_lag_seconds")).toBe(METRICS_LAG_MS / 1000);

    // Nothing personal anywhere in the text, as a label or otherwise.
    const events = await t.run(async (ctx) => Promise.all(ids.map((id) => ctx.db.get("usageEvents", id as Id<"usageEvents">))));
    const personal = [
      ada.email, bob.email, ada.userId, bob.userId, ada.keyId, bob.keyId, ada.secret, bob.secret, ada.keyHash, bob.keyHash,
      "dex-instance-7f3a", ...events.map((e) => e!.requestId), ...ids,
    ];
    for (const value of allLabelValues(f)) expect(personal, value).not.toContain(value);
    for (const p of personal) expect(text).not.toContain(p);
  });

  test("each event is counted once: a second run adds nothing, events inside the lag wait for the next run", async () => {
    const t = newTest();
    const c = await customer(t);
    await usageEvent(t, c.userId, { at: START - 30_000 });
    await usageEvent(t, c.userId, { at: START - 1_000 }); // not yet committed for sure: left for later
    expect((await t.mutation(internal.ops.metrics.fold, {})).usageEvents).toBe(1);
    expect((await t.mutation(internal.ops.metrics.fold, {})).usageEvents).toBe(0);
    let f = (await scraped(t)).families;
    expect(sampleValue(f, "pdx_proxy_requests_total", { endpoint: "chat", provider: "openai", status: "2xx", outcome: "ok" })).toBe(1);

    vi.setSystemTime(START + METRICS_LAG_MS);
    expect((await t.mutation(internal.ops.metrics.fold, {})).usageEvents).toBe(1);
    f = (await scraped(t)).families;
    expect(sampleValue(f, "pdx_proxy_requests_total", { endpoint: "chat", provider: "openai", status: "2xx", outcome: "ok" })).toBe(2);
  });

  test("a backlog larger than a page is folded in bounded runs, never splitting one timestamp", async () => {
    vi.useFakeTimers({ now: START });
    const t = newTest();
    const c = await customer(t);
    const tied = START - 30_000;
    const total = FOLD_BATCH + 5;
    await t.run(async (ctx) => {
      // FOLD_BATCH - 2 events at distinct times, then 7 at one millisecond across the page's end.
      for (let i = 0; i < FOLD_BATCH - 2; i++) await ctx.db.insert("usageEvents", rawEvent(c.userId, tied - 100_000 + i, i));
      for (let i = 0; i < 7; i++) await ctx.db.insert("usageEvents", rawEvent(c.userId, tied, FOLD_BATCH + i));
    });
    const first = await t.mutation(internal.ops.metrics.fold, {});
    expect(first.usageEvents).toBe(FOLD_BATCH - 2);
    expect(first.cursor).toBe(tied - 100_000 + FOLD_BATCH - 3);
    // The first run scheduled the rest.
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const f = (await scraped(t)).families;
    expect(sampleValue(f, "pdx_proxy_requests_total", { endpoint: "chat", provider: "openai", status: "2xx", outcome: "ok" })).toBe(total);
    expect(sampleValue(f, "pdx_proxy_cost_micros_total", { provider: "openai" })).toBe(total);
  });

  test("webhook outcomes by source and outcome code, identity step outcomes (their rows deleted once counted)", async () => {
    const t = newTest();
    const c = await customer(t, "basic", "grace@example.com");
    await t.run(async (ctx) => {
      const hook = (over: Partial<Doc<"webhookEvents">>) =>
        ctx.db.insert("webhookEvents", { provider: "stripe", eventId: `evt_${Math.random()}`, type: "invoice.paid", receivedAt: Date.now(), outcome: "applied", ...over });
      await hook({ status: "applied", userId: c.userId, outcome: `invoice paid for ${c.email}` });
      await hook({ status: "applied", userId: c.userId });
      await hook({ status: "failed", outcome: "no account" });
      await hook({ provider: "telnyx", outcome: "stored: no identity has this number +15550001111" });
      await hook({ provider: "clerk", outcome: "email_updated" });
      await recordStepOutcomes(
        ctx,
        [{ name: "workspace_user", status: "running", updatedAt: 0 }, { name: "number_order", status: "running", updatedAt: 0 }],
        [{ name: "workspace_user", status: "done", updatedAt: 1 }, { name: "number_order", status: "failed", updatedAt: 1 }],
      );
      await recordStepOutcomes(ctx, [{ name: "mailbox", status: "running", updatedAt: 0 }], [{ name: "mailbox", status: "done", updatedAt: 1 }]);
    });
    // Webhook rows are read by creation time, which the fake clock does not set: fold after the lag.
    vi.setSystemTime(Date.now() + 24 * 3_600_000);
    const run = await t.mutation(internal.ops.metrics.fold, {});
    expect(run).toMatchObject({ webhookEvents: 5, stepOutcomes: 3 });
    expect(await t.run(async (ctx) => (await ctx.db.query("identityStepOutcomes").collect()).length)).toBe(0);
    expect((await t.mutation(internal.ops.metrics.fold, {})).webhookEvents).toBe(0);

    const { text, families: f } = await scraped(t);
    expect(sampleValue(f, "pdx_webhook_events_total", { source: "stripe", outcome: "applied" })).toBe(2);
    expect(sampleValue(f, "pdx_webhook_events_total", { source: "stripe", outcome: "failed" })).toBe(1);
    expect(sampleValue(f, "pdx_webhook_events_total", { source: "telnyx", outcome: "stored" })).toBe(1);
    expect(sampleValue(f, "pdx_webhook_events_total", { source: "clerk", outcome: "email_updated" })).toBe(1);
    expect(sampleValue(f, "pdx_identity_steps_total", { step: "workspace_user", outcome: "done" })).toBe(1);
    expect(sampleValue(f, "pdx_identity_steps_total", { step: "mailbox", outcome: "done" })).toBe(1);
    expect(sampleValue(f, "pdx_identity_steps_total", { step: "number_order", outcome: "failed" })).toBe(1);
    expect(text).not.toContain(c.email);
    expect(text).not.toContain("+15550001111");
    expect(text).not.toContain(c.userId);
  });

  test("gauges: breaker states, outbox depth with its cap, workpool runs the outbox references", async () => {
    const t = newTest();
    const now = Date.now();
    const breaker = (provider: string, state: Doc<"providerBreakers">["state"]) => ({
      provider, state, changedAt: now, openedAt: state === "closed" ? null : now, reopenAt: state === "open" ? now + 30_000 : null,
      coolDownMs: 30_000, requests: 10, failures: 5, lastError: null, transitions: [],
    });
    const mail = (status: "queued" | "sending", n: number, workId?: string) => ({
      to: `person${n}@example.com`, template: "welcome" as const, category: "transactional" as const, dedupeKey: `m:${status}:${n}`,
      status, sendAfter: now - n, queuedAt: now - n, ...(workId ? { workId } : {}),
    });
    await t.run(async (ctx) => {
      await ctx.db.insert("providerBreakers", breaker("openai", "closed"));
      await ctx.db.insert("providerBreakers", breaker("anthropic", "open"));
      await ctx.db.insert("providerBreakers", breaker("gemini", "half_open"));
      for (let i = 0; i < 3; i++) await ctx.db.insert("emailOutbox", mail("queued", i));
      for (let i = 0; i < OUTBOX_DEPTH_CAP.sending + 1; i++) await ctx.db.insert("emailOutbox", mail("sending", i));
      // Two sends in the workpool (the fake clock holds them pending), one already gone from it.
      const workIds = [
        await providerPool.enqueueMutation(ctx, internal.ops.readiness.beat, {}),
        await providerPool.enqueueMutation(ctx, internal.ops.readiness.beat, {}),
      ];
      for (const [i, workId] of workIds.entries()) await ctx.db.insert("emailOutbox", mail("sending", 1_000 + i, workId));
    });
    const { text, families: f } = await scraped(t);
    expect(sampleValue(f, "pdx_provider_breaker_state", { provider: "openai" })).toBe(0);
    expect(sampleValue(f, "pdx_provider_breaker_state", { provider: "gemini" })).toBe(1);
    expect(sampleValue(f, "pdx_provider_breaker_state", { provider: "anthropic" })).toBe(2);
    expect(sampleValue(f, "pdx_email_outbox_depth", { status: "queued" })).toBe(3);
    expect(sampleValue(f, "pdx_email_outbox_depth_capped", { status: "queued" })).toBe(0);
    expect(sampleValue(f, "pdx_email_outbox_depth", { status: "sending" })).toBe(OUTBOX_DEPTH_CAP.sending);
    expect(sampleValue(f, "pdx_email_outbox_depth_capped", { status: "sending" })).toBe(1);
    const pool = (state: string) => sampleValue(f, "pdx_workpool_depth", { pool: "providerPool", state }) ?? 0;
    expect(pool("pending") + pool("running")).toBe(2);
    expect(sampleValue(f, "pdx_workpool_depth", { pool: "identityPool", state: "pending" })).toBe(0);
    expect(text).not.toContain("@example.com");
  });
});
