import { describe, expect, it } from "vitest";
import type { NormalizedUsage } from "../usage/totals";
import { formatSseData, SSE_DONE, SseParser } from "./sse";
import { StreamRelay } from "./streamRelay";

// The adapter's reading of OpenAI's usage object, reduced to what the relay needs.
const readUsage = (raw: unknown): NormalizedUsage | null => {
  const u = raw as { prompt_tokens?: number; completion_tokens?: number } | null | undefined;
  return u && typeof u.prompt_tokens === "number"
    ? { tokensIn: u.prompt_tokens, cachedTokensIn: 0, tokensOut: u.completion_tokens ?? 0, characters: 0 }
    : null;
};

const delta = (content: string, withUsageField = true) =>
  JSON.stringify({ id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content } }], ...(withUsageField ? { usage: null } : {}) });
const usageChunk = JSON.stringify({ id: "c1", object: "chat.completion.chunk", choices: [], usage: { prompt_tokens: 12, completion_tokens: 2 } });
const upstream = (...events: string[]) => events.map(formatSseData).join("");
const events = (text: string) => new SseParser().push(text).map((e) => e.data);

function relay(clientWantsUsage: boolean, maxOutputTokens = 100) {
  return new StreamRelay({ clientWantsUsage, maxOutputTokens, readUsage });
}

describe("the stream relay", () => {
  it("hides the usage chunk and usage:null from a client that did not ask, and bills the provider's count", () => {
    const r = relay(false);
    const sent = r.push(upstream(delta("Hel"), delta("lo"), usageChunk, SSE_DONE)) + r.end();
    expect(events(sent)).toEqual([delta("Hel", false), delta("lo", false), SSE_DONE]);
    expect(r.outcome(false, 50)).toEqual({
      trailer: "",
      usage: { tokensIn: 12, cachedTokensIn: 0, tokensOut: 2, characters: 0 },
      usageSource: "provider",
      completed: true,
    });
  });

  it("forwards the stream untouched to a client that asked for usage", () => {
    const r = relay(true);
    const text = upstream(delta("Hi"), usageChunk, SSE_DONE);
    expect(r.push(text)).toBe(text);
  });

  it("relays events split anywhere across reads", () => {
    const r = relay(true);
    const text = upstream(delta("a"), delta("b"), usageChunk, SSE_DONE);
    let sent = "";
    for (let i = 0; i < text.length; i += 7) sent += r.push(text.slice(i, i + 7));
    sent += r.end();
    expect(sent).toBe(text);
    expect(r.outcome(false, 0).completed).toBe(true);
  });

  it("adds [DONE] when a completed stream lacked it", () => {
    const r = relay(false);
    r.push(upstream(delta("x"), usageChunk));
    expect(r.outcome(false, 0)).toMatchObject({ trailer: formatSseData(SSE_DONE), completed: true });
  });

  it("estimates a broken stream from the prompt bound and one token per delta, and says so", () => {
    const r = relay(false, 100);
    r.push(upstream(delta("a"), delta("b"), delta("c")));
    const out = r.outcome(true, 40);
    expect(out.usage).toEqual({ tokensIn: 40, cachedTokensIn: 0, tokensOut: 3, characters: 0 });
    expect(out.usageSource).toBe("estimate");
    expect(out.completed).toBe(false);
    expect(JSON.parse(events(out.trailer)[0]).error.code).toBe("upstream_stream_interrupted");
  });

  it("never estimates more output than the request was allowed", () => {
    const r = relay(false, 2);
    r.push(upstream(delta("a"), delta("b"), delta("c"), delta("d")));
    expect(r.outcome(true, 0).usage.tokensOut).toBe(2);
  });

  it("treats an error event as a failure even when usage arrived", () => {
    const r = relay(true);
    r.push(upstream(usageChunk, JSON.stringify({ error: { message: "overloaded" } })));
    expect(r.outcome(false, 0)).toMatchObject({ completed: false, usageSource: "provider" });
  });

  it("passes through events that are not JSON", () => {
    const r = relay(false);
    expect(events(r.push(upstream("keep-alive")))).toEqual(["keep-alive"]);
  });
});
