// The simulated OpenAI API exercised with the official SDK, the way the proxy will call it.
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startSimulator, type RunningSimulator } from "./server.ts";
import { chatPromptTokens, chatUsage, messageTokens, planChoices, planCompletion, planToolCall, textTokens } from "./tokens.ts";

let sim: RunningSimulator;
let client: OpenAI;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, useEnv: false });
  client = new OpenAI({ apiKey: "sk-sim-test", baseURL: `${sim.url}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await sim.close();
});

beforeEach(() => {
  sim.reset();
});

const messages = [
  { role: "system" as const, content: "You are terse." },
  { role: "user" as const, content: "Summarise the plan limits for the trial account, please." },
];

describe("chat completions", () => {
  it("answers JSON with the deterministic content and exact usage", async () => {
    const { data, response } = await client.chat.completions.create({ model: "gpt-4o-mini", messages }).withResponse();
    const plan = planCompletion({ model: "gpt-4o-mini", messages });
    expect(data.object).toBe("chat.completion");
    expect(data.choices[0].message).toMatchObject({ role: "assistant", content: plan.text });
    expect(data.choices[0].finish_reason).toBe("stop");
    expect(data.usage).toEqual(chatUsage({ model: "gpt-4o-mini", messages }));
    // 3 per message + ceil(chars/4) per message + 3 priming.
    expect(data.usage?.prompt_tokens).toBe(3 + textTokens(messages[0].content) + 3 + textTokens(messages[1].content) + 3);
    expect(response.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]{32}$/);
    expect(response.headers.get("x-ratelimit-limit-requests")).toBe("30000");
    expect(response.headers.get("x-ratelimit-remaining-requests")).toBe("29999");
  });

  it("gives the same reply to the same prompt and a different one to another prompt", async () => {
    const a = await client.chat.completions.create({ model: "gpt-4o", messages });
    const b = await client.chat.completions.create({ model: "gpt-4o", messages });
    const c = await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "Something else" }] });
    expect(a.choices[0].message.content).toBe(b.choices[0].message.content);
    expect(a.usage).toEqual(b.usage);
    expect(c.choices[0].message.content).not.toBe(a.choices[0].message.content);
  });

  it("streams a role chunk, one delta per token, a finish chunk and the usage chunk", async () => {
    const request = { model: "gpt-4o-mini", messages };
    const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const plan = planCompletion(request);

    expect(chunks.every((c) => c.object === "chat.completion.chunk")).toBe(true);
    expect(chunks[0].choices[0].delta.role).toBe("assistant");
    const deltas = chunks.slice(1, -2).map((c) => c.choices[0].delta.content);
    expect(deltas).toEqual(plan.pieces);
    expect(chunks.at(-2)?.choices[0].finish_reason).toBe("stop");
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual(chatUsage(request));
  });

  it("omits usage from chunks and sends no usage chunk without include_usage", async () => {
    const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages, stream: true });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((c) => !("usage" in c))).toBe(true);
    expect(chunks.at(-1)?.choices[0].finish_reason).toBe("stop");
  });

  it("ends the SSE body with data: [DONE]", async () => {
    const response = await fetch(`${sim.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer sk-sim-test", "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages, stream: true, stream_options: { include_usage: true } }),
    });
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const text = await response.text();
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(text.split("\n\n").filter(Boolean).every((event) => event.startsWith("data: "))).toBe(true);
  });

  it("cuts the completion at max_tokens with finish_reason length", async () => {
    const request = { model: "gpt-4o-mini", messages, max_tokens: 3 };
    const json = await client.chat.completions.create(request);
    expect(json.choices[0].finish_reason).toBe("length");
    expect(json.usage?.completion_tokens).toBe(3);

    const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
    const contents: string[] = [];
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) contents.push(chunk.choices[0].delta.content);
      if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(contents).toHaveLength(3);
    expect(finish).toBe("length");
    expect(usage?.completion_tokens).toBe(3);
  });

  it("counts hidden reasoning tokens of reasoning models against max_completion_tokens", async () => {
    const request = { model: "gpt-5-mini", messages, max_completion_tokens: 10 };
    const json = await client.chat.completions.create(request);
    const plan = planCompletion(request);
    expect(plan.reasoningTokens).toBe(10);
    expect(json.usage?.completion_tokens).toBe(10);
    expect(json.usage?.completion_tokens_details?.reasoning_tokens).toBe(10);
    expect(json.choices[0].message.content).toBe("");
    expect(json.choices[0].finish_reason).toBe("length");
  });

  it("honours the completionTokens knob", async () => {
    sim.configure({ completionTokens: 2 });
    const json = await client.chat.completions.create({ model: "gpt-4o-mini", messages });
    expect(json.usage?.completion_tokens).toBe(2);
    expect(json.usage).toEqual(chatUsage({ model: "gpt-4o-mini", messages }, { completionTokens: 2 }));
  });

  it("answers n choices, choice 0 being the n = 1 reply, and bills all of them", async () => {
    const request = { model: "gpt-4o-mini", messages, n: 3, max_tokens: 20 };
    const json = await client.chat.completions.create(request);
    const plans = planChoices(request);
    expect(json.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(json.choices.map((c) => c.message.content)).toEqual(plans.map((p) => p.text));
    expect(json.choices[0].message.content).toBe(planCompletion({ model: "gpt-4o-mini", messages, max_tokens: 20 }).text);
    expect(new Set(json.choices.map((c) => c.message.content)).size).toBe(3);
    expect(json.usage).toEqual(chatUsage(request));
    expect(json.usage?.completion_tokens).toBe(plans.reduce((sum, p) => sum + p.completionTokens, 0));
  });

  it("interleaves the choices of a stream", async () => {
    const request = { model: "gpt-4o-mini", messages, n: 2 };
    const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
    const texts = ["", ""];
    const finishes: (string | null)[] = [null, null];
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        texts[choice.index] += choice.delta.content ?? "";
        finishes[choice.index] = choice.finish_reason ?? finishes[choice.index];
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(texts).toEqual(planChoices(request).map((p) => p.text));
    expect(finishes).toEqual(["stop", "stop"]);
    expect(usage).toEqual(chatUsage(request));
  });

  it("rejects stream_options without stream, as OpenAI does", async () => {
    await expect(
      client.chat.completions.create({ model: "gpt-4o-mini", messages, stream_options: { include_usage: true } }),
    ).rejects.toMatchObject({ status: 400, param: "stream_options" });
  });

  it("answers 404 model_not_found for an unknown model", async () => {
    const error = await client.chat.completions.create({ model: "gpt-9-ultra", messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error).toMatchObject({ status: 404, code: "model_not_found", type: "invalid_request_error" });
  });

  it("answers 400 for empty messages", async () => {
    await expect(client.chat.completions.create({ model: "gpt-4o-mini", messages: [] })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });
});

describe("tool calls", () => {
  const tools = [
    {
      type: "function" as const,
      function: {
        name: "send_email",
        parameters: { type: "object", properties: { to: { type: "string" }, urgent: { type: "boolean" }, cc: { type: "array" } }, required: ["to", "urgent"] },
      },
    },
  ];

  it("calls the named tool with placeholder arguments and bills the call", async () => {
    const request = { model: "gpt-4o-mini", messages, tools, tool_choice: { type: "function" as const, function: { name: "send_email" } } };
    const json = await client.chat.completions.create(request);
    const call = json.choices[0].message.tool_calls?.[0];
    expect(json.choices[0].finish_reason).toBe("tool_calls");
    expect(json.choices[0].message.content).toBeNull();
    expect(call).toMatchObject({ type: "function", function: { name: "send_email" } });
    expect(JSON.parse((call as { function: { arguments: string } }).function.arguments)).toEqual({ to: "sim", urgent: true });
    expect(json.usage).toEqual(chatUsage(request));
    // Tool definitions count toward the prompt.
    expect(json.usage?.prompt_tokens).toBe(chatPromptTokens(messages) + textTokens(JSON.stringify(tools)));
  });

  it("streams the call as a header delta and argument fragments", async () => {
    const request = { model: "gpt-4o-mini", messages, tools, tool_choice: "required" as const };
    const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
    let name = "";
    let args = "";
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta;
      for (const call of delta?.tool_calls ?? []) {
        name += call.function?.name ?? "";
        args += call.function?.arguments ?? "";
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(name).toBe("send_email");
    expect(args).toBe(planToolCall(request)!.arguments);
    expect(finish).toBe("tool_calls");
    expect(usage).toEqual(chatUsage(request));
  });

  it("answers in text when tool_choice is auto, and 400s for a tool that was not provided", async () => {
    const auto = await client.chat.completions.create({ model: "gpt-4o-mini", messages, tools });
    expect(auto.choices[0].message.content).toBe(planCompletion({ model: "gpt-4o-mini", messages }).text);
    await expect(
      client.chat.completions.create({ model: "gpt-4o-mini", messages, tools, tool_choice: { type: "function", function: { name: "nope" } } }),
    ).rejects.toMatchObject({ status: 400, param: "tool_choice" });
  });

  it("cuts the arguments at max_tokens with finish_reason length", async () => {
    const request = { model: "gpt-4o-mini", messages, tools, tool_choice: "required" as const, max_tokens: 6 };
    const json = await client.chat.completions.create(request);
    expect(json.choices[0].finish_reason).toBe("length");
    expect(json.usage?.completion_tokens).toBe(6);
  });
});

describe("prompt cache (opt-in)", () => {
  const system = { role: "system" as const, content: "Policy. ".repeat(700) };

  it("reports the longest previously seen message prefix as cached, in 128-token blocks", async () => {
    sim.configure({ promptCache: true });
    const first = { model: "gpt-4o-mini", messages: [system, { role: "user" as const, content: "first question" }] };
    const second = { model: "gpt-4o-mini", messages: [system, { role: "user" as const, content: "second question" }] };
    const a = await client.chat.completions.create(first);
    expect(a.usage?.prompt_tokens_details?.cached_tokens).toBe(0);
    const b = await client.chat.completions.create(second);
    const expected = Math.floor(messageTokens(system) / 128) * 128;
    expect(expected).toBeGreaterThanOrEqual(1024);
    expect(b.usage?.prompt_tokens_details?.cached_tokens).toBe(expected);
    expect(b.usage).toEqual(chatUsage(second, { cachedTokens: expected }));
  });

  it("never caches short prompts, and is off by default", async () => {
    sim.configure({ promptCache: true });
    await client.chat.completions.create({ model: "gpt-4o-mini", messages });
    const again = await client.chat.completions.create({ model: "gpt-4o-mini", messages });
    expect(again.usage?.prompt_tokens_details?.cached_tokens).toBe(0);
    sim.reset();
    const long = { model: "gpt-4o-mini", messages: [system, { role: "user" as const, content: "q" }] };
    await client.chat.completions.create(long);
    const repeat = await client.chat.completions.create(long);
    expect(repeat.usage?.prompt_tokens_details?.cached_tokens).toBe(0);
  });
});

describe("legacy completions", () => {
  it("answers with the plan for the prompt and defaults max_tokens to 16", async () => {
    const prompt = "Write a haiku about metering.";
    const json = await client.completions.create({ model: "gpt-3.5-turbo-instruct", prompt });
    const plan = planCompletion({ model: "gpt-3.5-turbo-instruct", messages: [{ role: "user", content: prompt }], max_tokens: 16 });
    expect(json.choices[0].text).toBe(plan.text);
    expect(json.usage).toEqual({ prompt_tokens: textTokens(prompt), completion_tokens: plan.completionTokens, total_tokens: textTokens(prompt) + plan.completionTokens });
  });
});

describe("authentication", () => {
  it("answers 401 invalid_api_key for sk-sim-invalid", async () => {
    const bad = new OpenAI({ apiKey: "sk-sim-invalid", baseURL: `${sim.url}/v1`, maxRetries: 0 });
    const error = await bad.models.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error).toMatchObject({ status: 401, code: "invalid_api_key" });
  });

  it("answers 401 with OpenAI's body when the key is missing", async () => {
    const response = await fetch(`${sim.url}/v1/models`);
    expect(response.status).toBe(401);
    const body = (await response.json()) as { error: Record<string, unknown> };
    expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
    expect(body.error.message).toContain("didn't provide an API key");
  });

  it("accepts only the configured keys when apiKeys is set", async () => {
    sim.configure({ apiKeys: ["sk-only-this"] });
    await expect(client.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const allowed = new OpenAI({ apiKey: "sk-only-this", baseURL: `${sim.url}/v1`, maxRetries: 0 });
    await expect(allowed.models.retrieve("gpt-4o")).resolves.toMatchObject({ id: "gpt-4o" });
  });
});

describe("embeddings", () => {
  it("returns floats when asked and reports the input tokens", async () => {
    const input = ["first document", "a second, longer document"];
    const json = await client.embeddings.create({ model: "text-embedding-3-small", input, encoding_format: "float" });
    expect(json.data).toHaveLength(2);
    expect(json.data[1].index).toBe(1);
    expect(json.data[0].embedding).toHaveLength(1536);
    const norm = Math.sqrt(json.data[0].embedding.reduce((s, v) => s + v * v, 0));
    expect(norm).toBeCloseTo(1, 4);
    expect(json.usage).toEqual({ prompt_tokens: textTokens(input[0]) + textTokens(input[1]), total_tokens: textTokens(input[0]) + textTokens(input[1]) });
  });

  it("sends base64 by default and the SDK decodes it to the same numbers", async () => {
    const decoded = await client.embeddings.create({ model: "text-embedding-3-small", input: "same text" });
    const floats = await client.embeddings.create({ model: "text-embedding-3-small", input: "same text", encoding_format: "float" });
    const sent = sim.requests({ pathPrefix: "/v1/embeddings" });
    expect((sent[0].body as { encoding_format?: string }).encoding_format).toBe("base64");
    expect(decoded.data[0].embedding.every((v) => typeof v === "number")).toBe(true);
    decoded.data[0].embedding.forEach((v, i) => expect(v).toBeCloseTo(floats.data[0].embedding[i], 6));
  });

  it("shortens vectors to the requested dimensions and refuses them for ada-002", async () => {
    const json = await client.embeddings.create({ model: "text-embedding-3-large", input: "x", dimensions: 256, encoding_format: "float" });
    expect(json.data[0].embedding).toHaveLength(256);
    await expect(client.embeddings.create({ model: "text-embedding-ada-002", input: "x", dimensions: 256 })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });

  it("counts pre-tokenized input one token per integer", async () => {
    const json = await client.embeddings.create({ model: "text-embedding-3-small", input: [1, 2, 3, 4, 5], encoding_format: "float" });
    expect(json.usage.prompt_tokens).toBe(5);
  });
});

describe("models", () => {
  it("lists and retrieves models, 404 for unknown ids", async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(expect.arrayContaining(["gpt-4o-mini", "text-embedding-3-small", "tts-1"]));
    await expect(client.models.retrieve("gpt-4o-mini")).resolves.toMatchObject({ id: "gpt-4o-mini", object: "model" });
    await expect(client.models.retrieve("nope")).rejects.toMatchObject({ status: 404, code: "model_not_found" });
  });
});

describe("audio speech", () => {
  async function speak(input: string, format: "wav" | "mp3" | "pcm") {
    const response = await client.audio.speech.create({ model: "tts-1", voice: "alloy", input, response_format: format });
    return { type: response.headers.get("content-type"), bytes: Buffer.from(await response.arrayBuffer()) };
  }

  it("returns a valid WAV whose length grows with the input", async () => {
    const short = await speak("Hello.", "wav");
    const long = await speak("Hello there, this is a much longer sentence to read aloud.", "wav");
    expect(short.type).toBe("audio/wav");
    for (const { bytes } of [short, long]) {
      expect(bytes.toString("ascii", 0, 4)).toBe("RIFF");
      expect(bytes.toString("ascii", 8, 12)).toBe("WAVE");
      expect(bytes.readUInt32LE(4)).toBe(bytes.length - 8);
      expect(bytes.readUInt16LE(20)).toBe(1); // PCM
      expect(bytes.readUInt32LE(24)).toBe(24_000);
      expect(bytes.readUInt32LE(40)).toBe(bytes.length - 44);
    }
    expect(long.bytes.length).toBeGreaterThan(short.bytes.length);
  });

  it("returns MPEG audio frames for mp3 and headerless samples for pcm", async () => {
    const mp3 = await speak("Hello there, general.", "mp3");
    expect(mp3.type).toBe("audio/mpeg");
    expect(mp3.bytes[0]).toBe(0xff);
    expect(mp3.bytes[1] & 0xe0).toBe(0xe0); // frame sync
    expect(mp3.bytes.length % 96).toBe(0);
    const pcm = await speak("Hello there, general.", "pcm");
    expect(pcm.type).toBe("audio/pcm");
    expect(pcm.bytes.length % 2).toBe(0);
    expect(pcm.bytes.toString("ascii", 0, 4)).not.toBe("RIFF");
  });

  it("refuses input over 4096 characters", async () => {
    const error = await client.audio.speech.create({ model: "tts-1", voice: "alloy", input: "a".repeat(4097) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ param: "input" });
  });
});

describe("prompt token formula", () => {
  it("matches the documented per-message recipe", () => {
    expect(chatPromptTokens([{ role: "user", content: "abcd" }])).toBe(3 + 1 + 3);
    expect(chatPromptTokens([{ role: "user", content: "abcde" }])).toBe(3 + 2 + 3);
  });
});
