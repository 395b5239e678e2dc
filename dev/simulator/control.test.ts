// Run-time knobs: failure injection, stream cuts, latency, rate limits and the request log,
// driven through the /_sim control endpoints the way other test suites will drive them.
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startSimulator, type RunningSimulator } from "./server.ts";

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, useEnv: false });
});

afterAll(async () => {
  await sim.close();
});

beforeEach(async () => {
  await control("/_sim/reset");
});

async function control(path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${sim.url}${path}`, {
    method: body === undefined && path === "/_sim/requests" ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

function sdk(maxRetries = 0) {
  return new OpenAI({ apiKey: "sk-sim-test", baseURL: `${sim.url}/v1`, maxRetries });
}

const chat = { model: "gpt-4o-mini", messages: [{ role: "user" as const, content: "ping" }] };

describe("failure injection", () => {
  it("fails the next K requests with an OpenAI error body, then recovers", async () => {
    await control("/_sim/config", { fail: { status: 503, count: 2, shouldRetry: false } });
    const first = await sdk(2).chat.completions.create(chat).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(OpenAI.InternalServerError);
    expect(first).toMatchObject({ status: 503, type: "server_error" });
    // x-should-retry: false kept the SDK (maxRetries 2) from retrying: one request upstream.
    expect(sim.requests()).toHaveLength(1);
    expect((first as InstanceType<typeof OpenAI.APIError>).headers?.get("x-should-retry")).toBe("false");

    await expect(sdk().chat.completions.create(chat)).rejects.toMatchObject({ status: 503 });
    await expect(sdk().chat.completions.create(chat)).resolves.toMatchObject({ object: "chat.completion" });
    const config = await fetch(`${sim.url}/_sim/config`).then((r) => r.json());
    expect(config.fail).toBeNull();
  });

  it("lets the SDK retry an injected 503 and succeed", async () => {
    await control("/_sim/config", { fail: { status: 503, count: 1 } });
    await expect(sdk(1).chat.completions.create(chat)).resolves.toMatchObject({ object: "chat.completion" });
    expect(sim.requests().map((r) => r.status)).toEqual([503, 200]);
  });

  it("fails with a probability from a seeded generator, reproducibly", async () => {
    const outcomes = async () => {
      await control("/_sim/reset");
      await control("/_sim/config", { seed: 42, fail: { status: 500, probability: 0.5 } });
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) {
        const r = await fetch(`${sim.url}/v1/models`, { headers: { authorization: "Bearer sk-sim-test" } });
        statuses.push(r.status);
      }
      return statuses;
    };
    const first = await outcomes();
    expect(first).toContain(500);
    expect(first).toContain(200);
    expect(await outcomes()).toEqual(first);
  });

  it("injects 429 with retry-after and a custom code, limited to a path prefix", async () => {
    await control("/_sim/config", { fail: { status: 429, pathPrefix: "/v1/embeddings", retryAfterSeconds: 7, code: "insufficient_quota", message: "You exceeded your current quota." } });
    await expect(sdk().models.list()).resolves.toBeDefined();
    const error = await sdk().embeddings.create({ model: "text-embedding-3-small", input: "x" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error).toMatchObject({ code: "insufficient_quota", message: expect.stringContaining("exceeded your current quota") });
    expect((error as InstanceType<typeof OpenAI.APIError>).headers?.get("retry-after")).toBe("7");
  });

  it("fails a single request through the x-sim-fail header", async () => {
    const response = await fetch(`${sim.url}/v1/models`, { headers: { authorization: "Bearer sk-sim-test", "x-sim-fail": "502" } });
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ error: { type: "server_error" } });
  });
});

describe("stream cuts", () => {
  it("closes the socket after N chunks without finish, usage or [DONE]", async () => {
    await control("/_sim/config", { streamCut: { afterChunks: 3, count: 1 } });
    const stream = await sdk().chat.completions.create({ ...chat, stream: true, stream_options: { include_usage: true } });
    const received: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    const consumed = (async () => {
      for await (const chunk of stream) received.push(chunk);
    })();
    await expect(consumed).rejects.toThrow();
    expect(received.length).toBeLessThanOrEqual(3);
    expect(received.some((c) => c.usage)).toBe(false);
    expect(received.some((c) => c.choices[0]?.finish_reason)).toBe(false);
    expect(sim.requests()[0].outcome).toBe("cut");

    // count: 1 was consumed; the next stream completes.
    const next = await sdk().chat.completions.create({ ...chat, stream: true, stream_options: { include_usage: true } });
    let usage: unknown = null;
    for await (const chunk of next) usage = chunk.usage ?? usage;
    expect(usage).not.toBeNull();
  });

  it("cuts a single stream through the x-sim-cut-after-chunks header", async () => {
    const response = await fetch(`${sim.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer sk-sim-test", "content-type": "application/json", "x-sim-cut-after-chunks": "2" },
      body: JSON.stringify({ ...chat, stream: true }),
    });
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
  });
});

