// Anthropic, Gemini and ElevenLabs models and the legacy completions endpoint, through the
// openai SDK against the proxy, with the simulator speaking each provider's own wire format.
// Every test checks the settled usage event against the provider's reported usage and the
// price book.
import OpenAI from "openai";
import { describe, expect, it, vi } from "vitest";
import { messagesUsage, planReply, type MessagesRequest } from "../../dev/simulator/anthropic";
import { geminiUsage } from "../../dev/simulator/gemini";
import type { RunningSimulator } from "../../dev/simulator/server";
import { planCompletion, textTokens } from "../../dev/simulator/tokens";
import { TOOL_USE_SYSTEM_PROMPT_TOKENS } from "../../convex/model/proxy/anthropic";
import { estimateChatPromptTokens } from "../../convex/model/proxy/estimate";
import { ELEVENLABS_VOICES } from "../../convex/model/proxy/speechVoices";
import { PLANS } from "../../convex/model/plans";
import { speechCostMicros, tokenCostMicros } from "../../convex/model/pricing";
import { account, clientFor, eventsOf, eventually, holdsOf, useUpstream, type TestConvex } from "./harness";

// The first request of the file loads every Convex module; on a busy machine that alone can
// pass vitest's default 5 s (the projects in vitest.config.ts do not inherit its testTimeout).
vi.setConfig({ testTimeout: 30_000 });

let sim: RunningSimulator;
let t: TestConvex;

useUpstream({ sim: (s) => (sim = s), t: (x) => (t = x) });

const MAX = PLANS.basic.limits.defaultMaxOutputTokens;
const messages = [
  { role: "system" as const, content: "You are terse." },
  { role: "user" as const, content: "Which plan should a small team pick?" },
];

/** The Messages request the proxy sent upstream (the simulator logs bodies, never keys). */
function sentToAnthropic(i = 0): MessagesRequest & Record<string, unknown> {
  const entry = sim.requests({ pathPrefix: "/v1/messages" })[i];
  expect(entry.headers["anthropic-version"]).toBe("2023-06-01");
  return entry.body as MessagesRequest & Record<string, unknown>;
}

/** What the settled event must say for a chat usage reported as Anthropic's `usage`. */
function billedAnthropic(model: string, u: { input_tokens: number; cache_creation_input_tokens: number; cache_read_input_tokens: number; output_tokens: number }) {
  const tokensIn = u.input_tokens + u.cache_creation_input_tokens + u.cache_read_input_tokens;
  return {
    provider: "anthropic",
    model,
    tokensIn,
    tokensOut: u.output_tokens,
    costMicros: tokenCostMicros(model, {
      tokensIn,
      cachedTokensIn: u.cache_read_input_tokens,
      cacheWriteTokensIn: u.cache_creation_input_tokens,
      tokensOut: u.output_tokens,
    }),
  };
}

