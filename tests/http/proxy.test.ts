// The proxy over HTTP with the real `openai` SDK, the provider simulator as upstream.
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { chatUsage, embeddingInputTokens, planCompletion } from "../../dev/simulator/tokens";
import type { RunningSimulator } from "../../dev/simulator/server";
import type { FailureRule } from "../../dev/simulator/config";
import { estimateChatPromptTokens } from "../../convex/model/proxy/estimate";
import { PLANS } from "../../convex/model/plans";
import { PRICE_VERSION, speechCostMicros, tokenCostMicros } from "../../convex/model/pricing";
import { api, internal } from "../../convex/_generated/api";
import {
  account,
  clientFor,
  eventsOf,
  eventually,
  holdsOf,
  pathOf,
  useUpstream,
  type TestConvex,
  usageEvent,
} from "./harness";

let sim: RunningSimulator;
let t: TestConvex;

useUpstream({ sim: (s) => (sim = s), t: (x) => (t = x) });

const messages = [
  { role: "system" as const, content: "You are terse." },
  { role: "user" as const, content: "Which plan should a small team pick?" },
];

/**
 * Fails every request (the proxy retries a transient failure, so failing one would not show);
 * the simulator fills the rule's other fields with defaults.
 */
const failAlways = (status: number) => ({ status }) as FailureRule;

function upstreamChats() {
  return sim.requests({ pathPrefix: "/v1/chat/completions" });
}

describe("chat completions (JSON)", () => {
  it("answers through the SDK and bills the provider's exact usage at the price book", async () => {
    const a = await account(t, "json@example.com");
    const client = clientFor(t, a.secret, { defaultHeaders: { "x-dex-instance": "dex-home-1" } });
    const { data, response } = await client.chat.completions.create({ model: "gpt-4o-mini", messages }).withResponse();

    // Upstream was told the plan's default max, so the output cannot exceed the hold.
    const max = PLANS.trial.limits.defaultMaxOutputTokens;
    const sent = upstreamChats()[0].body as Record<string, unknown>;
    expect(sent.max_completion_tokens).toBe(max);
    const usage = chatUsage({ model: "gpt-4o-mini", messages, max_completion_tokens: max });
    expect(data.usage).toEqual(usage);
    expect(data.choices[0].message.content).toBe(planCompletion({ model: "gpt-4o-mini", messages }).text);
    expect(response.headers.get("x-ratelimit-limit-requests")).toBe(String(PLANS.trial.limits.requestsPerMinute));
    expect(response.headers.get("x-ratelimit-remaining-requests")).toBe(String(PLANS.trial.limits.requestsPerMinute - 1));

    const [event] = await eventsOf(t, a.userId);
    expect(event).toMatchObject({
      kind: "chat",
      model: "gpt-4o-mini",
      tokensIn: usage.prompt_tokens,
      tokensOut: usage.completion_tokens,
      characters: 0,
      costMicros: tokenCostMicros("gpt-4o-mini", { tokensIn: usage.prompt_tokens, tokensOut: usage.completion_tokens }),
      priceVersion: PRICE_VERSION,
      usageSource: "provider",
      status: "ok",
      httpStatus: 200,
      apiKeyId: a.keyId,
      instanceId: "dex-home-1",
      requestId: response.headers.get("x-request-id"),
    });
    expect(event.costMicros).toBeGreaterThan(0);
    expect(await holdsOf(t, a.userId)).toEqual([]);
  });

  it("keeps the caller's max_tokens and holds prompt bound + max", async () => {
    const a = await account(t, "max@example.com");
    const client = clientFor(t, a.secret);
    const res = await client.chat.completions.create({ model: "gpt-4o-mini", messages, max_tokens: 5 });
    expect(res.usage?.completion_tokens).toBe(5);
    const sent = upstreamChats()[0].body as Record<string, unknown>;
    expect(sent.max_tokens).toBe(5);
    expect(sent.max_completion_tokens).toBeUndefined();

    // Both sent: the larger legacy limit is clamped to the held one.
    await client.chat.completions.create({ model: "gpt-4o-mini", messages, max_completion_tokens: 4, max_tokens: 50 });
    const both = upstreamChats()[1].body as Record<string, unknown>;
    expect([both.max_completion_tokens, both.max_tokens]).toEqual([4, 4]);
  });
});

