import { describe, expect, it } from "vitest";
import {
  AnthropicStreamTranslator,
  finishReasonOf,
  fromAnthropicMessage,
  holdAllowance,
  IMAGE_TOKENS,
  openAiUsageOf,
  TOOL_USE_SYSTEM_PROMPT_TOKENS,
  toAnthropicRequest,
  TranslationError,
  translateMessages,
} from "./anthropic";
import { SseParser } from "./sse";

const user = (content: unknown) => ({ role: "user", content });

describe("requests: messages", () => {
  it.each([
    {
      name: "system and developer messages become the system prompt, in order",
      messages: [{ role: "system", content: "Be terse." }, { role: "developer", content: [{ type: "text", text: "No lists." }] }, user("Hi")],
      system: [{ type: "text", text: "Be terse." }, { type: "text", text: "No lists." }],
      turns: [{ role: "user", content: [{ type: "text", text: "Hi" }] }],
    },
    {
      name: "consecutive turns of one role are merged",
      messages: [user("a"), user("b"), { role: "assistant", content: "c" }],
      system: [],
      turns: [
        { role: "user", content: [{ type: "text", text: "a" }, { type: "text", text: "b" }] },
        { role: "assistant", content: [{ type: "text", text: "c" }] },
      ],
    },
    {
      name: "assistant tool calls become tool_use blocks; tool messages become tool_result blocks in one user turn",
      messages: [
        user("Weather in Paris and Rome?"),
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "toolu_1", type: "function", function: { name: "weather", arguments: "{\"city\":\"Paris\"}" } },
            { id: "toolu_2", type: "function", function: { name: "weather", arguments: "" } },
          ],
        },
        { role: "tool", tool_call_id: "toolu_1", content: "18C" },
        { role: "tool", tool_call_id: "toolu_2", content: [{ type: "text", text: "21" }, { type: "text", text: "C" }] },
        user("Thanks"),
      ],
      system: [],
      turns: [
        { role: "user", content: [{ type: "text", text: "Weather in Paris and Rome?" }] },
        {
          role: "assistant",
          content: [
            { type: "tool_use", id: "toolu_1", name: "weather", input: { city: "Paris" } },
            { type: "tool_use", id: "toolu_2", name: "weather", input: {} },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_1", content: "18C" },
            { type: "tool_result", tool_use_id: "toolu_2", content: "21C" },
            { type: "text", text: "Thanks" },
          ],
        },
      ],
    },
    {
      name: "images (data URLs and https) and cache_control on text parts",
      messages: [
        user([
          { type: "text", text: "Long context", cache_control: { type: "ephemeral" } },
          { type: "image_url", image_url: { url: "data:image/PNG;base64,iVBOR" } },
          { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
          { type: "text", text: "" },
        ]),
      ],
      system: [],
      turns: [
        {
          role: "user",
          content: [
            { type: "text", text: "Long context", cache_control: { type: "ephemeral" } },
            { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBOR" } },
            { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
          ],
        },
      ],
    },
  ])("$name", ({ messages, system, turns }) => {
    expect(translateMessages(messages)).toEqual({ system, messages: turns });
  });

  it.each([
    { name: "no messages", messages: [], param: "messages" },
    { name: "only a system prompt", messages: [{ role: "system", content: "x" }], param: "messages" },
    { name: "a function-role message", messages: [{ role: "function", name: "f", content: "x" }], param: "messages[0].role" },
    { name: "tool arguments that are not JSON", messages: [user("x"), { role: "assistant", tool_calls: [{ id: "t", type: "function", function: { name: "f", arguments: "{oops" } }] }], param: "messages[1].tool_calls[0].function.arguments" },
    { name: "tool arguments that are not an object", messages: [user("x"), { role: "assistant", tool_calls: [{ id: "t", type: "function", function: { name: "f", arguments: "[1]" } }] }], param: "messages[1].tool_calls[0].function.arguments" },
    { name: "a tool message without tool_call_id", messages: [user("x"), { role: "tool", content: "r" }], param: "messages[1].tool_call_id" },
    { name: "an audio part", messages: [user([{ type: "input_audio", input_audio: { data: "", format: "wav" } }])], param: "messages[0].content[0]" },
    { name: "an image in a system prompt", messages: [{ role: "system", content: [{ type: "image_url", image_url: { url: "https://x/y.png" } }] }, user("x")], param: "messages[0].content[0]" },
    { name: "an empty assistant turn", messages: [user("x"), { role: "assistant", content: "" }], param: "messages[1]" },
    { name: "a cache_control that is not ephemeral", messages: [user([{ type: "text", text: "x", cache_control: { type: "forever" } }])], param: "messages[0].content[0]" },
    { name: "a 1-hour cache (billed above the price book's write rate)", messages: [user([{ type: "text", text: "x", cache_control: { type: "ephemeral", ttl: "1h" } }])], param: "messages[0].content[0]" },
  ])("refuses $name", ({ messages, param }) => {
    let error: unknown;
    try {
      translateMessages(messages);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TranslationError);
    expect((error as TranslationError).param).toBe(param);
  });
});