describe("Anthropic models on /v1/chat/completions", () => {
  it("translates a JSON chat and bills Anthropic's usage at its prices", async () => {
    const a = await account(t, "claude-json@example.com", { plan: "basic" });
    const { data, response } = await clientFor(t, a.secret).chat.completions.create({ model: "claude-haiku-4-5", messages, temperature: 0.3 }).withResponse();

    const sent = sentToAnthropic();
    expect(sent).toEqual({
      model: "claude-haiku-4-5",
      system: [{ type: "text", text: "You are terse." }],
      messages: [{ role: "user", content: [{ type: "text", text: "Which plan should a small team pick?" }] }],
      temperature: 0.3,
      max_tokens: MAX,
    });
    const usage = messagesUsage(sent);
    const reply = planReply(sent);
    expect(data.object).toBe("chat.completion");
    expect(data.choices[0].message.content).toBe(reply.pieces.join(""));
    expect(data.choices[0].finish_reason).toBe("stop");
    expect(data.usage).toMatchObject({ prompt_tokens: usage.input_tokens, completion_tokens: usage.output_tokens });

    const [event] = await eventsOf(t, a.userId);
    expect(event).toMatchObject({ ...billedAnthropic("claude-haiku-4-5", usage), kind: "chat", usageSource: "provider", status: "ok", requestId: response.headers.get("x-request-id") });
    expect(event.costMicros).toBe(Math.ceil(usage.input_tokens * 1 + usage.output_tokens * 5));
    expect(await holdsOf(t, a.userId)).toEqual([]);
  });

  it("streams Anthropic's events as chat.completion.chunk, with the usage chunk only when asked", async () => {
    const a = await account(t, "claude-sse@example.com", { plan: "basic" });
    const client = clientFor(t, a.secret);
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const c of await client.chat.completions.create({ model: "claude-sonnet-4-5", messages, stream: true })) chunks.push(c);
    const sent = sentToAnthropic();
    expect(sent.stream).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe(planReply(sent).pieces.join(""));
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && c.choices.length === 1)).toBe(true);
    expect(chunks.some((c) => "usage" in c)).toBe(false);
    expect(chunks[chunks.length - 1].choices[0].finish_reason).toBe("stop");
    const usage = messagesUsage(sent);
    const [event] = await eventsOf(t, a.userId);
    expect(event).toMatchObject({ ...billedAnthropic("claude-sonnet-4-5", usage), usageSource: "provider", status: "ok" });

    const withUsage: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const c of await client.chat.completions.create({ model: "claude-sonnet-4-5", messages, stream: true, stream_options: { include_usage: true } })) withUsage.push(c);
    const last = withUsage[withUsage.length - 1];
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: usage.input_tokens, completion_tokens: usage.output_tokens, total_tokens: usage.input_tokens + usage.output_tokens });
  });

  const weather: OpenAI.Chat.Completions.ChatCompletionTool = {
    type: "function",
    function: { name: "weather", description: "Weather by city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
  };

  it("round-trips a tool call: tool_use out as tool_calls, tool results back as tool_result", async () => {
    const a = await account(t, "claude-tools@example.com", { plan: "basic" });
    const client = clientFor(t, a.secret);
    const ask = [{ role: "user" as const, content: "Weather in Paris?" }];
    const first = await client.chat.completions.create({ model: "claude-haiku-4-5", messages: ask, tools: [weather], tool_choice: { type: "function", function: { name: "weather" } } });
    const sent = sentToAnthropic(0);
    expect(sent.tools).toEqual([{ name: "weather", description: "Weather by city", input_schema: weather.function.parameters }]);
    expect(sent.tool_choice).toEqual({ type: "tool", name: "weather" });
    expect(first.choices[0].finish_reason).toBe("tool_calls");
    const call = first.choices[0].message.tool_calls![0] as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
    expect(call).toMatchObject({ type: "function", function: { name: "weather", arguments: "{\"city\":\"sim\"}" } });
    expect(call.id).toMatch(/^toolu_/);
    expect(first.choices[0].message.content).toBeNull();

    const second = await client.chat.completions.create({
      model: "claude-haiku-4-5",
      tools: [weather],
      messages: [...ask, first.choices[0].message, { role: "tool", tool_call_id: call.id, content: "18C and sunny" }],
    });
    expect(sentToAnthropic(1).messages).toEqual([
      { role: "user", content: [{ type: "text", text: "Weather in Paris?" }] },
      { role: "assistant", content: [{ type: "tool_use", id: call.id, name: "weather", input: { city: "sim" } }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "18C and sunny" }] },
    ]);
    expect(second.choices[0].finish_reason).toBe("stop");
    expect(second.choices[0].message.content).toBe(planReply(sentToAnthropic(1)).pieces.join(""));

    // Streamed, the call arrives as OpenAI tool-call deltas the SDK can reassemble.
    const stream = await client.chat.completions.create({ model: "claude-haiku-4-5", messages: ask, tools: [weather], tool_choice: "required", stream: true });
    let args = "";
    let finish: string | null = null;
    for await (const c of stream) {
      args += c.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? "";
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect(JSON.parse(args)).toEqual({ city: "sim" });
    expect(finish).toBe("tool_calls");
    expect(sentToAnthropic(2).tool_choice).toEqual({ type: "any" });

    const events = await eventsOf(t, a.userId);
    expect(events).toHaveLength(3);
    events.forEach((event, i) => expect(event).toMatchObject(billedAnthropic("claude-haiku-4-5", messagesUsage(sentToAnthropic(i)))));
  });

  it("holds the hidden tool prompt on top of the prompt bound", async () => {
    const a = await account(t, "claude-hold@example.com", { plan: "basic" });
    const body = { model: "claude-haiku-4-5", messages: [{ role: "user" as const, content: "hi" }], tools: [weather], max_tokens: 10 };
    await clientFor(t, a.secret).chat.completions.create(body);
    const usage = messagesUsage(sentToAnthropic());
    const bound = estimateChatPromptTokens(body) + TOOL_USE_SYSTEM_PROMPT_TOKENS;
    expect(usage.input_tokens).toBeLessThanOrEqual(bound);
    // Without the allowance the hold would be smaller than what Anthropic counts.
    expect(usage.input_tokens).toBeGreaterThan(estimateChatPromptTokens(body));
  });

  it.each([
    ["max_tokens -> length", { max_tokens: 3 }, "length"],
    ["end_turn -> stop", {}, "stop"],
  ])("maps stop reasons: %s", async (_name, extra, finish) => {
    const a = await account(t, `claude-stop-${finish}@example.com`, { plan: "basic" });
    const res = await clientFor(t, a.secret).chat.completions.create({ model: "claude-haiku-4-5", messages, ...extra });
    expect(res.choices[0].finish_reason).toBe(finish);
    if (finish === "length") {
      expect(sentToAnthropic().max_tokens).toBe(3);
      expect(res.usage?.completion_tokens).toBe(3);
    }
  });

  it("maps stop_sequence -> stop, the text cut before the stop string", async () => {
    const a = await account(t, "claude-stopseq@example.com", { plan: "basic" });
    const client = clientFor(t, a.secret);
    const plain = await client.chat.completions.create({ model: "claude-haiku-4-5", messages });
    const stop = plain.choices[0].message.content!.split(" ")[3];
    const res = await client.chat.completions.create({ model: "claude-haiku-4-5", messages, stop: [stop] });
    expect(sentToAnthropic(1).stop_sequences).toEqual([stop]);
    expect(res.choices[0].finish_reason).toBe("stop");
    expect(plain.choices[0].message.content!.startsWith(res.choices[0].message.content!)).toBe(true);
    expect(res.choices[0].message.content).not.toContain(stop);
    const [, event] = await eventsOf(t, a.userId);
    expect(event).toMatchObject(billedAnthropic("claude-haiku-4-5", messagesUsage(sentToAnthropic(1))));
  });

  it("bills prompt-cache writes at 1.25x and reads at 0.1x of the input price", async () => {
    const a = await account(t, "claude-cache@example.com", { plan: "basic" });
    const client = clientFor(t, a.secret);
    const manual = "Rule: answer briefly. ".repeat(250);
    // cache_control on a text part passes through to Anthropic (not in the SDK's types).
    const cached = [
      { role: "system", content: [{ type: "text", text: manual, cache_control: { type: "ephemeral" } }] },
      { role: "user", content: "What is rule one?" },
    ] as unknown as OpenAI.Chat.Completions.ChatCompletionMessageParam[];
    const first = await client.chat.completions.create({ model: "claude-sonnet-4-5", messages: cached });
    const second = await client.chat.completions.create({ model: "claude-sonnet-4-5", messages: cached, stream: true, stream_options: { include_usage: true } });
    let streamedUsage: OpenAI.Completions.CompletionUsage | null | undefined;
    for await (const c of second) streamedUsage = c.usage ?? streamedUsage;

    const written = messagesUsage(sentToAnthropic(0));
    const prefix = 3 + textTokens(manual);
    expect(written.cache_creation_input_tokens).toBe(prefix);
    expect(first.usage).toMatchObject({ prompt_tokens: written.input_tokens + prefix, prompt_tokens_details: { cached_tokens: 0 } });
    expect((first.usage as unknown as { cache_creation_input_tokens: number }).cache_creation_input_tokens).toBe(prefix);
    expect(streamedUsage?.prompt_tokens_details?.cached_tokens).toBe(prefix);

    const [writeEvent, readEvent] = await eventsOf(t, a.userId);
    const read = { ...written, cache_creation_input_tokens: 0, cache_read_input_tokens: prefix };
    expect(writeEvent).toMatchObject(billedAnthropic("claude-sonnet-4-5", written));
    expect(readEvent).toMatchObject(billedAnthropic("claude-sonnet-4-5", read));
    // Sonnet 4.5: $3 input, $3.75 cache write, $0.30 cache read, $15 output per 1M tokens.
    expect(writeEvent.costMicros).toBe(Math.ceil(written.input_tokens * 3 + prefix * 3.75 + written.output_tokens * 15));
    expect(readEvent.costMicros).toBe(Math.ceil(written.input_tokens * 3 + prefix * 0.3 + written.output_tokens * 15));
  });

  it("settles a cut stream at message_start's prompt and the bytes delivered", async () => {
    const a = await account(t, "claude-cut@example.com", { plan: "basic" });
    // Events: message_start, block start, ping, then one text delta per word.
    sim.configure({ streamCut: { afterChunks: 7, count: 1 }, tokenIntervalMs: 5 });
    const stream = await clientFor(t, a.secret).chat.completions.create({ model: "claude-haiku-4-5", messages, stream: true });
    let text = "";
    await expect(async () => {
      for await (const c of stream) text += c.choices[0]?.delta.content ?? "";
    }).rejects.toThrow(/ended early/);
    const usage = messagesUsage(sentToAnthropic());
    expect(text.length).toBeGreaterThan(0);
    const event = await eventually(async () => (await eventsOf(t, a.userId))[0]);
    expect(event).toMatchObject({
      tokensIn: usage.input_tokens,
      tokensOut: new TextEncoder().encode(text).length,
      usageSource: "estimate",
      status: "upstream_error",
    });
  });

  it("answers Anthropic's errors in OpenAI's shape, and refuses what it cannot translate before any hold", async () => {
    const a = await account(t, "claude-errors@example.com", { plan: "basic" });
    const client = clientFor(t, a.secret);
    // Overloaded on every attempt the proxy makes (529 is Anthropic's 503; the proxy retries it).
    sim.configure({ fail: { status: 529, count: 3 } });
    await expect(client.chat.completions.create({ model: "claude-haiku-4-5", messages })).rejects.toMatchObject({ status: 503 });
    sim.configure({ fail: { status: 400, count: 1, message: "messages: roles must alternate" } });
    await expect(client.chat.completions.create({ model: "claude-haiku-4-5", messages })).rejects.toMatchObject({
      status: 400,
      type: "invalid_request_error",
      code: "invalid_request_error",
      message: expect.stringContaining("roles must alternate"),
    });
    const upstreamCalls = sim.requests({ pathPrefix: "/v1/messages" }).length;
    await expect(client.chat.completions.create({ model: "claude-haiku-4-5", messages, n: 2 })).rejects.toMatchObject({ status: 400, param: "n" });
    await expect(client.chat.completions.create({ model: "claude-haiku-4-5", messages, temperature: 1.5 })).rejects.toMatchObject({ status: 400, param: "temperature" });
    expect(sim.requests({ pathPrefix: "/v1/messages" })).toHaveLength(upstreamCalls);
    const events = await eventsOf(t, a.userId);
    expect(events.map((e) => [e.provider, e.status, e.httpStatus, e.costMicros])).toEqual([
      ["anthropic", "upstream_error", 503, 0],
      ["anthropic", "upstream_error", 400, 0],
    ]);
    expect(await holdsOf(t, a.userId)).toEqual([]);
  });
});

