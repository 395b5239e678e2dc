// Short-lived credentials over real HTTP on the offline runtime, with the unmodified `openai`
// SDK against the provider simulator: a provider credential from POST /api/provisioning/token
// (the dev issuer's JWT as Bearer) used as the SDK's API key, its scopes, rotation under
// continuous traffic with a client that refreshes when the proxy says so (zero failures),
// browser session tokens (expiry, refresh on 401, revocation), and switching the master
// provider key mid-traffic (zero errors, the simulator sees only the new key afterwards).
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api.js";
import type { Id } from "../../convex/_generated/dataModel";
import { devEnv } from "../../dev/env";
import { SessionTokenClient } from "../../src/lib/sessionToken";
import { refusalOf } from "./openaiErrors";
import { startRuntimeStack, type RuntimeStack } from "./runtimeStack";

vi.setConfig({ testTimeout: 120_000 });

// Short lifetimes so rotations and expiries happen within a test: credentials live 9 s with a
// 3 s overlap (rotation starts 6 s after issue), session tokens 4 s.
const TTL_HOURS = "0.0025";
const OVERLAP_MINUTES = "0.05";
const SESSION_MINUTES = String(4 / 60);
const K1 = "sk-sim-master-k1";
const K2 = "sk-sim-master-k2";

let stack: RuntimeStack;
const messages = [{ role: "user" as const, content: "Say something short." }];

