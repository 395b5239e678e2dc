// GET /metrics over real HTTP on the offline runtime: requests sent with the unmodified openai
// SDK through the simulator, the metrics cron left to run on its own timer, then a scrape whose
// counters must match what was sent, with the request ids the SDK saw on every answer.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatUsage } from "../../dev/simulator/tokens";
import { tokenCostMicros } from "../../convex/model/pricing";
import { allLabelValues, parseExposition, sampleValue } from "../../convex/model/ops/metricsParser.setup";
import { startRuntimeStack, type RuntimeStack } from "./runtimeStack";

const METRICS_TOKEN = "runtime-metrics-token-5f0c2b9e";
const EMAIL = "metrics-runtime@example.com";
const messages = [{ role: "user" as const, content: "Count to three." }];

let stack: RuntimeStack;
let secret: string;

beforeAll(async () => {
  stack = await startRuntimeStack({
    name: "metrics-runtime",
    env: ({ simUrl }) => ({ OPENAI_BASE_URL: `${simUrl}/v1`, OPENAI_API_KEY: "sk-sim-runtime", METRICS_TOKEN }),
  });
  ({ secret } = await stack.account(EMAIL));
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

function client() {
  return new OpenAI({ apiKey: secret, baseURL: `${stack.site}/v1`, maxRetries: 0 });
}

async function scrape(token: string | null = METRICS_TOKEN) {
  return await fetch(`${stack.site}/metrics`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
}

const chatOk = { endpoint: "chat", provider: "openai", status: "2xx", outcome: "ok" };

describe("GET /metrics on the runtime", () => {
  it("refuses a scrape without the token or with a wrong one", async () => {
    for (const token of [null, "not-the-token"]) {
      const res = await scrape(token);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_metrics_token");
    }
  });

  it("counts SDK requests exactly once the metrics cron has run, and every answer carried its request id", { timeout: 120_000 }, async () => {
    const ids: string[] = [];
    // Two JSON chats and one stream, read with their HTTP responses.
    for (let i = 0; i < 2; i++) {
      const completion = await client().chat.completions.create({ model: "gpt-4o-mini", messages });
      // The SDK exposes x-request-id as _request_id, as it does for OpenAI's own.
      ids.push(completion._request_id!);
    }
    const { data: stream, response: streamed } = await client()
      .chat.completions.create({ model: "gpt-4o-mini", messages, stream: true }, { headers: { "x-client-request-id": "client-trace-42" } })
      .withResponse();
    for await (const _ of stream) {
      // drain: the stream settles when it ends
    }
    ids.push(streamed.headers.get("x-request-id")!);
    expect(streamed.headers.get("x-client-request-id")).toBe("client-trace-42");
    // One embedding.
    const emb = await client().embeddings.create({ model: "text-embedding-3-small", input: "metrics" }).withResponse();
    ids.push(emb.response.headers.get("x-request-id")!);
    // The provider refuses one chat (a 400 passed through): settled as an upstream error.
    stack.sim.configure({ fail: { status: 400, count: 1, pathPrefix: "/v1/chat/completions", message: "bad parameter", code: "invalid_value" } });
    const refused = await client().chat.completions.create({ model: "gpt-4o-mini", messages }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    ids.push((refused as InstanceType<typeof OpenAI.BadRequestError>).requestID!);
    // A refusal before admission (unknown key) records no usage event but still carries an id.
    const stranger = new OpenAI({ apiKey: `pk_live_${"0".repeat(43)}`, baseURL: `${stack.site}/v1`, maxRetries: 0 });
    const unauthorized = await stranger.chat.completions.create({ model: "gpt-4o-mini", messages }).catch((e: unknown) => e);
    expect(unauthorized).toBeInstanceOf(OpenAI.AuthenticationError);
    ids.push((unauthorized as InstanceType<typeof OpenAI.AuthenticationError>).requestID!);

    for (const id of ids) expect(id).toMatch(/^req_[0-9A-Za-z]{24}$/);
    expect(new Set(ids).size).toBe(ids.length);

    // The cron (every 15 s, events older than 10 s) folds them; scrape until it has.
    const deadline = Date.now() + 90_000;
    let families = parseExposition(await (await scrape()).text());
    // All five settled requests (the refused-before-admission one has no event), whichever runs fold them.
    const folded = () => families.get("pdx_proxy_requests_total")!.samples.reduce((sum, s) => sum + s.value, 0);
    while (folded() < 5 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1_000));
      const res = await scrape();
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      families = parseExposition(await res.text());
    }
    expect(folded()).toBe(5);
    const usage = chatUsage({ model: "gpt-4o-mini", messages });
    expect(sampleValue(families, "pdx_proxy_requests_total", chatOk)).toBe(3);
    expect(sampleValue(families, "pdx_proxy_requests_total", { endpoint: "chat", provider: "openai", status: "4xx", outcome: "upstream_error" })).toBe(1);
    expect(sampleValue(families, "pdx_proxy_requests_total", { endpoint: "embedding", provider: "openai", status: "2xx", outcome: "ok" })).toBe(1);
    expect(sampleValue(families, "pdx_proxy_request_duration_ms_count", { endpoint: "chat", provider: "openai" })).toBe(4);
    expect(sampleValue(families, "pdx_proxy_request_duration_ms_bucket", { endpoint: "chat", provider: "openai", le: "+Inf" })).toBe(4);
    const chatCost = tokenCostMicros("gpt-4o-mini", { tokensIn: usage.prompt_tokens, tokensOut: usage.completion_tokens });
    const embCost = tokenCostMicros("text-embedding-3-small", { tokensIn: emb.data.usage.prompt_tokens, tokensOut: 0 });
    // Three chats and the embedding at the provider's counts; nothing for the refused chat.
    expect(sampleValue(families, "pdx_proxy_cost_micros_total", { provider: "openai" })).toBe(3 * chatCost + embCost);
    expect(sampleValue(families, "pdx_proxy_tokens_total", { provider: "openai", direction: "in" })).toBe(3 * usage.prompt_tokens + emb.data.usage.prompt_tokens);
    expect(sampleValue(families, "pdx_proxy_tokens_total", { provider: "openai", direction: "out" })).toBe(3 * usage.completion_tokens);
    const lag = sampleValue(families, "pdx_metrics_lag_seconds")!;
    expect(lag).toBeGreaterThanOrEqual(10);
    expect(lag).toBeLessThan(60);

    // No label carries the account, its key or a request id.
    const text = await (await scrape()).text();
    for (const value of allLabelValues(families)) expect([EMAIL, secret, ...ids]).not.toContain(value);
    expect(text).not.toContain(EMAIL);
    expect(text).not.toContain(secret);
  });
});
