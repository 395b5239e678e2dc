// The simulated Messages API on the wire: headers, JSON and SSE shapes, usage, errors.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CACHE_MIN_TOKENS, messagesUsage, planReply, PRIMING_TOKENS, TOOL_SYSTEM_TOKENS, type MessagesRequest } from "./anthropic.ts";
import { startSimulator, type RunningSimulator } from "./server.ts";
import { planCompletion, textTokens, TOKENS_PER_MESSAGE } from "./tokens.ts";

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator({ port: 0, useEnv: false });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => sim.reset());

const HEADERS = { "x-api-key": "sk-ant-sim-test", "anthropic-version": "2023-06-01", "content-type": "application/json" };

async function post(body: unknown, headers: Record<string, string> = HEADERS) {
  return await fetch(`${sim.url}/v1/messages`, { method: "POST", headers, body: JSON.stringify(body) });
}

const request: MessagesRequest = {
  model: "claude-haiku-4-5",
  max_tokens: 200,
  system: "You are terse.",
  messages: [{ role: "user", content: "Which plan should a small team pick?" }],
};

/** Anthropic's SSE as [event name, data] pairs. */
function events(text: string): Array<[string, Record<string, unknown>]> {
  return text.trim().split(/\n\n/).map((frame) => {
    const [eventLine, dataLine] = frame.split("\n");
    return [eventLine.replace(/^event: /, ""), JSON.parse(dataLine.replace(/^data: /, ""))];
  });
}