describe("requests: parameters", () => {
  const base = { model: "claude-haiku-4-5", messages: [user("Hi")] };

  it("carries model, sampling, stop sequences, user and stream, and adds no max_tokens itself", () => {
    expect(toAnthropicRequest({ ...base, temperature: 0.2, top_p: 0.9, stop: "END", user: "u-1", stream: true, stream_options: { include_usage: true } })).toEqual({
      model: "claude-haiku-4-5",
      messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }],
      temperature: 0.2,
      top_p: 0.9,
      stop_sequences: ["END"],
      metadata: { user_id: "u-1" },
      stream: true,
    });
    expect(toAnthropicRequest({ ...base, stop: ["a", "b"] }).stop_sequences).toEqual(["a", "b"]);
    expect(toAnthropicRequest(base)).not.toHaveProperty("max_tokens");
  });

  it("drops sampling hints Anthropic has no equivalent for", () => {
    const out = toAnthropicRequest({ ...base, seed: 3, frequency_penalty: 1, presence_penalty: 1, logit_bias: { 1: 2 }, n: 1, response_format: { type: "text" } });
    expect(Object.keys(out).sort()).toEqual(["messages", "model"]);
  });

  const weather = { type: "function", function: { name: "weather", description: "Weather by city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } };

  it.each([
    { tool_choice: undefined, parallel: undefined, expected: undefined },
    { tool_choice: "auto", parallel: undefined, expected: { type: "auto" } },
    { tool_choice: "none", parallel: undefined, expected: { type: "none" } },
    { tool_choice: "required", parallel: undefined, expected: { type: "any" } },
    { tool_choice: { type: "function", function: { name: "weather" } }, parallel: undefined, expected: { type: "tool", name: "weather" } },
    { tool_choice: undefined, parallel: false, expected: { type: "auto", disable_parallel_tool_use: true } },
    { tool_choice: "required", parallel: false, expected: { type: "any", disable_parallel_tool_use: true } },
  ])("tools: tool_choice $tool_choice (parallel $parallel)", ({ tool_choice, parallel, expected }) => {
    const out = toAnthropicRequest({ ...base, tools: [weather], tool_choice, parallel_tool_calls: parallel });
    expect(out.tools).toEqual([{ name: "weather", description: "Weather by city", input_schema: weather.function.parameters }]);
    expect(out.tool_choice).toEqual(expected);
  });

  it("gives a tool without parameters an empty object schema", () => {
    const out = toAnthropicRequest({ ...base, tools: [{ type: "function", function: { name: "now" } }] });
    expect(out.tools).toEqual([{ name: "now", input_schema: { type: "object", properties: {} } }]);
  });

  it.each([
    { name: "n > 1", body: { n: 2 }, param: "n" },
    { name: "logprobs", body: { logprobs: true }, param: "logprobs" },
    { name: "JSON mode", body: { response_format: { type: "json_object" } }, param: "response_format" },
    { name: "temperature above 1", body: { temperature: 1.5 }, param: "temperature" },
    { name: "a non-string stop", body: { stop: [1] }, param: "stop" },
    { name: "a non-function tool", body: { tools: [{ type: "web_search" }] }, param: "tools[0]" },
    { name: "a malformed tool_choice", body: { tools: [weather], tool_choice: { type: "tool" } }, param: "tool_choice" },
    { name: "tool_choice required without tools", body: { tool_choice: "required" }, param: "tool_choice" },
  ])("refuses $name", ({ body, param }) => {
    expect(() => toAnthropicRequest({ ...base, ...body })).toThrow(TranslationError);
    try {
      toAnthropicRequest({ ...base, ...body });
    } catch (e) {
      expect((e as TranslationError).param).toBe(param);
    }
  });
});