describe("signup", () => {
  it("hands out a first key that works through the SDK right away", async () => {
    const newcomer = t
      .withRequestMetadata({ ip: "198.51.100.20", userAgent: "vitest" })
      .withIdentity({ subject: "new|1", issuer: "https://issuer", email: "newcomer@example.com" });
    const signup = await newcomer.mutation(api.signup.account.ensure, {});
    if (signup.status !== "created") throw new Error(`signup was ${signup.status}`);
    const reply = await clientFor(t, signup.firstKey.secret).chat.completions.create({ model: "gpt-4o-mini", messages });
    expect(reply.choices[0].message.content).toBeTruthy();
    expect(await eventsOf(t, signup.userId)).toHaveLength(1);
  });
});

describe("chat completions (SSE)", () => {
  it("streams with include_usage forced upstream and hidden from a client that did not ask", async () => {
    const a = await account(t, "stream@example.com");
    const client = clientFor(t, a.secret);
    const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages, stream: true });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);

    const plan = planCompletion({ model: "gpt-4o-mini", messages });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe(plan.text);
    expect(chunks.every((c) => c.choices.length > 0)).toBe(true);
    expect(chunks.some((c) => "usage" in c)).toBe(false);
    const sent = upstreamChats()[0].body as { stream_options?: { include_usage?: boolean } };
    expect(sent.stream_options?.include_usage).toBe(true);

    const usage = chatUsage({ model: "gpt-4o-mini", messages });
    const [event] = await eventsOf(t, a.userId);
    expect(event).toMatchObject({
      tokensIn: usage.prompt_tokens,
      tokensOut: usage.completion_tokens,
      costMicros: tokenCostMicros("gpt-4o-mini", { tokensIn: usage.prompt_tokens, tokensOut: usage.completion_tokens }),
      usageSource: "provider",
      status: "ok",
    });
  });

  it("passes the usage chunk to a client that asked for it", async () => {
    const a = await account(t, "usage-chunk@example.com");
    const stream = await clientFor(t, a.secret).chat.completions.create({
      model: "gpt-4o-mini",
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    const last = chunks[chunks.length - 1];
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual(chatUsage({ model: "gpt-4o-mini", messages }));
  });

  it("settles a stream the client abandoned at the upstream's count", async () => {
    const a = await account(t, "abandon@example.com");
    sim.configure({ tokenIntervalMs: 15, completionTokens: 40 });
    const stream = await clientFor(t, a.secret).chat.completions.create({ model: "gpt-4o-mini", messages, stream: true });
    let seen = 0;
    for await (const _ of stream) {
      if (++seen === 3) break; // leaving the loop cancels the response body
    }
    const [event] = await eventually(async () => {
      const events = await eventsOf(t, a.userId);
      return events.length > 0 ? events : null;
    });
    const usage = chatUsage({ model: "gpt-4o-mini", messages }, { completionTokens: 40 });
    expect(event).toMatchObject({
      tokensIn: usage.prompt_tokens,
      tokensOut: 40,
      usageSource: "provider",
      status: "client_abandoned",
      costMicros: tokenCostMicros("gpt-4o-mini", { tokensIn: usage.prompt_tokens, tokensOut: 40 }),
    });
    expect(await holdsOf(t, a.userId)).toEqual([]);
  });

  it("settles an upstream cut by estimate: prompt bound plus one token per delta", async () => {
    const a = await account(t, "cut@example.com");
    // Event 1 is the role chunk (empty content); events 2..6 carry one word each.
    // A small interval lets the delivered events reach us before the connection resets.
    sim.configure({ streamCut: { afterChunks: 6, count: 1 }, tokenIntervalMs: 5 });
    const stream = await clientFor(t, a.secret).chat.completions.create({ model: "gpt-4o-mini", messages, stream: true });
    const pieces: string[] = [];
    await expect(async () => {
      for await (const c of stream) {
        const piece = c.choices[0]?.delta.content;
        if (piece) pieces.push(piece);
      }
    }).rejects.toThrow(/ended early/);
    // What was delivered is a prefix of the reply; every delivered word is one billed token.
    const reply = planCompletion({ model: "gpt-4o-mini", messages }).pieces;
    expect(pieces.length).toBeGreaterThan(0);
    expect(pieces.length).toBeLessThan(reply.length);
    expect(pieces).toEqual(reply.slice(0, pieces.length));

    const promptBound = estimateChatPromptTokens({ messages });
    expect(promptBound).toBeGreaterThanOrEqual(chatUsage({ model: "gpt-4o-mini", messages }).prompt_tokens);
    const [event] = await eventsOf(t, a.userId);
    expect(event).toMatchObject({
      tokensIn: promptBound,
      tokensOut: pieces.length,
      usageSource: "estimate",
      status: "upstream_error",
      costMicros: tokenCostMicros("gpt-4o-mini", { tokensIn: promptBound, tokensOut: pieces.length }),
    });
    expect(await holdsOf(t, a.userId)).toEqual([]);
  });
});

