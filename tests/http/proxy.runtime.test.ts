// The proxy served over real HTTP by the offline runtime, called by the unmodified `openai`
// SDK: the same code path a Dex instance takes, sockets and client disconnects included.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Runtime } from "../../dev/runtime/server";
import type { RunningSimulator } from "../../dev/simulator/server";
import { chatUsage } from "../../dev/simulator/tokens";
import { estimateChatPromptTokens } from "../../convex/model/proxy/estimate";
import { PLANS } from "../../convex/model/plans";
import { tokenCostMicros } from "../../convex/model/pricing";
import { getFunctionName } from "convex/server";
import { internal } from "../../convex/_generated/api.js";
import { startRuntimeStack, type RuntimeStack } from "./runtimeStack";

let stack: RuntimeStack;
let sim: RunningSimulator;
let rt: Runtime;
let secret: string;

const messages = [{ role: "user" as const, content: "Tell me about the weather in three words." }];

beforeAll(async () => {
  stack = await startRuntimeStack({
    name: "proxy-runtime",
    env: ({ simUrl }) => ({ OPENAI_BASE_URL: `${simUrl}/v1`, OPENAI_API_KEY: "sk-sim-runtime" }),
  });
  ({ sim, rt } = stack);
  ({ secret } = await stack.account("runtime@example.com"));
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

function client() {
  return new OpenAI({ apiKey: secret, baseURL: `${rt.urls.site}/v1`, maxRetries: 0 });
}

async function usage() {
  const res = await fetch(`${rt.urls.site}/v1/usage`, { headers: { authorization: `Bearer ${secret}` } });
  return (await res.json()) as { requests: number; tokensIn: number; tokensOut: number; costMicros: number };
}

describe("over real HTTP", () => {
  it("serves JSON and streamed chat to the SDK and bills both exactly", async () => {
    const json = await client().chat.completions.create({ model: "gpt-4o-mini", messages });
    const expected = chatUsage({ model: "gpt-4o-mini", messages });
    expect(json.usage).toEqual(expected);

    const stream = await client().chat.completions.create({ model: "gpt-4o-mini", messages, stream: true });
    let text = "";
    for await (const c of stream) text += c.choices[0]?.delta.content ?? "";
    expect(text).toBe(json.choices[0].message.content);

    const u = await usage();
    expect(u).toMatchObject({
      requests: 2,
      tokensIn: 2 * expected.prompt_tokens,
      tokensOut: 2 * expected.completion_tokens,
      costMicros: 2 * tokenCostMicros("gpt-4o-mini", { tokensIn: expected.prompt_tokens, tokensOut: expected.completion_tokens }),
    });
  });

  it("bills a stream whose client hung up at the provider's count", async () => {
    const before = await usage();
    sim.configure({ tokenIntervalMs: 10, completionTokens: 30 });
    const controller = new AbortController();
    const stream = await client().chat.completions.create(
      { model: "gpt-4o-mini", messages, stream: true },
      { signal: controller.signal },
    );
    let n = 0;
    try {
      for await (const _ of stream) if (++n === 2) controller.abort();
    } catch {
      // The abort surfaces as an error in the loop.
    }
    const expected = chatUsage({ model: "gpt-4o-mini", messages }, { completionTokens: 30 });
    const deadline = Date.now() + 10_000;
    let after = await usage();
    while (after.requests === before.requests && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      after = await usage();
    }
    sim.configure({ tokenIntervalMs: 0, completionTokens: null });
    expect(after.requests - before.requests).toBe(1);
    expect(after.tokensOut - before.tokensOut).toBe(expected.completion_tokens);
    expect(after.tokensIn - before.tokensIn).toBe(expected.prompt_tokens);
    // The client saw two chunks; the other 28 tokens were drained from upstream after it left.
    expect(n).toBe(2);
  });

  it("holds no timer per request once its usage is settled (the upstream deadline is cleared)", async () => {
    await stack.quiescent({ quietMs: 300 });
    const before = await usage();
    const timersBefore = rt.metrics().pendingTimers;
    for (let i = 0; i < 4; i++) await client().chat.completions.create({ model: "gpt-4o-mini", messages });
    const stream = await client().chat.completions.create({ model: "gpt-4o-mini", messages, stream: true });
    for await (const _ of stream) {
      // Read to the end.
    }
    const deadline = Date.now() + 10_000;
    while ((await usage()).requests < before.requests + 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect((await usage()).requests).toBe(before.requests + 5);
    // Each request armed a nine-minute deadline for its upstream call; all five are gone.
    expect(rt.metrics().pendingTimers).toBeLessThanOrEqual(timersBefore);
  });

  it("answers errors in OpenAI's shape and CORS preflights", async () => {
    await expect(client().chat.completions.create({ model: "gpt-4o", messages })).rejects.toMatchObject({ status: 403 });
    const bad = new OpenAI({ apiKey: "pk_live_" + "0".repeat(43), baseURL: `${rt.urls.site}/v1`, maxRetries: 0 });
    await expect(bad.models.list()).rejects.toMatchObject({ status: 401 });
    const pre = await fetch(`${rt.urls.site}/v1/chat/completions`, {
      method: "OPTIONS",
      headers: { origin: "http://localhost:5173", "access-control-request-method": "POST", "access-control-request-headers": "authorization" },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("admits parallel requests near the cap only while their holds fit", async () => {
    const email = "parallel-runtime@example.com";
    const userId = await rt.run("mutation", getFunctionName(internal.cli.createAccount), { email, plan: "basic" });
    const { secret: key } = (await rt.run("mutation", getFunctionName(internal.cli.createApiKey), { email })) as { secret: string };
    const req = { model: "gpt-4o-mini", messages: [{ role: "user" as const, content: "go" }], max_tokens: 100 };
    const hold = estimateChatPromptTokens(req) + req.max_tokens;
    const cap = PLANS.basic.hardCapTokens;
    // Earlier usage leaves room for exactly 4 holds.
    await rt.run("mutation", getFunctionName(internal.quota.ledger.settle), {
      requestId: "req_seed_parallel", userId, kind: "chat", provider: "openai", model: "gpt-4o-mini",
      tokensIn: cap - 4 * hold - 1, cachedTokensIn: 0, tokensOut: 0, characters: 0,
      usageSource: "provider", status: "ok", httpStatus: 200, latencyMs: 0,
    });
    // Upstream answers slowly enough that every admission decision is taken before the first
    // request settles: a settle frees the unused part of its hold, after which admitting a
    // fifth request would be correct, not a leak. 2 s is a wide margin for 8 serialized
    // admissions even on a loaded CI machine.
    sim.configure({ latencyMs: 2000 });
    const sdk = new OpenAI({ apiKey: key, baseURL: `${rt.urls.site}/v1`, maxRetries: 0 });
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => sdk.chat.completions.create(req)));
    sim.configure({ latencyMs: 0 });
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(4);
    for (const r of results) if (r.status === "rejected") expect(r.reason).toMatchObject({ status: 429, code: "insufficient_quota" });
    const res = await fetch(`${rt.urls.site}/v1/usage/remaining`, { headers: { authorization: `Bearer ${key}` } });
    const remaining = (await res.json()) as { usedTokens: number; heldTokens: number };
    expect(remaining.heldTokens).toBe(0);
    expect(remaining.usedTokens).toBeLessThanOrEqual(cap);
  });

  it("caps live keys through the runtime's sorted index on unrevoked keys, and a revoked key frees a slot", async () => {
    const email = "key-cap-runtime@example.com";
    await rt.run("mutation", getFunctionName(internal.cli.createAccount), { email });
    const create = () => rt.run("mutation", getFunctionName(internal.cli.createApiKey), { email }) as Promise<{ secret: string }>;
    const keys: string[] = [];
    for (let i = 0; i < 50; i++) keys.push((await create()).secret);
    await expect(create()).rejects.toThrow(/already have 50 keys/);
    const res = await fetch(`${rt.urls.site}/v1/api-keys`, { headers: { authorization: `Bearer ${keys[0]}` } });
    const listed = (await res.json()) as { data: Array<{ id: string }> };
    const del = await fetch(`${rt.urls.site}/v1/api-keys/${listed.data[0].id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${keys[0]}` },
    });
    expect(del.status).toBe(200);
    await expect(create()).resolves.toMatchObject({ secret: expect.stringMatching(/^pk_live_/) });
  });
});
