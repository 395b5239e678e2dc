// Breakers over real sockets: the offline runtime serves the proxy, the unmodified `openai` SDK
// calls it, the simulator's failure knob makes the provider fail. Also checks what the breakers
// cost a healthy provider: no write, and no read per request.
import OpenAI from "openai";
import { getFunctionName } from "convex/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { internal } from "../../convex/_generated/api.js";
import { BREAKER_SYNC_MS } from "../../convex/proxy/providerHealth";
import type { Runtime } from "../../dev/runtime/server";
import type { RunningSimulator } from "../../dev/simulator/server";
import { startRuntimeStack, type RuntimeStack } from "./runtimeStack";

let stack: RuntimeStack;
let sim: RunningSimulator;
let rt: Runtime;
let secret: string;

const messages = [{ role: "user" as const, content: "Still there?" }];

beforeAll(async () => {
  stack = await startRuntimeStack({
    name: "resilience-runtime",
    env: ({ simUrl }) => ({
      OPENAI_BASE_URL: `${simUrl}/v1`,
      OPENAI_API_KEY: "sk-sim-runtime",
      PROXY_BREAKER_MIN_REQUESTS: "4",
      PROXY_BREAKER_COOLDOWN_MS: "1500",
      PROXY_RETRY_BASE_DELAY_MS: "5",
    }),
  });
  ({ sim, rt } = stack);
  ({ secret } = await stack.account("breakers@example.com", "pro"));
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

const client = () => new OpenAI({ apiKey: secret, baseURL: `${rt.urls.site}/v1`, maxRetries: 0 });
const chats = () => sim.requests({ pathPrefix: "/v1/chat/completions" }).length;
const breakers = async () =>
  (await rt.run("query", getFunctionName(internal.proxy.breakers.current))) as Array<{ provider: string; state: string }>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("breakers on the offline runtime", () => {
  // First: successes in the rolling window would dilute the failures that open the breaker.
  it("opens, refuses without calling upstream, probes after the cool-down and closes", async () => {
    sim.configure({ fail: { status: 500 } });
    const sent = chats();
    await expect(client().chat.completions.create({ model: "gpt-4o-mini", messages })).rejects.toMatchObject({ status: 502 });
    await expect(client().chat.completions.create({ model: "gpt-4o-mini", messages })).rejects.toMatchObject({ status: 502 });
    // 3 attempts, then 1: the 4th failure in the window opened it.
    expect(chats() - sent).toBe(4);
    expect(await breakers()).toMatchObject([{ provider: "openai", state: "open" }]);

    const refused = await client()
      .chat.completions.create({ model: "gpt-4o-mini", messages })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    const err = refused as InstanceType<typeof OpenAI.APIError>;
    expect([err.status, err.code, err.type]).toEqual([503, "upstream_circuit_open", "service_unavailable"]);
    // Whole seconds until the probe (cool-down 1.5 s).
    expect(err.headers?.get("retry-after")).toMatch(/^[12]$/);
    expect(chats() - sent).toBe(4);

    sim.configure({ fail: null });
    await sleep(1_600);
    const reply = await client().chat.completions.create({ model: "gpt-4o-mini", messages });
    expect(reply.choices[0].message.content).toBeTruthy();
    expect(await breakers()).toMatchObject([{ provider: "openai", state: "closed" }]);
  });

  it("costs a healthy provider no write and no read per request", async () => {
    const rowsBefore = await breakers();
    const before = rt.metrics();
    const started = Date.now();
    const n = 40;
    for (let i = 0; i < n; i++) await client().chat.completions.create({ model: "gpt-4o-mini", messages });
    const elapsed = Date.now() - started;
    const after = rt.metrics();
    // The app's own queries during the run are the breaker syncs alone (the ledger's reads are
    // inside its mutations): at most one per BREAKER_SYNC_MS, not one per request.
    const syncs = after.appFunctionCalls.query - before.appFunctionCalls.query;
    expect(syncs).toBeLessThanOrEqual(Math.ceil(elapsed / BREAKER_SYNC_MS) + 1);
    expect(syncs).toBeLessThan(n);
    // Successes while closed move nothing, so nothing is written.
    expect(await breakers()).toEqual(rowsBefore);
  });
});