describe("replies", () => {
  it.each([
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["max_tokens", "length"],
    ["tool_use", "tool_calls"],
    ["refusal", "content_filter"],
    ["pause_turn", "stop"],
    [null, null],
  ])("stop_reason %s -> finish_reason %s", (stop, finish) => {
    expect(finishReasonOf(stop)).toBe(finish);
  });

  it("counts cache reads and writes into prompt_tokens and keeps them apart", () => {
    expect(openAiUsageOf({ input_tokens: 10, output_tokens: 7, cache_read_input_tokens: 2000, cache_creation_input_tokens: 300 })).toEqual({
      prompt_tokens: 2310,
      completion_tokens: 7,
      total_tokens: 2317,
      prompt_tokens_details: { cached_tokens: 2000 },
      cache_read_input_tokens: 2000,
      cache_creation_input_tokens: 300,
    });
    expect(openAiUsageOf({ input_tokens: 5, output_tokens: 1 })).toMatchObject({ prompt_tokens: 5, cache_creation_input_tokens: 0 });
  });

  it("translates text and tool_use content into one OpenAI message", () => {
    const completion = fromAnthropicMessage({
      id: "msg_1",
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-5",
      content: [
        { type: "thinking", thinking: "hidden", signature: "s" },
        { type: "text", text: "Checking." },
        { type: "tool_use", id: "toolu_9", name: "weather", input: { city: "Paris" } },
      ],
      stop_reason: "tool_use",
      stop_sequence: null,
      usage: { input_tokens: 20, output_tokens: 9 },
    }, 1_700_000_000);
    expect(completion).toEqual({
      id: "msg_1",
      object: "chat.completion",
      created: 1_700_000_000,
      model: "claude-sonnet-4-5",
      choices: [{
        index: 0,
        message: {
          role: "assistant",
          content: "Checking.",
          refusal: null,
          tool_calls: [{ id: "toolu_9", type: "function", function: { name: "weather", arguments: "{\"city\":\"Paris\"}" } }],
        },
        logprobs: null,
        finish_reason: "tool_calls",
      }],
      usage: openAiUsageOf({ input_tokens: 20, output_tokens: 9 }),
    });
  });

  it("answers a tool call alone with content null", () => {
    const completion = fromAnthropicMessage({ id: "m", model: "x", content: [{ type: "tool_use", id: "t", name: "f", input: {} }], stop_reason: "tool_use", usage: {} }, 1);
    expect((completion.choices as Array<{ message: { content: unknown } }>)[0].message.content).toBeNull();
  });

  it("refuses a reply that is not a message", () => {
    expect(() => fromAnthropicMessage({ type: "error" }, 1)).toThrow(TranslationError);
  });
});

/** Anthropic's SSE framing: `event: <type>` then `data: <json>`. */
function sse(events: Array<Record<string, unknown>>): string {
  return events.map((e) => `event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`).join("");
}

function chunksOf(text: string): unknown[] {
  return new SseParser().push(text).map((e) => (e.data === "[DONE]" ? "[DONE]" : JSON.parse(e.data)));
}

const START = {
  type: "message_start",
  message: {
    id: "msg_s", type: "message", role: "assistant", model: "claude-haiku-4-5", content: [], stop_reason: null, stop_sequence: null,
    usage: { input_tokens: 12, cache_creation_input_tokens: 1024, cache_read_input_tokens: 0, output_tokens: 1 },
  },
};

