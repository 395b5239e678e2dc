// readReply: a provider's JSON reply is read once, and its bytes are what the client gets.
import { describe, expect, it } from "vitest";
import { answerThenSettle, readReply } from "./upstream";

describe("readReply", () => {
  it("gives the reply's exact bytes and their text", async () => {
    const raw = new TextEncoder().encode('{"choices":[{"message":{"content":"héllo ✓"}}],"usage":{"prompt_tokens":3}}\n');
    const { bytes, text } = await readReply(new Response(raw, { headers: { "content-type": "application/json" } }));
    expect([...bytes]).toEqual([...raw]);
    expect(JSON.parse(text).choices[0].message.content).toBe("héllo ✓");
  });

  it("hands those bytes to the client as they came, with their length", async () => {
    const raw = new TextEncoder().encode('{"data":[{"embedding":"AAAA"}],  "usage":{"prompt_tokens":1}}');
    const { bytes } = await readReply(new Response(raw));
    const grant = { requestId: "req_1", headers: { "x-request-id": "req_1" } } as unknown as Parameters<typeof answerThenSettle>[1];
    const ctx = { runMutation: async () => ({ costMicros: 0 }) } as unknown as Parameters<typeof answerThenSettle>[0];
    const reply = answerThenSettle(ctx, grant, bytes, "application/json", {
      kind: "embedding", model: "text-embedding-3-small", usage: { tokensIn: 1, cachedTokensIn: 0, tokensOut: 0, characters: 0 }, usageSource: "provider", startedAt: 0,
    });
    expect(reply.headers.get("content-length")).toBe(String(raw.length));
    const reader = reply.body!.getReader();
    const first = await reader.read();
    expect([...(first.value as Uint8Array)]).toEqual([...raw]);
    await reader.cancel();
  });
});