describe("POST /v1/messages", () => {
  it("answers a message with the deterministic reply and exact usage", async () => {
    const res = await post(request);
    expect(res.status).toBe(200);
    const body = await res.json();
    const plan = planCompletion({ model: request.model, messages: [{ role: "user", content: "Which plan should a small team pick?" }], max_tokens: 200 });
    expect(body).toMatchObject({
      type: "message",
      role: "assistant",
      model: "claude-haiku-4-5",
      content: [{ type: "text", text: plan.text }],
      stop_reason: "end_turn",
      stop_sequence: null,
    });
    expect(body.id).toMatch(/^msg_/);
    const input = PRIMING_TOKENS + textTokens("You are terse.") + TOKENS_PER_MESSAGE + textTokens("Which plan should a small team pick?");
    expect(body.usage).toEqual({ input_tokens: input, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: plan.completionTokens, service_tier: "standard" });
    expect(messagesUsage(request)).toEqual({ input_tokens: input, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: plan.completionTokens });
    // The key never reaches the request log.
    expect(sim.requests({ pathPrefix: "/v1/messages" })[0].headers).not.toHaveProperty("x-api-key");
  });

  it("streams Anthropic's event sequence with the usage in message_start and message_delta", async () => {
    const res = await post({ ...request, stream: true });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const seq = events(await res.text());
    expect(seq.map(([name]) => name)).toEqual([
      "message_start", "content_block_start", "ping",
      ...planReply(request).pieces.map(() => "content_block_delta"),
      "content_block_stop", "message_delta", "message_stop",
    ]);
    for (const [name, data] of seq) expect(data.type).toBe(name);
    const usage = messagesUsage(request);
    expect((seq[0][1].message as { usage: unknown }).usage).toMatchObject({ input_tokens: usage.input_tokens, output_tokens: 1 });
    const text = seq.filter(([n]) => n === "content_block_delta").map(([, d]) => (d.delta as { text: string }).text).join("");
    expect(text).toBe(planReply(request).pieces.join(""));
    expect(seq[seq.length - 2][1]).toEqual({ type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: usage.output_tokens } });
  });

  it("calls a forced tool with placeholder input, in JSON and as input_json_delta fragments", async () => {
    const tools = [{ name: "weather", description: "Weather", input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } }];
    const forced = { ...request, tools, tool_choice: { type: "tool", name: "weather" } };
    const body = await (await post(forced)).json();
    expect(body.stop_reason).toBe("tool_use");
    expect(body.content).toEqual([{ type: "tool_use", id: expect.stringMatching(/^toolu_/), name: "weather", input: { city: "sim" } }]);
    expect(body.usage.output_tokens).toBe(3 + textTokens("weather") + textTokens("{\"city\":\"sim\"}"));
    // The hidden tool system prompt and the definitions count as input.
    expect(body.usage.input_tokens).toBe(messagesUsage(request).input_tokens + TOOL_SYSTEM_TOKENS.forced + textTokens(JSON.stringify(tools[0])));
    const seq = events(await (await post({ ...forced, stream: true })).text());
    const json = seq.filter(([n, d]) => n === "content_block_delta" && (d.delta as { type: string }).type === "input_json_delta")
      .map(([, d]) => (d.delta as { partial_json: string }).partial_json).join("");
    expect(JSON.parse(json)).toEqual({ city: "sim" });
    // auto answers in text, with the larger tool prompt.
    const auto = await (await post({ ...request, tools, tool_choice: { type: "auto" } })).json();
    expect(auto.content[0].type).toBe("text");
    expect(auto.usage.input_tokens).toBe(body.usage.input_tokens - TOOL_SYSTEM_TOKENS.forced + TOOL_SYSTEM_TOKENS.auto);
  });

  it("stops at a stop sequence or at max_tokens", async () => {
    const words = planReply(request).pieces;
    const stop = words[3].trim();
    const cut = await (await post({ ...request, stop_sequences: [stop] })).json();
    expect(cut.stop_reason).toBe("stop_sequence");
    expect(cut.stop_sequence).toBe(stop);
    expect(cut.content[0].text).toBe(words.slice(0, 3).join("") + " ");
    expect(cut.usage.output_tokens).toBe(4);
    const short = await (await post({ ...request, max_tokens: 3 })).json();
    expect(short.stop_reason).toBe("max_tokens");
    expect(short.usage.output_tokens).toBe(3);
  });

  it("writes a cache_control prefix of 1024+ tokens once, then reads it", async () => {
    const long = "word ".repeat(CACHE_MIN_TOKENS);
    const cached = { ...request, system: [{ type: "text", text: long, cache_control: { type: "ephemeral" } }] };
    const prefix = PRIMING_TOKENS + textTokens(long);
    const first = (await (await post(cached)).json()).usage;
    expect(first).toMatchObject({ cache_creation_input_tokens: prefix, cache_read_input_tokens: 0 });
    const second = (await (await post(cached)).json()).usage;
    expect(second).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: prefix, input_tokens: first.input_tokens });
    // A short prefix is not cached at all.
    const small = (await (await post({ ...request, system: [{ type: "text", text: "tiny", cache_control: { type: "ephemeral" } }] })).json()).usage;
    expect(small).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
    sim.reset();
    expect((await (await post(cached)).json()).usage.cache_creation_input_tokens).toBe(prefix);
  });

  it.each([
    ["no key", { ...HEADERS, "x-api-key": "" }, request, 401, "authentication_error"],
    ["a bad key", { ...HEADERS, "x-api-key": "sk-ant-invalid" }, request, 401, "authentication_error"],
    ["no anthropic-version", { "x-api-key": "k", "content-type": "application/json" }, request, 400, "invalid_request_error"],
    ["no max_tokens", HEADERS, { ...request, max_tokens: undefined }, 400, "invalid_request_error"],
    ["an unknown model", HEADERS, { ...request, model: "claude-9" }, 404, "not_found_error"],
    ["a system role in messages", HEADERS, { ...request, messages: [{ role: "system", content: "x" }] }, 400, "invalid_request_error"],
    ["temperature 2", HEADERS, { ...request, temperature: 2 }, 400, "invalid_request_error"],
  ])("answers %s with Anthropic's error JSON", async (_name, headers, body, status, type) => {
    const res = await post(body, headers as Record<string, string>);
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({ type: "error", error: { type, message: expect.any(String) } });
  });

  it("honours the failure, latency and stream-cut knobs", async () => {
    sim.configure({ fail: { status: 529, count: 1 } });
    const failed = await post(request);
    expect(failed.status).toBe(529);
    expect((await failed.json()).error.type).toBe("overloaded_error");
    expect((await post(request)).status).toBe(200);
    sim.configure({ streamCut: { afterChunks: 4, count: 1 } });
    await expect(post({ ...request, stream: true }).then((r) => r.text())).rejects.toThrow();
    sim.configure({ latencyMs: 120 });
    const started = Date.now();
    await post(request);
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
  });
});
