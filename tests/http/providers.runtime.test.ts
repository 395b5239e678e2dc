// Anthropic, Gemini and ElevenLabs models served over real HTTP by the offline runtime, called
// by the unmodified `openai` SDK, with the simulator as every provider: the code path a Dex
// instance takes, sockets and a client that hangs up mid-stream included.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { devAiProviderEnv } from "../../dev/env";
import type { Runtime } from "../../dev/runtime/server";
import { messagesUsage, type MessagesRequest } from "../../dev/simulator/anthropic";
import type { RunningSimulator } from "../../dev/simulator/server";
import { startRuntimeStack, type RuntimeStack } from "./runtimeStack";
import { speechCostMicros, tokenCostMicros } from "../../convex/model/pricing";

// A first request over the runtime loads the bundle; vitest.config.ts's projects do not
// inherit its testTimeout, so the default 5 s would be tight on a busy machine.
vi.setConfig({ testTimeout: 30_000 });

let stack: RuntimeStack;
let sim: RunningSimulator;
let rt: Runtime;
let secret: string;

beforeAll(async () => {
  stack = await startRuntimeStack({
    name: "providers-runtime",
    env: ({ simUrl }) => devAiProviderEnv(simUrl, "runtime"),
  });
  ({ sim, rt } = stack);
  ({ secret } = await stack.account("providers@example.com", "basic"));
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

function client() {
  return new OpenAI({ apiKey: secret, baseURL: `${rt.urls.site}/v1`, maxRetries: 0 });
}

async function usage() {
  const res = await fetch(`${rt.urls.site}/v1/usage`, { headers: { authorization: `Bearer ${secret}` } });
  // totalTokens is in quota units: tokens both ways plus speech characters.
  return (await res.json()) as { requests: number; tokensIn: number; tokensOut: number; totalTokens: number; costMicros: number };
}

const messages = [{ role: "user" as const, content: "Tell me about the weather in three words." }];

describe("other providers over real HTTP", () => {
  it("streams an Anthropic model to the SDK and bills Anthropic's count", async () => {
    const before = await usage();
    const stream = await client().chat.completions.create({ model: "claude-haiku-4-5", messages, stream: true, stream_options: { include_usage: true } });
    let text = "";
    let reported: OpenAI.Completions.CompletionUsage | null | undefined;
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? "";
      reported = c.usage ?? reported;
    }
    const sent = sim.requests({ pathPrefix: "/v1/messages" }).at(-1)!.body as MessagesRequest;
    const expected = messagesUsage(sent);
    expect(text.length).toBeGreaterThan(0);
    expect(reported).toMatchObject({ prompt_tokens: expected.input_tokens, completion_tokens: expected.output_tokens });
    const after = await usage();
    expect(after.requests - before.requests).toBe(1);
    expect(after.tokensIn - before.tokensIn).toBe(expected.input_tokens);
    expect(after.tokensOut - before.tokensOut).toBe(expected.output_tokens);
    expect(after.costMicros - before.costMicros).toBe(tokenCostMicros("claude-haiku-4-5", { tokensIn: expected.input_tokens, tokensOut: expected.output_tokens }));
  });

  it("bills an Anthropic stream whose client hung up at Anthropic's count", async () => {
    const before = await usage();
    sim.configure({ tokenIntervalMs: 10, completionTokens: 30 });
    const controller = new AbortController();
    const stream = await client().chat.completions.create({ model: "claude-sonnet-4-5", messages, stream: true }, { signal: controller.signal });
    let seen = 0;
    try {
      for await (const _ of stream) {
        if (++seen === 3) controller.abort();
      }
    } catch {
      // The SDK raises on abort.
    }
    const sent = sim.requests({ pathPrefix: "/v1/messages" }).at(-1)!.body as MessagesRequest;
    const expected = messagesUsage(sent, { completionTokens: 30 });
    const deadline = Date.now() + 10_000;
    let after = await usage();
    while (after.requests === before.requests && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      after = await usage();
    }
    expect(after.tokensOut - before.tokensOut).toBe(expected.output_tokens);
    expect(after.costMicros - before.costMicros).toBe(tokenCostMicros("claude-sonnet-4-5", { tokensIn: expected.input_tokens, tokensOut: 30 }));
    sim.reset();
  });

  it("serves Gemini and ElevenLabs models", async () => {
    const before = await usage();
    const gemini = await client().chat.completions.create({ model: "gemini-2.5-flash", messages });
    expect(gemini.choices[0].message.content).toBeTruthy();
    const input = "Hello over real sockets.";
    const audio = await client().audio.speech.create({ model: "eleven_flash_v2_5", voice: "echo", input });
    expect((await audio.arrayBuffer()).byteLength).toBeGreaterThan(96);
    const after = await usage();
    const out = gemini.usage!.total_tokens - gemini.usage!.prompt_tokens;
    expect(after.requests - before.requests).toBe(2);
    expect(after.totalTokens - before.totalTokens).toBe(gemini.usage!.prompt_tokens + out + [...input].length);
    expect(after.costMicros - before.costMicros).toBe(
      tokenCostMicros("gemini-2.5-flash", { tokensIn: gemini.usage!.prompt_tokens, tokensOut: out }) + speechCostMicros("eleven_flash_v2_5", [...input].length),
    );
  });
});
