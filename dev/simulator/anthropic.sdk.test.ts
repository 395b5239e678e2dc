// The simulated Messages API through Anthropic's official SDK: if the SDK accepts the replies,
// streams and errors, the simulator speaks Anthropic's wire format.
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { messagesUsage, planReply, type MessagesRequest } from "./anthropic.ts";
import { startSimulator, type RunningSimulator } from "./server.ts";

let sim: RunningSimulator;
let client: Anthropic;
beforeAll(async () => {
  sim = await startSimulator({ port: 0, useEnv: false });
  client = new Anthropic({ apiKey: "sk-ant-sim-sdk", baseURL: sim.url, maxRetries: 0 });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => sim.reset());

const request = {
  model: "claude-haiku-4-5",
  max_tokens: 100,
  system: "You are terse.",
  messages: [{ role: "user" as const, content: "Which plan should a small team pick?" }],
};

describe("the Messages API through @anthropic-ai/sdk", () => {
  it("creates a message with the planned text and exact usage", async () => {
    const message = await client.messages.create(request);
    expect(message.content).toEqual([{ type: "text", text: planReply(request as MessagesRequest).pieces.join("") }]);
    expect(message.stop_reason).toBe("end_turn");
    expect(message.usage).toMatchObject(messagesUsage(request as MessagesRequest));
    // The SDK sent the version header the simulator requires (its own, newer than the proxy's
    // 2023-06-01) and authenticated with Authorization: Bearer rather than x-api-key.
    expect(sim.requests({ pathPrefix: "/v1/messages" })[0].headers["anthropic-version"]).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it("streams: the SDK's MessageStream assembles text, tool input and the final usage", async () => {
    const stream = client.messages.stream(request);
    let text = "";
    stream.on("text", (delta) => {
      text += delta;
    });
    const final = await stream.finalMessage();
    expect(text).toBe(planReply(request as MessagesRequest).pieces.join(""));
    expect(final.usage.output_tokens).toBe(messagesUsage(request as MessagesRequest).output_tokens);

    const tools = [{ name: "weather", input_schema: { type: "object" as const, properties: { city: { type: "string" } }, required: ["city"] } }];
    const toolStream = client.messages.stream({ ...request, tools, tool_choice: { type: "any" } });
    const toolMessage = await toolStream.finalMessage();
    expect(toolMessage.stop_reason).toBe("tool_use");
    expect(toolMessage.content[0]).toMatchObject({ type: "tool_use", name: "weather", input: { city: "sim" } });
  });

  it("raises the SDK's typed errors from Anthropic's error JSON", async () => {
    await expect(new Anthropic({ apiKey: "sk-ant-invalid", baseURL: sim.url, maxRetries: 0 }).messages.create(request))
      .rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    await expect(client.messages.create({ ...request, model: "claude-9" })).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    sim.configure({ fail: { status: 529, count: 1 } });
    await expect(client.messages.create(request)).rejects.toMatchObject({ status: 529, error: { type: "error", error: { type: "overloaded_error" } } });
  });
});
