// Retries, circuit breakers and failover in front of the provider, driven by the simulator's
// failure knob and seen through the real `openai` SDK (docs/proxy.md, "Retries, breakers,
// failover").
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import { resetProviderHealth } from "../../convex/proxy/providerHealth";
import { signIn } from "../../convex/test.setup";
import { startSimulator, type RunningSimulator } from "../../dev/simulator/server";
import { account, clientFor, eventsOf, holdsOf, useUpstream, type TestConvex } from "./harness";

let sim: RunningSimulator;
let t: TestConvex;

// Small thresholds so a test can trip a breaker in a handful of requests.
const ENV = {
  PROXY_BREAKER_MIN_REQUESTS: "4",
  PROXY_BREAKER_FAILURE_RATE: "0.5",
  PROXY_BREAKER_COOLDOWN_MS: "1000",
  PROXY_RETRY_BASE_DELAY_MS: "5",
};

useUpstream({ sim: (s) => (sim = s), t: (x) => (t = x) }, () => {
  Object.assign(process.env, ENV);
  resetProviderHealth();
});
afterEach(() => {
  for (const name of Object.keys(ENV)) delete process.env[name];
});

// The first request loads the backend's modules; on a busy machine that alone can take seconds.
const SLOW_MACHINE_MS = 30_000;

const messages = [{ role: "user" as const, content: "Is the provider up?" }];
const chats = (s: RunningSimulator = sim) => s.requests({ pathPrefix: "/v1/chat/completions" });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function breakerRows() {
  const { as } = await signIn(t, `support-${Math.random()}@example.com`, "support");
  return await as.query(api.proxy.breakers.list, {});
}

describe("retries before the first byte", { timeout: SLOW_MACHINE_MS }, () => {
  it("retries a transient 5xx: the client sees 200 and is charged once", async () => {
    const a = await account(t, "retry@example.com");
    sim.configure({ fail: { status: 500, count: 2 } });
    const reply = await clientFor(t, a.secret).chat.completions.create({ model: "gpt-4o-mini", messages });
    expect(reply.choices[0].message.content).toBeTruthy();
    expect(chats().map((r) => r.status)).toEqual([500, 500, 200]);
    const events = await eventsOf(t, a.userId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ status: "ok", httpStatus: 200, provider: "openai", tokensOut: reply.usage?.completion_tokens });
    expect(events[0].costMicros).toBeGreaterThan(0);
    expect(await holdsOf(t, a.userId)).toEqual([]);
    // Three attempts, two failures: under the breaker's rate, and closed states are never written.
    expect(await breakerRows()).toEqual([]);
  });

  it("waits out a 429's retry-after before retrying", async () => {
    const a = await account(t, "ratelimited@example.com");
    sim.configure({ fail: { status: 429, count: 1, retryAfterSeconds: 1 } });
    const started = Date.now();
    await clientFor(t, a.secret).chat.completions.create({ model: "gpt-4o-mini", messages });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    const [first, second] = chats();
    expect(first.status).toBe(429);
    expect(second.status).toBe(200);
    expect(second.at - first.at).toBeGreaterThanOrEqual(1_000);
  });

  it("does not wait out a long retry-after: 503 at once, with the provider's retry-after for the client", async () => {
    const a = await account(t, "longwait@example.com");
    sim.configure({ fail: { status: 429, count: 1, retryAfterSeconds: 60 } });
    const res = await t.fetch("/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${a.secret}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("60");
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("upstream_overloaded");
    expect(chats()).toHaveLength(1);
  });

  it("retries a stream whose headers did not come within the first-byte timeout", async () => {
    process.env.PROXY_FIRST_BYTE_TIMEOUT_MS = "200";
    try {
      const a = await account(t, "stalled@example.com");
      sim.configure({ slow: { latencyMs: 1_000, count: 1 } });
      const started = Date.now();
      const stream = await clientFor(t, a.secret).chat.completions.create({ model: "gpt-4o-mini", messages, stream: true });
      let text = "";
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
      expect(text).toBeTruthy();
      // The stalled attempt was abandoned at 200 ms, not waited out.
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(chats()).toHaveLength(2);
      const events = await eventsOf(t, a.userId);
      expect(events.map((e) => [e.status, e.httpStatus])).toEqual([["ok", 200]]);
    } finally {
      delete process.env.PROXY_FIRST_BYTE_TIMEOUT_MS;
    }
  });

  it("gives a JSON chat, whose headers come with the whole reply, the full deadline", async () => {
    process.env.PROXY_FIRST_BYTE_TIMEOUT_MS = "200";
    try {
      const a = await account(t, "patient@example.com");
      sim.configure({ slow: { latencyMs: 500, count: 1 } });
      await clientFor(t, a.secret).chat.completions.create({ model: "gpt-4o-mini", messages });
      expect(chats()).toHaveLength(1);
    } finally {
      delete process.env.PROXY_FIRST_BYTE_TIMEOUT_MS;
    }
  });

  it("neither retries nor counts the caller's own 4xx", async () => {
    const a = await account(t, "bad@example.com");
    const client = clientFor(t, a.secret);
    sim.configure({ fail: { status: 400, message: "Invalid 'temperature'.", code: "invalid_value" } });
    // More than the breaker's minimum: had they counted as failures, it would have opened.
    for (let i = 0; i < 6; i++) {
      await expect(client.chat.completions.create({ model: "gpt-4o-mini", messages })).rejects.toMatchObject({
        status: 400,
        code: "invalid_value",
      });
    }
    expect(chats()).toHaveLength(6);
    expect(await breakerRows()).toEqual([]);
    // And the provider is still used at once when the caller fixes the request.
    sim.configure({ fail: null });
    await client.chat.completions.create({ model: "gpt-4o-mini", messages });
    expect(chats()).toHaveLength(7);
  });
});

