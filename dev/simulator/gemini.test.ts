// Gemini's OpenAI-compatible endpoint, exercised with the openai SDK as Google documents it.
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { geminiUsage, thoughtTokens } from "./gemini.ts";
import { startSimulator, type RunningSimulator } from "./server.ts";
import { planCompletion, requestPromptTokens } from "./tokens.ts";

let sim: RunningSimulator;
let client: OpenAI;
beforeAll(async () => {
  sim = await startSimulator({ port: 0, useEnv: false });
  client = new OpenAI({ apiKey: "gemini-sim-test", baseURL: `${sim.url}/v1beta/openai/`, maxRetries: 0 });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => sim.reset());

const messages = [{ role: "user" as const, content: "Explain quotas in one line." }];

describe("POST /v1beta/openai/chat/completions", () => {
  it("answers in OpenAI's shape; thought tokens are in total_tokens only", async () => {
    const res = await client.chat.completions.create({ model: "gemini-2.5-pro", messages, max_tokens: 500 });
    const thoughts = thoughtTokens({ model: "gemini-2.5-pro", messages });
    expect(thoughts).toBeGreaterThan(0);
    const plan = planCompletion({ model: "gemini-2.5-pro", messages, max_tokens: 500 - thoughts });
    expect(res.choices[0].message.content).toBe(plan.text);
    expect(res.usage).toEqual({
      prompt_tokens: requestPromptTokens({ messages }),
      completion_tokens: plan.completionTokens,
      total_tokens: requestPromptTokens({ messages }) + thoughts + plan.completionTokens,
    });
    expect(geminiUsage({ model: "gemini-2.5-pro", messages, max_tokens: 500 })).toEqual(res.usage);
    // The Flash-Lite model does not think.
    const lite = await client.chat.completions.create({ model: "gemini-2.5-flash-lite", messages });
    expect(lite.usage!.total_tokens).toBe(lite.usage!.prompt_tokens + lite.usage!.completion_tokens);
  });

  it("streams with a usage chunk when asked", async () => {
    const stream = await client.chat.completions.create({ model: "gemini-2.5-flash", messages, stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks[chunks.length - 1].usage).toEqual(geminiUsage({ model: "gemini-2.5-flash", messages }));
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe(
      planCompletion({ model: "gemini-2.5-flash", messages }).text,
    );
  });

  it("calls a named tool", async () => {
    const res = await client.chat.completions.create({
      model: "gemini-2.5-flash",
      messages,
      tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object", properties: { q: { type: "string" } }, required: ["q"] } } }],
      tool_choice: { type: "function", function: { name: "lookup" } },
    });
    expect(res.choices[0].finish_reason).toBe("tool_calls");
    expect(res.choices[0].message.tool_calls?.[0]).toMatchObject({ type: "function", function: { name: "lookup", arguments: "{\"q\":\"sim\"}" } });
  });

  it("answers errors in Google's array envelope", async () => {
    const raw = await fetch(`${sim.url}/v1beta/openai/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer gemini-sim-test", "content-type": "application/json" },
      body: JSON.stringify({ model: "gemini-9", messages }),
    });
    expect(raw.status).toBe(404);
    expect(await raw.json()).toEqual([{ error: { code: 404, message: expect.stringContaining("gemini-9"), status: "NOT_FOUND" } }]);
    const keyless = await fetch(`${sim.url}/v1beta/openai/chat/completions`, { method: "POST", body: "{}" });
    expect(keyless.status).toBe(401);
    sim.configure({ fail: { status: 503, count: 1 } });
    await expect(client.chat.completions.create({ model: "gemini-2.5-flash", messages })).rejects.toMatchObject({ status: 503 });
  });
});