describe("Gemini models through Google's OpenAI-compatible endpoint", () => {
  const ask = [{ role: "user" as const, content: "Explain quotas in one line." }];

  it("bills JSON and streamed replies from Gemini's usage, thought tokens included", async () => {
    const a = await account(t, "gemini@example.com", { plan: "basic" });
    const client = clientFor(t, a.secret);
    const res = await client.chat.completions.create({ model: "gemini-2.5-pro", messages: ask });
    const entry = sim.requests({ pathPrefix: "/v1beta/openai/chat/completions" })[0];
    const sent = entry.body as Record<string, unknown>;
    expect(sent.max_tokens).toBe(MAX);
    expect(sent).not.toHaveProperty("max_completion_tokens");
    const usage = geminiUsage({ model: "gemini-2.5-pro", messages: ask, max_tokens: MAX });
    expect(res.usage).toEqual(usage);
    // completion_tokens leaves the thoughts out; the bill does not.
    expect(usage.total_tokens - usage.prompt_tokens).toBeGreaterThan(usage.completion_tokens);
    const tokensOut = usage.total_tokens - usage.prompt_tokens;

    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const c of await client.chat.completions.create({ model: "gemini-2.5-flash", messages: ask, stream: true })) chunks.push(c);
    const streamed = geminiUsage({ model: "gemini-2.5-flash", messages: ask, max_tokens: MAX });
    expect((sim.requests({ pathPrefix: "/v1beta/openai" })[1].body as { stream_options: unknown }).stream_options).toEqual({ include_usage: true });
    expect(chunks.some((c) => "usage" in c && c.usage)).toBe(false);

    const [json, stream] = await eventsOf(t, a.userId);
    expect(json).toMatchObject({
      provider: "gemini", model: "gemini-2.5-pro", tokensIn: usage.prompt_tokens, tokensOut, usageSource: "provider",
      costMicros: tokenCostMicros("gemini-2.5-pro", { tokensIn: usage.prompt_tokens, tokensOut }),
    });
    const streamedOut = streamed.total_tokens - streamed.prompt_tokens;
    expect(stream).toMatchObject({
      provider: "gemini", model: "gemini-2.5-flash", tokensIn: streamed.prompt_tokens, tokensOut: streamedOut, usageSource: "provider", status: "ok",
      costMicros: tokenCostMicros("gemini-2.5-flash", { tokensIn: streamed.prompt_tokens, tokensOut: streamedOut }),
    });
  });

  it("passes Google's errors on in OpenAI's shape", async () => {
    const a = await account(t, "gemini-errors@example.com", { plan: "basic" });
    sim.configure({ fail: { status: 400, count: 1, message: "Invalid JSON payload" } });
    await expect(clientFor(t, a.secret).chat.completions.create({ model: "gemini-2.5-flash", messages: ask })).rejects.toMatchObject({
      status: 400,
      code: "invalid_argument",
      message: expect.stringContaining("Invalid JSON payload"),
    });
  });
});