describe("circuit breaker", { timeout: SLOW_MACHINE_MS }, () => {
  it("opens on failures, answers 503 without calling the provider, probes after the cool-down, and closes", async () => {
    const a = await account(t, "breaker@example.com", { plan: "pro" });
    const client = clientFor(t, a.secret);
    sim.configure({ fail: { status: 503 } });

    // Three attempts fail, then the fourth failure in the window opens the breaker mid-retry.
    await expect(client.chat.completions.create({ model: "gpt-4o-mini", messages })).rejects.toMatchObject({ status: 503 });
    await expect(client.chat.completions.create({ model: "gpt-4o-mini", messages })).rejects.toMatchObject({ status: 503 });
    expect(chats()).toHaveLength(4);
    let [row] = await breakerRows();
    expect(row).toMatchObject({ provider: "openai", state: "open", requests: 4, failures: 4, failureRate: 1, lastError: "HTTP 503" });
    expect(row.reopenAt! - row.openedAt!).toBe(1_000);
    expect(row.transitions.map((x) => `${x.from}->${x.to}`)).toEqual(["closed->open"]);

    // Open: refused at once with OpenAI's error shape and retry-after; nothing sent upstream.
    const res = await t.fetch("/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${a.secret}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(await res.json()).toEqual({
      error: { message: expect.stringContaining("openai"), type: "service_unavailable", param: null, code: "upstream_circuit_open" },
    });
    expect(chats()).toHaveLength(4);

    // After the cool-down one probe goes; it fails, so the breaker re-opens for twice as long.
    await sleep(1_050);
    await expect(client.chat.completions.create({ model: "gpt-4o-mini", messages })).rejects.toMatchObject({ status: 503 });
    expect(chats()).toHaveLength(5);
    [row] = await breakerRows();
    expect(row).toMatchObject({ state: "open", coolDownMs: 2_000, requests: 1, failures: 1 });

    // The provider recovers; the next probe succeeds and closes the breaker.
    sim.configure({ fail: null });
    await expect(client.chat.completions.create({ model: "gpt-4o-mini", messages })).rejects.toMatchObject({
      status: 503,
      code: "upstream_circuit_open",
    });
    await sleep(2_050);
    const reply = await client.chat.completions.create({ model: "gpt-4o-mini", messages });
    expect(reply.choices[0].message.content).toBeTruthy();
    [row] = await breakerRows();
    expect(row).toMatchObject({ state: "closed", openedAt: null, reopenAt: null, coolDownMs: 1_000 });
    expect(row.transitions.map((x) => `${x.from}->${x.to}`)).toEqual([
      "half_open->closed",
      "open->half_open",
      "half_open->open",
      "open->half_open",
      "closed->open",
    ]);

    // Every request settled once: failures at no cost, the success billed.
    const events = await eventsOf(t, a.userId);
    expect(events.map((e) => [e.status, e.httpStatus, e.costMicros > 0])).toEqual([
      ["upstream_error", 503, false],
      ["upstream_error", 503, false],
      ["upstream_error", 503, false],
      ["upstream_error", 503, false],
      ["upstream_error", 503, false],
      ["ok", 200, true],
    ]);
    expect(await holdsOf(t, a.userId)).toEqual([]);
  });

  it("honours a breaker another process opened, as soon as it syncs", async () => {
    const a = await account(t, "elsewhere@example.com");
    const now = Date.now();
    await t.run((ctx) =>
      ctx.db.insert("providerBreakers", {
        provider: "openai",
        state: "open",
        changedAt: now,
        openedAt: now,
        reopenAt: now + 5_000,
        coolDownMs: 5_000,
        requests: 20,
        failures: 20,
        lastError: "HTTP 500",
        transitions: [],
      }),
    );
    await expect(clientFor(t, a.secret).chat.completions.create({ model: "gpt-4o-mini", messages })).rejects.toMatchObject({
      status: 503,
      code: "upstream_circuit_open",
    });
    expect(chats()).toHaveLength(0);
  });

  it("lets support see the breakers and nobody else", async () => {
    const { as: customer } = await signIn(t, "customer@example.com");
    await expect(customer.query(api.proxy.breakers.list, {})).rejects.toThrow();
  });
});