describe("embeddings, speech and models", () => {
  it("embeds with the SDK's base64 default and bills the provider's count", async () => {
    const a = await account(t, "embed@example.com");
    const input = ["first text to embed", "second one"];
    const res = await clientFor(t, a.secret).embeddings.create({ model: "text-embedding-3-small", input });
    expect(res.data).toHaveLength(2);
    expect(res.data[0].embedding.length).toBeGreaterThan(10);
    const tokens = embeddingInputTokens(input).reduce((s, n) => s + n, 0);
    expect(res.usage.prompt_tokens).toBe(tokens);
    const [event] = await eventsOf(t, a.userId);
    expect(event).toMatchObject({
      kind: "embedding",
      tokensIn: tokens,
      tokensOut: 0,
      costMicros: tokenCostMicros("text-embedding-3-small", { tokensIn: tokens, tokensOut: 0 }),
    });
  });

  it("bills speech per character", async () => {
    const a = await account(t, "speech@example.com");
    const input = "Hello from Poindexter — ünïcode counts as characters.";
    const res = await clientFor(t, a.secret).audio.speech.create({ model: "tts-1", voice: "alloy", input });
    const audio = new Uint8Array(await res.arrayBuffer());
    expect(audio.length).toBeGreaterThan(100);
    const characters = [...input].length;
    const [event] = await eventsOf(t, a.userId);
    expect(event).toMatchObject({
      kind: "speech",
      characters,
      tokensIn: 0,
      tokensOut: 0,
      costMicros: speechCostMicros("tts-1", characters),
    });
    expect(event.costMicros).toBe(Math.ceil((characters * 15_000_000) / 1_000_000));
  });

  it("lists only the models the caller's plan may use", async () => {
    const trial = await account(t, "models-trial@example.com");
    const pro = await account(t, "models-pro@example.com", { plan: "pro" });
    const trialIds = (await clientFor(t, trial.secret).models.list()).data.map((m) => m.id);
    const proIds = (await clientFor(t, pro.secret).models.list()).data.map((m) => m.id);
    expect(trialIds.sort()).toEqual([...PLANS.trial.models].sort());
    expect(proIds.sort()).toEqual([...PLANS.pro.models].sort());
    expect(trialIds).not.toContain("gpt-4o");
    const one = await clientFor(t, pro.secret).models.retrieve("o4-mini");
    expect(one.id).toBe("o4-mini");
    await expect(clientFor(t, trial.secret).models.retrieve("o4-mini")).rejects.toMatchObject({ status: 404 });
  });
});