describe("streams", () => {
  it("translates a text stream into chunks, with the usage chunk and [DONE] last", () => {
    const t = new AnthropicStreamTranslator({ created: 5, model: "claude-haiku-4-5" });
    const upstream = sse([
      START,
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      { type: "ping" },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hello" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: " there" } },
      { type: "content_block_stop", index: 0 },
      { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 4 } },
      { type: "message_stop" },
    ]);
    // Fed in small pieces: events split across reads must come out whole.
    let out = "";
    for (let i = 0; i < upstream.length; i += 7) out += t.push(upstream.slice(i, i + 7));
    out += t.end();
    const chunks = chunksOf(out) as Array<Record<string, unknown>>;
    const base = { id: "msg_s", object: "chat.completion.chunk", created: 5, model: "claude-haiku-4-5" };
    expect(chunks).toEqual([
      { ...base, choices: [{ index: 0, delta: { role: "assistant", content: "", refusal: null }, logprobs: null, finish_reason: null }], usage: null },
      { ...base, choices: [{ index: 0, delta: { content: "Hello" }, logprobs: null, finish_reason: null }], usage: null },
      { ...base, choices: [{ index: 0, delta: { content: " there" }, logprobs: null, finish_reason: null }], usage: null },
      { ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }], usage: null },
      { ...base, choices: [], usage: openAiUsageOf({ input_tokens: 12, cache_creation_input_tokens: 1024, cache_read_input_tokens: 0, output_tokens: 4 }) },
      "[DONE]",
    ]);
  });

  it("streams tool_use blocks as OpenAI tool call deltas with their own indexes", () => {
    const t = new AnthropicStreamTranslator({ created: 5, model: "m" });
    const out = t.push(sse([
      START,
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Sure." } },
      { type: "content_block_stop", index: 0 },
      { type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "toolu_a", name: "weather", input: {} } },
      { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: "" } },
      { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: "{\"city\":" } },
      { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: "\"Rome\"}" } },
      { type: "content_block_stop", index: 1 },
      { type: "message_delta", delta: { stop_reason: "tool_use" }, usage: { output_tokens: 15 } },
      { type: "message_stop" },
    ]));
    const deltas = (chunksOf(out) as Array<{ choices?: Array<{ delta: Record<string, unknown>; finish_reason: string | null }> }>)
      .filter((c) => typeof c === "object" && c.choices && c.choices.length > 0)
      .map((c) => [c.choices![0].delta, c.choices![0].finish_reason]);
    expect(deltas.slice(1)).toEqual([
      [{ content: "Sure." }, null],
      [{ tool_calls: [{ index: 0, id: "toolu_a", type: "function", function: { name: "weather", arguments: "" } }] }, null],
      [{ tool_calls: [{ index: 0, function: { arguments: "{\"city\":" } }] }, null],
      [{ tool_calls: [{ index: 0, function: { arguments: "\"Rome\"}" } }] }, null],
      [{}, "tool_calls"],
    ]);
  });

  it.each([
    ["max_tokens", "length"],
    ["stop_sequence", "stop"],
  ])("maps a streamed stop_reason %s to %s", (stop, finish) => {
    const t = new AnthropicStreamTranslator({ created: 1, model: "m" });
    const chunks = chunksOf(t.push(sse([START, { type: "message_delta", delta: { stop_reason: stop }, usage: { output_tokens: 2 } }]))) as Array<{ choices: Array<{ finish_reason: string | null }> }>;
    expect(chunks[chunks.length - 1].choices[0].finish_reason).toBe(finish);
  });

  it("turns an error event into OpenAI's in-stream error", () => {
    const t = new AnthropicStreamTranslator({ created: 1, model: "m" });
    const chunks = chunksOf(t.push(sse([START, { type: "error", error: { type: "overloaded_error", message: "Overloaded" } }])));
    expect(chunks[1]).toEqual({ error: { message: "Overloaded", type: "server_error", param: null, code: "overloaded_error" } });
  });

  it("bills a cut stream at message_start's prompt and the output's bytes, capped at the allowed output", () => {
    const t = new AnthropicStreamTranslator({ created: 1, model: "m" });
    t.push(sse([START, { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }, { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "héllo" } }]));
    expect(t.partialUsage(999, 100)).toEqual({ tokensIn: 12 + 1024, cachedTokensIn: 0, cacheWriteTokensIn: 1024, tokensOut: 6, characters: 0 });
    expect(t.partialUsage(999, 4).tokensOut).toBe(4);
    // Before message_start nothing is known: the caller's prompt bound stands.
    expect(new AnthropicStreamTranslator({ created: 1, model: "m" }).partialUsage(999, 100)).toEqual({
      tokensIn: 999, cachedTokensIn: 0, cacheWriteTokensIn: 0, tokensOut: 0, characters: 0,
    });
  });
});

describe("hold allowance", () => {
  it("adds the tool-use system prompt and Anthropic's larger image cost to the prompt bound", () => {
    const image = { type: "image_url", image_url: { url: "https://x/y.png" } };
    expect(holdAllowance({ messages: [user("hi")] }, 1_530)).toBe(0);
    expect(holdAllowance({ messages: [user("hi")], tools: [{ type: "function" }] }, 1_530)).toBe(TOOL_USE_SYSTEM_PROMPT_TOKENS);
    expect(holdAllowance({ messages: [user([image, image]), user([image])] }, 1_530)).toBe(3 * (IMAGE_TOKENS - 1_530));
    expect(holdAllowance({ messages: [user([image])] }, 2_000)).toBe(0);
  });
});