describe("ElevenLabs models on /v1/audio/speech", () => {
  it("maps voice and format, returns the audio and bills per character", async () => {
    const a = await account(t, "eleven@example.com", { plan: "basic" });
    const input = "Hello from Poindexter — ünïcode counts as characters.";
    const res = await clientFor(t, a.secret).audio.speech.create({ model: "eleven_multilingual_v2", voice: "nova", input });
    expect(res.headers.get("content-type")).toBe("audio/mpeg");
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(96);
    const [entry] = sim.requests({ pathPrefix: "/v1/text-to-speech" });
    expect(entry.path).toBe(`/v1/text-to-speech/${ELEVENLABS_VOICES.nova.id}`);
    expect(entry.query).toEqual({ output_format: "mp3_44100_128" });
    expect(entry.body).toEqual({ text: input, model_id: "eleven_multilingual_v2" });

    const characters = [...input].length;
    const [event] = await eventsOf(t, a.userId);
    expect(event).toMatchObject({ kind: "speech", provider: "elevenlabs", characters, tokensIn: 0, tokensOut: 0, costMicros: speechCostMicros("eleven_multilingual_v2", characters) });
    // $0.10 per 1,000 characters.
    expect(event.costMicros).toBe(Math.ceil(characters * 100));
  });

  it("answers wav as ElevenLabs' 24 kHz PCM in a WAV header", async () => {
    const a = await account(t, "eleven-wav@example.com", { plan: "basic" });
    const res = await clientFor(t, a.secret).audio.speech.create({ model: "eleven_flash_v2_5", voice: "alloy", input: "abc", response_format: "wav" });
    const wav = new Uint8Array(await res.arrayBuffer());
    expect(res.headers.get("content-type")).toBe("audio/wav");
    expect(new TextDecoder().decode(wav.slice(0, 4))).toBe("RIFF");
    expect(wav.length).toBe(44 + 0.25 * 24_000 * 2);
    expect(sim.requests({ pathPrefix: "/v1/text-to-speech" })[0].query).toEqual({ output_format: "pcm_24000" });
    const [event] = await eventsOf(t, a.userId);
    expect(event.costMicros).toBe(speechCostMicros("eleven_flash_v2_5", 3));
  });

  it("refuses an unknown voice or format before any hold", async () => {
    const a = await account(t, "eleven-bad@example.com", { plan: "basic" });
    const client = clientFor(t, a.secret);
    await expect(client.audio.speech.create({ model: "eleven_flash_v2_5", voice: "robot" as "alloy", input: "x" })).rejects.toMatchObject({ status: 400, param: "voice" });
    await expect(client.audio.speech.create({ model: "eleven_flash_v2_5", voice: "alloy", input: "x", response_format: "flac" })).rejects.toMatchObject({ status: 400, param: "response_format" });
    expect(sim.requests({ pathPrefix: "/v1/text-to-speech" })).toEqual([]);
    expect(await eventsOf(t, a.userId)).toEqual([]);
  });
});