describe("failover", { timeout: SLOW_MACHINE_MS }, () => {
  let second: RunningSimulator;
  beforeAll(async () => {
    second = await startSimulator({ port: 0, useEnv: false });
  });
  afterAll(async () => {
    await second.close();
  });
  beforeEach(() => {
    second.reset();
    process.env.OPENAI_FALLBACK_BASE_URL = `${second.url}/v1`;
    process.env.OPENAI_FALLBACK_API_KEY = "sk-sim-fallback";
  });
  afterEach(() => {
    delete process.env.OPENAI_FALLBACK_BASE_URL;
    delete process.env.OPENAI_FALLBACK_API_KEY;
  });

  it("fails over when retries run out, and bills the deployment that served", async () => {
    const a = await account(t, "failover@example.com");
    sim.configure({ fail: { status: 500 } });
    const reply = await clientFor(t, a.secret).chat.completions.create({ model: "gpt-4o-mini", messages });
    expect(reply.choices[0].message.content).toBeTruthy();
    expect(chats()).toHaveLength(3);
    expect(chats(second).map((r) => r.status)).toEqual([200]);
    const [event] = await eventsOf(t, a.userId);
    expect(event).toMatchObject({ status: "ok", httpStatus: 200, provider: "openai-fallback", model: "gpt-4o-mini" });
    expect(event.costMicros).toBeGreaterThan(0);
  });

  it("goes straight to the fallback while the primary's breaker is open", async () => {
    const a = await account(t, "straight@example.com", { plan: "pro" });
    const client = clientFor(t, a.secret);
    sim.configure({ fail: { status: 502 } });
    await client.chat.completions.create({ model: "gpt-4o-mini", messages }); // 3 failures, then the fallback
    await client.chat.completions.create({ model: "gpt-4o-mini", messages }); // the 4th opens it
    expect(chats()).toHaveLength(4);
    await client.chat.completions.create({ model: "gpt-4o-mini", messages });
    expect(chats()).toHaveLength(4);
    expect(chats(second)).toHaveLength(3);
    const events = await eventsOf(t, a.userId);
    expect(events.map((e) => e.provider)).toEqual(["openai-fallback", "openai-fallback", "openai-fallback"]);
    expect((await breakerRows()).map((r) => [r.provider, r.state])).toEqual([["openai", "open"]]);
  });

  it("does not fail over a client error", async () => {
    const a = await account(t, "noclientfailover@example.com");
    sim.configure({ fail: { status: 422, count: 1 } });
    await expect(clientFor(t, a.secret).chat.completions.create({ model: "gpt-4o-mini", messages })).rejects.toMatchObject({ status: 422 });
    expect(chats(second)).toHaveLength(0);
  });
});