beforeAll(async () => {
  stack = await startRuntimeStack({
    name: "credentials-runtime",
    env: ({ dir, simUrl }) => ({
      ...devEnv(dir, simUrl, "http://127.0.0.1:5997"),
      CREDENTIAL_TTL_HOURS: TTL_HOURS,
      CREDENTIAL_OVERLAP_MINUTES: OVERLAP_MINUTES,
      SESSION_TOKEN_TTL_MINUTES: SESSION_MINUTES,
      OPENAI_API_KEYS: `k1:${K1},k2:${K2}`,
      OPENAI_ACTIVE_KEY_ID: "k1",
    }),
  });
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

/** The dev issuer's JWT for a person (what the SPA holds after sign-in), with their account made. */
async function jwtFor(email: string, plan: "basic" | "pro" = "pro"): Promise<string> {
  await stack.createAccount(email, plan);
  const res = await fetch(`${stack.site}/dev-auth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, role: "user" }),
  });
  const { token } = (await res.json()) as { token: string };
  // The post-sign-in `ensure`, as the SPA runs it.
  await stack.signIn(email);
  return token;
}

async function issue(jwt: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${stack.site}/api/provisioning/token`, {
    method: "POST",
    headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const sdk = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${stack.site}/v1`, maxRetries: 0 });

describe("provider credentials with the openai SDK", () => {
  it("are accepted like an API key within their scope, metered to the account, refused outside it", async () => {
    const jwt = await jwtFor("scoped@example.com");
    const issued = await issue(jwt, { provider: "openai", scopes: ["chat"] });
    expect(issued.status).toBe(201);
    const client = sdk(issued.body.token);
    const chat = await client.chat.completions.create({ model: "gpt-4o-mini", messages, max_tokens: 16 });
    expect(chat.usage?.total_tokens).toBeGreaterThan(0);
    expect(await refusalOf(client.embeddings.create({ model: "text-embedding-3-small", input: "hi" }))).toEqual({ status: 403, code: "insufficient_scope" });
    expect(await refusalOf(client.chat.completions.create({ model: "claude-haiku-4-5", messages, max_tokens: 16 }))).toEqual({ status: 403, code: "insufficient_scope" });
    // Metered to the account: its usage, read with an API key of the same account, shows the request.
    const key = (await stack.run("mutation", internal.cli.createApiKey, { email: "scoped@example.com" })) as { secret: string };
    const usage = (await (await fetch(`${stack.site}/v1/usage`, { headers: { authorization: `Bearer ${key.secret}` } })).json()) as { requests: number; tokensIn: number };
    expect(usage.requests).toBe(1);
    expect(usage.tokensIn).toBe(chat.usage!.prompt_tokens);
    // A garbled credential is a 401 before anything is read.
    expect(await refusalOf(sdk(`${issued.body.token}x`).models.list())).toMatchObject({ status: 401 });
  });
});

describe("cost per request", () => {
  it("a credential's or session token's chat costs the same function calls as an API key's", async () => {
    const jwt = await jwtFor("calls@example.com");
    const credential = (await issue(jwt, { provider: "openai" })).body.token as string;
    // Session tokens live 4 s in this stack: one is fetched right before its requests.
    const session = async () => ((await (await fetch(`${stack.site}/api/session`, { method: "POST", headers: { authorization: `Bearer ${jwt}` } })).json()) as { token: string }).token;
    const key = ((await stack.run("mutation", internal.cli.createApiKey, { email: "calls@example.com" })) as { secret: string }).secret;
    const counts: Record<string, { httpAction: number; query: number; mutation: number; action: number }> = {};
    // Warm-up: the first proxied request of a process also loads the breakers' state.
    await sdk(key).chat.completions.create({ model: "gpt-4o-mini", messages, max_tokens: 8 });
    for (const [name, secretOf] of [["api key", async () => key], ["credential", async () => credential], ["session token", session]] as const) {
      // Background work (crons) may land in a window: the least of three requests is the request's own.
      for (let i = 0; i < 3; i++) {
        const secret = await secretOf();
        await stack.quiescent({ quietMs: 500 });
        const before = stack.rt.metrics().appFunctionCalls;
        await sdk(secret).chat.completions.create({ model: "gpt-4o-mini", messages, max_tokens: 8 });
        const after = stack.rt.metrics().appFunctionCalls;
        const seen = {
          httpAction: after.httpAction - before.httpAction,
          query: after.query - before.query,
          mutation: after.mutation - before.mutation,
          action: after.action - before.action,
        };
        const prev = counts[name];
        counts[name] = prev === undefined
          ? seen
          : { httpAction: Math.min(prev.httpAction, seen.httpAction), query: Math.min(prev.query, seen.query), mutation: Math.min(prev.mutation, seen.mutation), action: Math.min(prev.action, seen.action) };
      }
    }
    // The httpAction, begin and settle; with several OpenAI keys configured, one query reads
    // which is active (a single key reads nothing). The secret is checked inside begin.
    for (const name of ["api key", "credential", "session token"]) {
      expect(counts[name].httpAction, name).toBe(1);
      expect(counts[name].query, name).toBe(1);
      expect(counts[name].action, name).toBe(0);
      expect(counts[name].mutation, name).toBe(2);
    }
    console.log(`function calls per chat request: ${JSON.stringify(counts)}`);
  });
});

describe("rotation under continuous traffic", () => {
  it("a client that refreshes when told sees zero failed requests while credentials rotate", async () => {
    const jwt = await jwtFor("rotating@example.com");
    const first = (await issue(jwt, { provider: "openai" })).body.token as string;
    let current = first;
    let refreshing: Promise<void> | null = null;
    let refreshes = 0;
    const refresh = (usedToken: string) => {
      // Single-flight, and only for the token in hand: answers to older tokens say nothing new.
      if (usedToken !== current) return refreshing ?? Promise.resolve();
      refreshing ??= issue(jwt, { provider: "openai" }).then((r) => {
        expect(r.status).toBe(201);
        current = r.body.token;
        refreshes += 1;
      }).finally(() => {
        refreshing = null;
      });
      return refreshing;
    };

    // The cron, sped up: the same sweep every 300 ms instead of every 5 minutes.
    let rotationsStarted = 0;
    let revoked = 0;
    let cronRunning = true;
    const cron = (async () => {
      while (cronRunning) {
        const r = (await stack.run("mutation", internal.credentials.rotation.sweep, {})) as { rotationsStarted: number; revoked: number };
        rotationsStarted += r.rotationsStarted;
        revoked += r.revoked;
        await new Promise((res) => setTimeout(res, 300));
      }
    })();

    const failures: string[] = [];
    let requests = 0;
    const deadline = Date.now() + 20_000;
    const worker = async () => {
      while (Date.now() < deadline) {
        const token = current;
        try {
          const { response } = await sdk(token).chat.completions.create({ model: "gpt-4o-mini", messages, max_tokens: 8 }).withResponse();
          requests += 1;
          if (response.headers.get("x-poindexter-credential-refresh") === "rotating") await refresh(token);
        } catch (e) {
          failures.push(e instanceof OpenAI.APIError ? `${e.status} ${e.code}` : String(e));
        }
        // Two workers at ~4 requests/s each stay under the Pro plan's 600 requests a minute.
        await new Promise((res) => setTimeout(res, 250));
      }
    };
    await Promise.all([worker(), worker()]);
    cronRunning = false;
    await cron;

    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(50);
    // Several rotations of the holder's own credential really happened (each one it refreshed
    // for; the cron's count spans every account of this stack), and the first credential is dead now.
    expect(rotationsStarted).toBeGreaterThanOrEqual(2);
    expect(refreshes).toBeGreaterThanOrEqual(2);
    expect(revoked).toBeGreaterThanOrEqual(1);
    const stale = await refusalOf(sdk(first).chat.completions.create({ model: "gpt-4o-mini", messages, max_tokens: 8 }));
    expect(stale).toMatchObject({ status: 401 });
    expect(["credential_revoked", "credential_expired"]).toContain((stale as { code: string }).code);
    console.log(`rotation under traffic: ${requests} requests, the holder's credential rotated and refreshed ${refreshes} times (the cron started ${rotationsStarted} rotations across the stack's accounts), ${failures.length} failures`);
  });
});

describe("browser session tokens", () => {
  it("expire with session_expired; the SPA helper refreshes on that 401 and retries", async () => {
    const jwt = await jwtFor("browser@example.com");
    const session = new SessionTokenClient({ siteUrl: stack.site, getJwt: async () => jwt });
    const token = await session.token();
    expect(token).toMatch(/^pdx_st_/);
    const chat = await sdk(token).chat.completions.create({ model: "gpt-4o-mini", messages, max_tokens: 8 });
    expect(chat.choices[0].message.content).toBeTruthy();
    await new Promise((r) => setTimeout(r, 4_200));
    expect(await refusalOf(sdk(token).chat.completions.create({ model: "gpt-4o-mini", messages, max_tokens: 8 }))).toEqual({ status: 401, code: "session_expired" });
    // The helper's own fetch: the held token is within its margin, so it renews; a forced stale
    // token is renewed on the 401 and the request retried.
    const res = await session.fetch("/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages, max_tokens: 8 }),
    });
    expect(res.status).toBe(200);
    expect(session.fetched).toBe(2);
  });

  it("support ends a person's sessions at once: 401 session_revoked; signed-out callers get no token", async () => {
    const jwt = await jwtFor("revoked@example.com");
    const { token } = (await (await fetch(`${stack.site}/api/session`, { method: "POST", headers: { authorization: `Bearer ${jwt}` } })).json()) as { token: string };
    expect((await sdk(token).models.list()).data.length).toBeGreaterThan(0);
    await stack.createAccount("agent@example.com");
    const agent = await stack.signIn("agent@example.com");
    // After sign-in: the role is read from the account row on every call.
    await stack.run("mutation", internal.cli.setAccountRole, { email: "agent@example.com", role: "support" });
    const { id: userId } = (await stack.run("query", internal.cli.showAccount, { email: "revoked@example.com" })) as { id: Id<"users"> };
    expect(await agent.mutation(api.credentials.support.revokeSessions, { userId, reason: "lost laptop" })).toBe(1);
    expect(await refusalOf(sdk(token).chat.completions.create({ model: "gpt-4o-mini", messages, max_tokens: 8 }))).toEqual({ status: 401, code: "session_revoked" });
    const anonymous = await fetch(`${stack.site}/api/session`, { method: "POST" });
    expect(anonymous.status).toBe(401);
  });
});

describe("master provider keys", () => {
  it("switching the active key mid-traffic drains in-flight requests with zero errors; new requests use the new key", async () => {
    const { secret } = await stack.account("master@example.com", "pro");
    const client = sdk(secret);
    // Streams that take ~0.5 s, so some are in flight when the key switches.
    stack.sim.configure({ apiKeys: [K1], tokenIntervalMs: 25, completionTokens: 20 });
    const errors: string[] = [];
    const inFlight = new Map<number, { startedAt: number; done: Promise<void> }>();
    let seq = 0;
    let stop = false;
    let served = 0;
    const one = async () => {
      const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages, max_tokens: 40, stream: true });
      for await (const chunk of stream) void chunk;
      served += 1;
    };
    const workers = Array.from({ length: 3 }, async () => {
      while (!stop) {
        const id = ++seq;
        const done = one().catch((e) => {
          errors.push(e instanceof OpenAI.APIError ? `${e.status} ${e.code}` : String(e));
        });
        inFlight.set(id, { startedAt: Date.now(), done });
        await done;
        inFlight.delete(id);
        await new Promise((r) => setTimeout(r, 150));
      }
    });
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    try {
      // Phase 1: the simulator knows only k1, and requests succeed: the proxy sends k1.
      await sleep(2_500);
      const beforeSwitch = served;
      expect(beforeSwitch).toBeGreaterThan(0);
      // Phase 2: the provider knows both keys while support switches to k2 mid-traffic.
      stack.sim.configure({ apiKeys: [K1, K2] });
      while (inFlight.size === 0) await sleep(10);
      const inFlightAtSwitch = inFlight.size;
      await stack.run("mutation", internal.credentials.masterKeys.setActiveFromCli, { provider: "openai", keyId: "k2", reason: "scheduled rotation" });
      // Every request that may have chosen k1 started before the switch committed; they finish on k1.
      const switchedAt = Date.now();
      const drained = [...inFlight.values()].filter((r) => r.startedAt <= switchedAt).map((r) => r.done);
      expect(inFlightAtSwitch).toBeGreaterThan(0);
      await Promise.all(drained);
      // Phase 3: k1 revoked at the provider; everything new must be on k2.
      stack.sim.configure({ apiKeys: [K2] });
      const beforeRevoke = served;
      await sleep(2_500);
      expect(served - beforeRevoke).toBeGreaterThan(3);
      // Control: the simulator does refuse k1 now, so the phase above could have failed.
      const refused = await fetch(`${stack.sim.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${K1}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o-mini", messages }),
      });
      expect(refused.status).toBe(401);
    } finally {
      stop = true;
      await Promise.all(workers);
      stack.sim.configure({ apiKeys: null, tokenIntervalMs: 0, completionTokens: null });
    }
    expect(errors).toEqual([]);
    console.log(`master key switch: ${served} streamed requests, ${errors.length} errors`);
  });
});