describe("legacy /v1/completions", () => {
  const prompt = "Write a tagline for a metered proxy:";

  it("meters a JSON completion like chat, with OpenAI's default of 16 tokens", async () => {
    const a = await account(t, "instruct@example.com", { plan: "basic" });
    const res = await clientFor(t, a.secret).completions.create({ model: "gpt-3.5-turbo-instruct", prompt });
    const sent = sim.requests({ pathPrefix: "/v1/completions" })[0].body as Record<string, unknown>;
    expect(sent.max_tokens).toBe(16);
    const plan = planCompletion({ model: "gpt-3.5-turbo-instruct", messages: [{ role: "user", content: prompt }], max_tokens: 16 });
    expect(res.choices[0].text).toBe(plan.text);
    expect(res.usage).toEqual({ prompt_tokens: textTokens(prompt), completion_tokens: plan.completionTokens, total_tokens: textTokens(prompt) + plan.completionTokens });
    const [event] = await eventsOf(t, a.userId);
    expect(event).toMatchObject({
      kind: "completion", provider: "openai", model: "gpt-3.5-turbo-instruct", tokensIn: textTokens(prompt), tokensOut: plan.completionTokens,
      costMicros: tokenCostMicros("gpt-3.5-turbo-instruct", { tokensIn: textTokens(prompt), tokensOut: plan.completionTokens }),
      usageSource: "provider", status: "ok",
    });
    expect(await holdsOf(t, a.userId)).toEqual([]);
  });

  it("streams with the usage chunk hidden unless asked, and bills the provider's count", async () => {
    const a = await account(t, "instruct-sse@example.com", { plan: "basic" });
    const client = clientFor(t, a.secret);
    const pieces: string[] = [];
    const chunks: OpenAI.Completions.Completion[] = [];
    for await (const c of await client.completions.create({ model: "gpt-3.5-turbo-instruct", prompt: [prompt], max_tokens: 30, stream: true })) {
      chunks.push(c);
      pieces.push(c.choices[0]?.text ?? "");
    }
    const plan = planCompletion({ model: "gpt-3.5-turbo-instruct", messages: [{ role: "user", content: prompt }], max_tokens: 30 });
    expect(pieces.join("")).toBe(plan.text);
    expect(chunks.some((c) => "usage" in c)).toBe(false);
    expect((sim.requests({ pathPrefix: "/v1/completions" })[0].body as { stream_options: unknown }).stream_options).toEqual({ include_usage: true });
    const [event] = await eventsOf(t, a.userId);
    expect(event).toMatchObject({ kind: "completion", tokensIn: textTokens(prompt), tokensOut: plan.completionTokens, usageSource: "provider", status: "ok" });
  });

  it("keeps chat models and the instruct model on their own endpoints", async () => {
    const a = await account(t, "instruct-wrong@example.com", { plan: "basic" });
    const client = clientFor(t, a.secret);
    await expect(client.completions.create({ model: "gpt-4o-mini", prompt })).rejects.toMatchObject({ status: 400, code: "model_not_supported" });
    await expect(client.chat.completions.create({ model: "gpt-3.5-turbo-instruct", messages })).rejects.toMatchObject({ status: 400, code: "model_not_supported" });
    await expect(client.completions.create({ model: "gpt-3.5-turbo-instruct", prompt: [] as string[] })).rejects.toMatchObject({ status: 400, param: "prompt" });
    expect(sim.requests()).toEqual([]);
    expect(await eventsOf(t, a.userId)).toEqual([]);
  });
});

