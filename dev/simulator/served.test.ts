// GET /_sim/served and the AI providers' fault knobs (providerFaults.openai: 5xx and stream cuts
// at a rate): what the soak test (bench/soak/) reconciles the app's ledger against.
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { chatUsage } from "./tokens.ts";
import { startSimulator, type RunningSimulator } from "./server.ts";
import type { ServedEntry } from "./control.ts";

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, useEnv: false });
});

afterAll(async () => {
  await sim.close();
});

beforeEach(() => {
  sim.reset();
});

const sdk = () => new OpenAI({ apiKey: "sk-sim-test", baseURL: `${sim.url}/v1`, maxRetries: 0 });
const messages = [{ role: "user" as const, content: "how many tokens is this?" }];

async function served(after = 0, limit?: number): Promise<{ served: ServedEntry[]; next: number | null; truncated: boolean }> {
  const query = new URLSearchParams({ after: String(after), ...(limit ? { limit: String(limit) } : {}) });
  const res = await fetch(`${sim.url}/_sim/served?${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as { served: ServedEntry[]; next: number | null; truncated: boolean };
}

describe("GET /_sim/served", () => {
  it("lists each AI request with its id, the caller's tag and the usage its reply delivered", async () => {
    const { data, response } = await sdk().chat.completions.create({ model: "gpt-4o-mini", messages, user: "tag-json" }).withResponse();
    const stream = await sdk().chat.completions.create({ model: "gpt-4o-mini", messages, user: "tag-stream", stream: true, stream_options: { include_usage: true } });
    let streamed: unknown = null;
    for await (const chunk of stream) if (chunk.usage) streamed = chunk.usage;
    await sdk().embeddings.create({ model: "text-embedding-3-small", input: "hello", user: "tag-embed" });
    // Not an AI route: left out.
    await fetch(`${sim.url}/v1/models`, { headers: { authorization: "Bearer sk-sim-test" } });

    const list = await served();
    expect(list.truncated).toBe(false);
    expect(list.next).toBeNull();
    expect(list.served.map((s) => [s.tag, s.path, s.stream, s.outcome])).toEqual([
      ["tag-json", "/v1/chat/completions", false, "completed"],
      ["tag-stream", "/v1/chat/completions", true, "completed"],
      ["tag-embed", "/v1/embeddings", false, "completed"],
    ]);
    expect(list.served[0].requestId).toBe(response.headers.get("x-request-id"));
    expect(list.served[0].usage).toEqual(data.usage);
    expect(list.served[0].usage).toEqual(chatUsage({ model: "gpt-4o-mini", messages }));
    expect(list.served[1].usage).toEqual(streamed);
    expect(list.served[1].eventsWritten).toBe(list.served[1].eventsTotal);
    expect(list.served[2].usage).toEqual({ prompt_tokens: 2, total_tokens: 2 });
  });

  it("reports no delivered usage for a cut stream or an injected failure, and pages by seq", async () => {
    const openai = sdk();
    const cut = await openai.chat.completions.create({ model: "gpt-4o-mini", messages, user: "cut", stream: true, stream_options: { include_usage: true } }, { headers: { "x-sim-cut-after-chunks": "3" } });
    await expect(async () => {
      for await (const _ of cut) void _;
    }).rejects.toThrow();
    await openai.chat.completions.create({ model: "gpt-4o-mini", messages, user: "failed" }, { headers: { "x-sim-fail": "500" } }).catch(() => null);
    await openai.chat.completions.create({ model: "gpt-4o-mini", messages, user: "ok" });

    const first = await served(0, 2);
    expect(first.served.map((s) => s.tag)).toEqual(["cut", "failed"]);
    expect(first.next).toBe(first.served[1].seq);
    const [cutEntry, failedEntry] = first.served;
    expect(cutEntry).toMatchObject({ outcome: "cut", usage: null, eventsWritten: 3 });
    expect(cutEntry.plannedUsage).toEqual(chatUsage({ model: "gpt-4o-mini", messages }));
    expect(failedEntry).toMatchObject({ status: 500, outcome: "failed", usage: null, plannedUsage: null });
    const rest = await served(first.next!);
    expect(rest.served.map((s) => s.tag)).toEqual(["ok"]);
    expect(rest.next).toBeNull();
  });

  it("delivers every event written before a cut: a stream cut after its usage event still hands the usage over", async () => {
    const body = JSON.stringify({ model: "gpt-4o-mini", messages, user: "late-cut", stream: true, stream_options: { include_usage: true } });
    const headers = { authorization: "Bearer sk-sim-test", "content-type": "application/json" };
    const full = await (await fetch(`${sim.url}/v1/chat/completions`, { method: "POST", headers, body })).text();
    const total = full.split("\n\n").filter((frame) => frame.startsWith("data: ")).length;
    sim.reset();
    // Cut before [DONE] only: the usage event was the last one written.
    const res = await fetch(`${sim.url}/v1/chat/completions`, { method: "POST", headers: { ...headers, "x-sim-cut-after-chunks": String(total - 1) }, body });
    const reader = res.body!.getReader();
    let text = "";
    await expect(async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
    }).rejects.toThrow();
    expect(text).toContain('"usage":{"prompt_tokens"');
    expect(text).not.toContain("[DONE]");
    const [entry] = (await served()).served;
    expect(entry).toMatchObject({ tag: "late-cut", outcome: "cut", eventsWritten: total - 1 });
    expect(entry.usage).toEqual(chatUsage({ model: "gpt-4o-mini", messages }));
  });

  it("says when the bounded log already dropped entries the caller has not seen", async () => {
    sim.configure({ requestLogSize: 2 });
    for (const tag of ["a", "b", "c"]) await sdk().chat.completions.create({ model: "gpt-4o-mini", messages, user: tag });
    const list = await served(0);
    expect(list.truncated).toBe(true);
    expect(list.served.map((s) => s.tag)).toEqual(["b", "c"]);
    expect((await served(list.served[0].seq - 1)).truncated).toBe(false);
  });

  it("refuses bad paging parameters", async () => {
    expect((await fetch(`${sim.url}/_sim/served?after=-1`)).status).toBe(400);
    expect((await fetch(`${sim.url}/_sim/served?limit=0`)).status).toBe(400);
  });
});

describe("providerFaults for AI providers", () => {
  it("answers 5xx and cuts streams at the configured rates, on the AI family's routes only", async () => {
    sim.configure({ seed: 7, providerFaults: { openai: { failProbability: 0.2, failStatus: 500, cutProbability: 0.3, cutAfterMinChunks: 2, cutAfterMaxChunks: 4 } } });
    const openai = sdk();
    let failed = 0;
    let cut = 0;
    const total = 200;
    for (let i = 0; i < total; i++) {
      try {
        const stream = await openai.chat.completions.create({ model: "gpt-4o-mini", messages, user: `r${i}`, stream: true, stream_options: { include_usage: true } });
        for await (const _ of stream) void _;
      } catch (e) {
        if (e instanceof OpenAI.InternalServerError) failed++;
        else cut++;
      }
    }
    // Seeded: the same counts on every run; roughly 20 % failed, 30 % of the rest cut.
    expect(failed).toBeGreaterThan(total * 0.1);
    expect(failed).toBeLessThan(total * 0.3);
    expect(cut).toBeGreaterThan((total - failed) * 0.2);
    expect(cut).toBeLessThan((total - failed) * 0.4);
    const list = (await served(0, 10_000)).served;
    const cuts = list.filter((s) => s.outcome === "cut");
    expect(cuts).toHaveLength(cut);
    for (const c of cuts) {
      expect(c.eventsWritten).toBeGreaterThanOrEqual(2);
      expect(c.eventsWritten).toBeLessThanOrEqual(4);
      expect(c.usage).toBeNull();
    }
    // Anthropic's routes have their own (unset) rule.
    const anthropic = await fetch(`${sim.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": "sk-ant-sim", "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 16, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(anthropic.status).toBe(200);
  });

  it("validates the cut knobs", () => {
    expect(() => sim.configure({ providerFaults: { openai: { cutProbability: 2 } } })).toThrow(/cutProbability/);
    expect(() => sim.configure({ providerFaults: { openai: { cutAfterMinChunks: 5, cutAfterMaxChunks: 2 } } })).toThrow(/cutAfterMaxChunks/);
  });
});