describe("errors in OpenAI's shape", () => {
  async function raw(path: string, init: RequestInit) {
    const res = await t.fetch(path, init);
    return { res, body: (await res.json()) as { error: { message: string; type: string; param: string | null; code: string | null } } };
  }
  const chatInit = (key: string, body: unknown): RequestInit => ({
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

  it("401 for a missing, unknown or revoked key", async () => {
    const a = await account(t, "auth@example.com");
    await expect(clientFor(t, "pk_live_" + "x".repeat(43)).chat.completions.create({ model: "gpt-4o-mini", messages }))
      .rejects.toMatchObject({ status: 401, code: "invalid_api_key" });
    const missing = await raw("/v1/chat/completions", { method: "POST", body: "{}" });
    expect(missing.res.status).toBe(401);
    expect(missing.body.error).toMatchObject({ type: "invalid_request_error", code: "invalid_api_key", param: null });
    await t.run(async (ctx) => ctx.db.patch(a.keyId, { revokedAt: Date.now() - 1 }));
    await expect(clientFor(t, a.secret).models.list()).rejects.toMatchObject({ status: 401 });
    expect(upstreamChats()).toHaveLength(0);
  });

  it("403 when the account state forbids use or the plan lacks the model", async () => {
    const suspended = await account(t, "suspended@example.com", { state: "suspended" });
    await expect(clientFor(t, suspended.secret).chat.completions.create({ model: "gpt-4o-mini", messages }))
      .rejects.toMatchObject({ status: 403, code: "account_inactive" });
    const trial = await account(t, "trial-4o@example.com");
    await expect(clientFor(t, trial.secret).chat.completions.create({ model: "gpt-4o", messages }))
      .rejects.toMatchObject({ status: 403, code: "model_not_in_plan", param: "model" });
    expect(upstreamChats()).toHaveLength(0);
  });

  it("404 for an unknown (unpriced) model, and nothing is recorded at zero cost", async () => {
    const a = await account(t, "unknown@example.com", { plan: "pro" });
    await expect(clientFor(t, a.secret).chat.completions.create({ model: "gpt-9-ultra", messages }))
      .rejects.toMatchObject({ status: 404, code: "model_not_found", param: "model" });
    expect(await eventsOf(t, a.userId)).toEqual([]);
    expect(upstreamChats()).toHaveLength(0);
  });

  it("400 for invalid JSON and missing fields, 413 for an oversized body", async () => {
    const a = await account(t, "bad@example.com");
    const invalid = await raw("/v1/chat/completions", chatInit(a.secret, "{not json"));
    expect(invalid.res.status).toBe(400);
    expect(invalid.body.error.type).toBe("invalid_request_error");
    const noMessages = await raw("/v1/chat/completions", chatInit(a.secret, { model: "gpt-4o-mini" }));
    expect(noMessages.res.status).toBe(400);
    expect(noMessages.body.error.param).toBe("messages");
    const noModel = await raw("/v1/chat/completions", chatInit(a.secret, { messages }));
    expect(noModel.body.error.param).toBe("model");
    const badMax = await raw("/v1/chat/completions", chatInit(a.secret, { model: "gpt-4o-mini", messages, max_tokens: -3 }));
    expect(badMax.res.status).toBe(400);
    const huge = await raw("/v1/chat/completions", chatInit(a.secret, { model: "gpt-4o-mini", messages: [{ role: "user", content: "x".repeat(5 * 1024 * 1024) }] }));
    expect(huge.res.status).toBe(413);
    const noInput = await raw("/v1/embeddings", chatInit(a.secret, { model: "text-embedding-3-small", input: [] }));
    expect(noInput.body.error.param).toBe("input");
    const longSpeech = await raw("/v1/audio/speech", chatInit(a.secret, { model: "tts-1", voice: "alloy", input: "y".repeat(4097) }));
    expect(longSpeech.res.status).toBe(400);
    expect(upstreamChats()).toHaveLength(0);
  });

  it("429 with retry-after and x-ratelimit headers when the quota is spent", async () => {
    const a = await account(t, "quota@example.com");
    // Earlier usage, recorded as the ledger records a settled request.
    await usageEvent(t, a.userId, { requestId: "req_seed", tokensIn: PLANS.trial.hardCapTokens - 500, tokensOut: 0, costMicros: 1 });
    const { res, body } = await raw("/v1/chat/completions", chatInit(a.secret, { model: "gpt-4o-mini", messages }));
    expect(res.status).toBe(429);
    expect(body.error).toMatchObject({ type: "insufficient_quota", code: "insufficient_quota" });
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(res.headers.get("x-should-retry")).toBe("false");
    expect(res.headers.get("x-ratelimit-limit-tokens")).toBe(String(PLANS.trial.limits.tokensPerMinute));
    expect(res.headers.get("x-ratelimit-remaining-requests")).not.toBeNull();
    // A request small enough for what is left still passes.
    const small = await clientFor(t, a.secret).chat.completions.create({
      model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], max_tokens: 10,
    });
    expect(small.usage?.completion_tokens).toBe(10);
  });

  it("429 rate_limit_exceeded past the plan's requests per minute", async () => {
    const a = await account(t, "rpm@example.com");
    const client = clientFor(t, a.secret);
    const rpm = PLANS.trial.limits.requestsPerMinute;
    for (let i = 0; i < rpm; i++) await client.embeddings.create({ model: "text-embedding-3-small", input: "x" });
    const { res, body } = await raw("/v1/embeddings", chatInit(a.secret, { model: "text-embedding-3-small", input: "x" }));
    expect(res.status).toBe(429);
    expect(body.error.code).toBe("rate_limit_exceeded");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(res.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(res.headers.get("x-ratelimit-reset-requests")).toMatch(/^\d+s$/);
  });

  it("502 and 503 for upstream trouble, with the hold released and nothing billed", async () => {
    const a = await account(t, "upstream@example.com");
    const client = clientFor(t, a.secret);
    sim.configure({ fail: failAlways(500) });
    await expect(client.chat.completions.create({ model: "gpt-4o-mini", messages })).rejects.toMatchObject({ status: 502 });
    sim.configure({ fail: failAlways(503) });
    await expect(client.chat.completions.create({ model: "gpt-4o-mini", messages })).rejects.toMatchObject({ status: 503 });
    const events = await eventsOf(t, a.userId);
    expect(events.map((e) => [e.status, e.httpStatus, e.costMicros])).toEqual([
      ["upstream_error", 502, 0],
      ["upstream_error", 503, 0],
    ]);
    expect(await holdsOf(t, a.userId)).toEqual([]);
    const saved = process.env.OPENAI_BASE_URL;
    process.env.OPENAI_BASE_URL = "http://127.0.0.1:9/v1";
    try {
      await expect(client.chat.completions.create({ model: "gpt-4o-mini", messages })).rejects.toMatchObject({ status: 502 });
    } finally {
      process.env.OPENAI_BASE_URL = saved;
    }
  });

  it("answers CORS preflights", async () => {
    const res = await t.fetch("/v1/chat/completions", {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-headers": "authorization, content-type" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-headers")).toContain("authorization");
  });

  it("answers unknown /v1 paths with OpenAI's JSON 404, and the SDK surfaces it", async () => {
    for (const [method, path] of [["GET", "/v1/nope"], ["POST", "/v1/chat/complete"], ["DELETE", "/v1/models"], ["PUT", "/v1/usage"]]) {
      const res = await t.fetch(path, { method });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.headers.get("content-type")).toContain("application/json");
      expect(await res.json()).toEqual({
        error: { message: expect.stringContaining(`${method} ${path}`), type: "invalid_request_error", param: null, code: "unknown_url" },
      });
    }
    const { secret } = await account(t, "unknown-path@example.com");
    await expect(clientFor(t, secret).get("/files")).rejects.toMatchObject({ status: 404, code: "unknown_url" });
  });
});

describe("quota under concurrency", () => {
  it("never lets parallel requests near the cap exceed it", async () => {
    const a = await account(t, "parallel@example.com", { plan: "basic" });
    const plan = PLANS.basic;
    const max = 200;
    const req = { model: "gpt-4o-mini", messages: [{ role: "user" as const, content: "go" }], max_tokens: max };
    const hold = estimateChatPromptTokens(req) + max;
    // Leave room for exactly 3 holds.
    const used = plan.hardCapTokens - 3 * hold - Math.floor(hold / 2);
    await usageEvent(t, a.userId, { requestId: "req_seed", tokensIn: used, tokensOut: 0, costMicros: 1 });
    // Slow enough upstream that all 8 admissions happen before the first settle frees the
    // unused part of its hold (after which admitting a fourth would be correct, not a leak).
    sim.configure({ latencyMs: 1000 });
    const client = clientFor(t, a.secret);
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => client.chat.completions.create(req)));
    const ok = results.filter((r) => r.status === "fulfilled");
    const refused = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
    expect(ok).toHaveLength(3);
    expect(refused.every((r) => (r.reason as { status?: number }).status === 429)).toBe(true);
    const total = (await eventsOf(t, a.userId)).reduce((s, e) => s + e.tokensIn + e.tokensOut, 0);
    expect(total).toBeLessThanOrEqual(plan.hardCapTokens);
  });
});