describe("a provider without a key", () => {
  it("is left out of /v1/models and refused with 503 model_not_available before any hold", async () => {
    const a = await account(t, "unconfigured@example.com", { plan: "basic" });
    const client = clientFor(t, a.secret);
    const listed = (await client.models.list()).data;
    expect(listed.find((m) => m.id === "claude-haiku-4-5")).toMatchObject({ owned_by: "anthropic" });
    expect(listed.find((m) => m.id === "eleven_flash_v2_5")).toMatchObject({ owned_by: "elevenlabs" });
    expect(listed.find((m) => m.id === "gemini-2.5-flash")).toMatchObject({ owned_by: "google" });

    const saved = process.env.ANTHROPIC_API_KEY;
    delete process.env.ANTHROPIC_API_KEY;
    try {
      const ids = (await client.models.list()).data.map((m) => m.id);
      expect(ids).not.toContain("claude-haiku-4-5");
      expect(ids).not.toContain("claude-sonnet-4-5");
      expect(ids).toContain("gpt-4o-mini");
      await expect(client.models.retrieve("claude-haiku-4-5")).rejects.toMatchObject({ status: 404 });
      const refused = await t.fetch("/v1/chat/completions", {
        method: "POST",
        headers: { authorization: `Bearer ${a.secret}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "claude-haiku-4-5", messages }),
      });
      expect(refused.status).toBe(503);
      expect(refused.headers.get("x-should-retry")).toBe("false");
      expect(await refused.json()).toEqual({
        error: { message: expect.stringContaining("anthropic"), type: "service_unavailable", param: "model", code: "model_not_available" },
      });
      // A bad key still hears 401 first; other providers keep working.
      await expect(clientFor(t, "pk_live_" + "x".repeat(43)).chat.completions.create({ model: "claude-haiku-4-5", messages })).rejects.toMatchObject({ status: 401 });
      await client.chat.completions.create({ model: "gpt-4o-mini", messages });
    } finally {
      process.env.ANTHROPIC_API_KEY = saved;
    }
    expect(sim.requests({ pathPrefix: "/v1/messages" })).toEqual([]);
    expect((await eventsOf(t, a.userId)).map((e) => e.model)).toEqual(["gpt-4o-mini"]);
    expect(await holdsOf(t, a.userId)).toEqual([]);
  });
});