describe("latency and pacing", () => {
  it("waits at least latencyMs before answering", async () => {
    await control("/_sim/config", { latencyMs: 150 });
    const started = performance.now();
    await sdk().models.list();
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
  });

  it("slows only the next K requests matching a path prefix", async () => {
    await control("/_sim/config", { slow: { latencyMs: 600, count: 1, pathPrefix: "/v1/chat" } });
    let started = performance.now();
    await sdk().models.list();
    expect(performance.now() - started).toBeLessThan(400);
    started = performance.now();
    await sdk().chat.completions.create(chat);
    expect(performance.now() - started).toBeGreaterThanOrEqual(595);
    started = performance.now();
    await sdk().chat.completions.create(chat);
    expect(performance.now() - started).toBeLessThan(400);
    expect((await control("/_sim/config", {})).json.slow).toBeNull();
  });

  it("spaces stream chunks by tokenIntervalMs", async () => {
    await control("/_sim/config", { tokenIntervalMs: 20, completionTokens: 5 });
    const started = performance.now();
    const stream = await sdk().chat.completions.create({ ...chat, stream: true });
    for await (const _ of stream) void _;
    expect(performance.now() - started).toBeGreaterThanOrEqual(5 * 20 - 5);
  });
});

describe("rate limits", () => {
  it("answers 429 with retry-after once the per-minute request budget is spent", async () => {
    await control("/_sim/config", { rateLimit: { requestsPerMinute: 2 } });
    const ok = await sdk().models.list().withResponse();
    expect(ok.response.headers.get("x-ratelimit-remaining-requests")).toBe("1");
    await sdk().models.list();
    const error = await sdk().models.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(Number((error as InstanceType<typeof OpenAI.APIError>).headers?.get("retry-after"))).toBeGreaterThan(0);
  });
});

describe("request log and config endpoint", () => {
  it("records what upstream received, without credentials", async () => {
    await sdk().chat.completions.create({ ...chat, stream: true, stream_options: { include_usage: true } }).then(async (s) => {
      for await (const _ of s) void _;
    });
    const { json } = await control("/_sim/requests");
    const [entry] = json.requests as { path: string; headers: Record<string, string>; body: { stream_options: unknown }; status: number; outcome: string }[];
    expect(entry.path).toBe("/v1/chat/completions");
    expect(entry.body.stream_options).toEqual({ include_usage: true });
    expect(entry.headers.authorization).toBeUndefined();
    expect(entry.headers["content-type"]).toBe("application/json");
    expect(entry).toMatchObject({ status: 200, outcome: "completed" });
  });

  it("keeps only the last requestLogSize entries and filters by path", async () => {
    await control("/_sim/config", { requestLogSize: 3 });
    for (let i = 0; i < 5; i++) await sdk().models.list();
    await sdk().embeddings.create({ model: "text-embedding-3-small", input: "x" });
    const all = sim.requests();
    expect(all).toHaveLength(3);
    expect(all.at(-1)?.path).toBe("/v1/embeddings");
    const filtered = await fetch(`${sim.url}/_sim/requests?path=/v1/models&limit=1`).then((r) => r.json());
    expect(filtered.requests).toHaveLength(1);
    expect(filtered.requests[0].path).toBe("/v1/models");
  });

  it("rejects unknown keys and invalid values with a 400 that says why", async () => {
    const unknown = await control("/_sim/config", { latency: 5 });
    expect(unknown.status).toBe(400);
    expect(String(unknown.json.error)).toContain('unknown config key "latency"');
    const invalid = await control("/_sim/config", { fail: { status: 200 } });
    expect(invalid.status).toBe(400);
    expect(String(invalid.json.error)).toContain("fail.status");
  });

  it("logs form-encoded bodies decoded", async () => {
    await fetch(`${sim.url}/v1/customers`, {
      method: "POST",
      headers: { authorization: "Bearer sk_test_x", "content-type": "application/x-www-form-urlencoded" },
      body: "email=a%40b.test&metadata[userId]=u1",
    });
    expect(sim.requests()[0].body).toEqual({ email: "a@b.test", metadata: { userId: "u1" } });
  });

  it("answers unknown paths in the envelope of the provider family", async () => {
    const openai = await fetch(`${sim.url}/v1/nope`, { method: "POST" });
    expect(await openai.json()).toEqual({ error: { message: "Invalid URL (POST /v1/nope)", type: "invalid_request_error", param: null, code: null } });
    const telnyx = await fetch(`${sim.url}/v2/nope`);
    expect(await telnyx.json()).toMatchObject({ errors: [{ code: "10005" }] });
    const google = await fetch(`${sim.url}/gmail/v1/nope`);
    expect(await google.json()).toMatchObject({ error: { code: 404, status: "NOT_FOUND" } });
  });

  it("serves an index page of the control surface", async () => {
    const page = await fetch(`${sim.url}/_sim`).then((r) => r.text());
    expect(page).toContain("/_sim/inbox");
    expect(sim.requests()).toEqual([]);
  });

  it("points every provider's webhooks at the app's routes", () => {
    const config = sim.connectWebhooks("http://127.0.0.1:3211/");
    expect(config.stripe.webhookUrl).toBe("http://127.0.0.1:3211/webhooks/stripe");
    expect(config.polar.webhookUrl).toBe("http://127.0.0.1:3211/webhooks/polar");
    expect(config.telnyx.webhookUrl).toBe("http://127.0.0.1:3211/webhooks/telnyx");
  });

  it("reset restores the startup config and clears the log", async () => {
    await control("/_sim/config", { latencyMs: 5, fail: { status: 500 } });
    await sdk().models.list().catch(() => undefined);
    const { json } = await control("/_sim/reset");
    expect(json).toMatchObject({ latencyMs: 0, fail: null });
    expect(sim.requests()).toEqual([]);
  });
});