describe("Dex API: keys and usage over HTTP", () => {
  async function call(key: string, path: string, init: RequestInit = {}) {
    const res = await t.fetch(path, { ...init, headers: { authorization: `Bearer ${key}`, "content-type": "application/json" } });
    return { status: res.status, body: (await res.json()) as any };
  }

  it("lists, creates and revokes the caller's own keys only", async () => {
    const a = await account(t, "dex-keys@example.com");
    const b = await account(t, "other@example.com");
    const created = await call(a.secret, "/v1/api-keys", { method: "POST", body: JSON.stringify({ name: "laptop" }) });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^pk_live_/);
    const listed = await call(a.secret, "/v1/api-keys");
    expect(listed.body.data.map((k: { name: string }) => k.name).sort()).toEqual(["CLI key", "laptop"]);
    expect(JSON.stringify(listed.body)).not.toContain(created.body.secret);
    // b cannot revoke a's key, and sees only its own.
    expect((await call(b.secret, `/v1/api-keys/${created.body.id}`, { method: "DELETE" })).status).toBe(404);
    expect((await call(b.secret, "/v1/api-keys")).body.data).toHaveLength(1);
    expect((await call(a.secret, `/v1/api-keys/${created.body.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await call(created.body.secret, "/v1/api-keys")).status).toBe(401);
  });

  it("reports this month's usage and what remains", async () => {
    const a = await account(t, "dex-usage@example.com");
    const client = clientFor(t, a.secret);
    await client.chat.completions.create({ model: "gpt-4o-mini", messages });
    await client.embeddings.create({ model: "text-embedding-3-small", input: "hello there" });
    const usage = await call(a.secret, "/v1/usage");
    expect(usage.status).toBe(200);
    expect(usage.body.requests).toBe(2);
    expect(usage.body.models.map((m: { model: string }) => m.model).sort()).toEqual(["gpt-4o-mini", "text-embedding-3-small"]);
    const remaining = await call(a.secret, "/v1/usage/remaining");
    expect(remaining.body.usedTokens).toBe(usage.body.totalTokens);
    expect(remaining.body.remainingTokens).toBe(PLANS.trial.hardCapTokens - usage.body.totalTokens);
    expect((await call(a.secret, "/v1/usage?month=2026-13")).status).toBe(400);
  });
});

it("pathOf keeps the query string", () => {
  expect(pathOf("http://proxy.test/v1/usage?month=2026-11")).toBe("/v1/usage?month=2026-11");
  expect(internal.quota.ledger.begin).toBeDefined();
});

it("answers an unexpected failure with a 500 in OpenAI's shape", async () => {
  const { withOpenAiErrors } = await import("../../convex/proxy/respond");
  const errors = console.error;
  console.error = () => {};
  try {
    const handler = withOpenAiErrors(async () => {
      throw new Error("boom");
    });
    const res = await handler({}, new Request("http://proxy.test/v1/embeddings", { method: "POST" }));
    expect(res.status).toBe(500);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(await res.json()).toEqual({
      error: { message: expect.stringMatching(/Retry/), type: "server_error", param: null, code: "internal_error" },
    });
  } finally {
    console.error = errors;
  }
});
