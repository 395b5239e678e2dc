// The AI proxy with an OAuth access token instead of an API key, over real HTTP on the offline
// runtime: a Dex instance connects with oauth4webapi (code + PKCE), then the unmodified `openai`
// SDK sends the access token as its API key. Metered and billed to the account that connected
// it, refused at once after Disconnect, and refused with 403 for a grant without `ai`.
import * as oauth from "oauth4webapi";
import OpenAI from "openai";
import { ConvexHttpClient } from "convex/browser";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { api } from "../../convex/_generated/api.js";
import { monthOf } from "../../convex/model/calendar";
import { tokenCostMicros } from "../../convex/model/pricing";
import type { Runtime } from "../../dev/runtime/server";
import { refusalOf } from "./openaiErrors";
import { startRuntimeStack, type RuntimeStack } from "./runtimeStack";
import { chatUsage } from "../../dev/simulator/tokens";
import { devEnv } from "../../dev/env";

// Every test makes several requests to the runtime; a busy machine can slow them past vitest's 5 s.
vi.setConfig({ testTimeout: 30_000 });

const REDIRECT = "http://127.0.0.1:48124/callback";
const OWNER = "dex-owner@example.com";
const OTHER = "someone-else@example.com";
const messages = [{ role: "user" as const, content: "Say hello to the instance." }];

let rt: Runtime;
let stack: RuntimeStack;
let as: oauth.AuthorizationServer;
let owner: ConvexHttpClient;
let otherKey: string;
const none = oauth.None();
// The runtime listens on plain http on 127.0.0.1; production is https.
const insecure = { [oauth.allowInsecureRequests]: true } as const;

beforeAll(async () => {
  stack = await startRuntimeStack({ name: "proxy-oauth-runtime", env: ({ dir, simUrl }) => devEnv(dir, simUrl, "http://127.0.0.1:5998") });
  ({ rt } = stack);
  await stack.createAccount(OWNER, "basic");
  otherKey = (await stack.account(OTHER, "basic")).secret;
  owner = await stack.signIn(OWNER);
  const issuer = new URL(rt.urls.site);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...insecure }));
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

/** The instance's connect: PKCE, the consent page's approval (the SPA's call), the code exchange. */
async function connect(instanceId: string, scope: string): Promise<string> {
  const client: oauth.Client = { client_id: instanceId };
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const { redirectUrl } = await owner.mutation(api.oauth.consent.approve, {
    params: {
      client_id: instanceId,
      redirect_uri: REDIRECT,
      response_type: "code",
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
      scope,
    },
  });
  const callback = oauth.validateAuthResponse(as, client, new URL(redirectUrl), state);
  const res = await oauth.authorizationCodeGrantRequest(as, client, none, callback, REDIRECT, verifier, insecure);
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, res);
  expect(tokens.scope).toBe(scope);
  return tokens.access_token;
}

const sdk = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${rt.urls.site}/v1`, maxRetries: 0 });

async function usageOf(secret: string) {
  const res = await fetch(`${rt.urls.site}/v1/usage`, { headers: { authorization: `Bearer ${secret}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as { requests: number; tokensIn: number; tokensOut: number; costMicros: number };
}

describe("the AI proxy with an OAuth access token", () => {
  it("meters a chat and bills it to the account that connected the instance, in three function calls", async () => {
    const token = await connect("dex-aichat01", "ai usage");
    const before = await usageOf(token);
    const otherBefore = await usageOf(otherKey);

    // The owner's basic plan is provisioning its identity in the background: count only this request.
    await stack.quiescent();
    const metricsBefore = rt.metrics();
    const reply = await sdk(token).chat.completions.create({ model: "gpt-4o-mini", messages });
    const metricsAfter = rt.metrics();
    const expected = chatUsage({ model: "gpt-4o-mini", messages });
    expect(reply.usage).toEqual(expected);
    // The httpAction, begin and settle: the token is checked inside begin, no extra call.
    // (A cron mutation may land in the same window, so the mutation count is bounded, not exact.)
    expect(metricsAfter.appFunctionCalls.httpAction - metricsBefore.appFunctionCalls.httpAction).toBe(1);
    expect(metricsAfter.appFunctionCalls.mutation - metricsBefore.appFunctionCalls.mutation).toBeGreaterThanOrEqual(2);
    expect(metricsAfter.appFunctionCalls.mutation - metricsBefore.appFunctionCalls.mutation).toBeLessThanOrEqual(3);
    expect(metricsAfter.appFunctionCalls.action - metricsBefore.appFunctionCalls.action).toBe(0);

    const after = await usageOf(token);
    expect(after.requests - before.requests).toBe(1);
    expect(after.tokensIn - before.tokensIn).toBe(expected.prompt_tokens);
    expect(after.tokensOut - before.tokensOut).toBe(expected.completion_tokens);
    expect(after.costMicros - before.costMicros).toBe(tokenCostMicros("gpt-4o-mini", { tokensIn: expected.prompt_tokens, tokensOut: expected.completion_tokens }));
    // Nobody else's balance moved.
    expect(await usageOf(otherKey)).toEqual(otherBefore);

    // The dashboard's meter shows the same request; the Instances page the grant's last use.
    const summary = await owner.query(api.usage.meters.summary, { month: monthOf(Date.now()) });
    expect(summary.requests).toBe(after.requests);
    const grants = await owner.query(api.oauth.instances.mine, {});
    expect(grants.find((g) => g.instanceId === "dex-aichat01")?.lastUsedAt).toBeTypeOf("number");
  });

  it("lists the plan's models and streams a chat", async () => {
    const token = await connect("dex-aimodels1", "ai");
    const models = await sdk(token).models.list();
    expect(models.data.map((m) => m.id)).toContain("gpt-4o-mini");
    const stream = await sdk(token).chat.completions.create({ model: "gpt-4o-mini", messages, stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text.length).toBeGreaterThan(0);
  });

  it("refuses a revoked grant's token at once, with 401", async () => {
    const token = await connect("dex-airevoke1", "ai");
    expect((await sdk(token).chat.completions.create({ model: "gpt-4o-mini", messages })).choices).toHaveLength(1);
    await owner.mutation(api.oauth.instances.disconnect, { instanceId: "dex-airevoke1" });
    const before = await owner.query(api.usage.meters.summary, { month: monthOf(Date.now()) });
    expect(await refusalOf(sdk(token).chat.completions.create({ model: "gpt-4o-mini", messages }))).toEqual({ status: 401, code: "invalid_api_key" });
    expect(await refusalOf(sdk(token).models.list())).toEqual({ status: 401, code: "invalid_api_key" });
    expect(await refusalOf(sdk(token).embeddings.create({ model: "text-embedding-3-small", input: "hi" }))).toEqual({ status: 401, code: "invalid_api_key" });
    // Nothing was held or billed for the refused requests.
    expect(await owner.query(api.usage.meters.summary, { month: monthOf(Date.now()) })).toMatchObject({ requests: before.requests, heldTokens: 0 });
  });

  it("refuses a token whose grant lacks the ai scope with 403 insufficient_scope", async () => {
    const token = await connect("dex-usageonly", "usage");
    expect(await refusalOf(sdk(token).chat.completions.create({ model: "gpt-4o-mini", messages }))).toEqual({ status: 403, code: "insufficient_scope" });
    expect(await refusalOf(sdk(token).models.list())).toEqual({ status: 403, code: "insufficient_scope" });
    // The scope it has still works where it applies.
    expect((await usageOf(token)).requests).toBeGreaterThanOrEqual(0);
  });

  it("refuses a refresh token or a malformed token before any lookup", async () => {
    expect(await refusalOf(sdk(`pdx_rt_${"a".repeat(43)}`).chat.completions.create({ model: "gpt-4o-mini", messages }))).toEqual({ status: 401, code: "invalid_api_key" });
    expect(await refusalOf(sdk("pdx_at_short").models.list())).toEqual({ status: 401, code: "invalid_api_key" });
    expect(await refusalOf(sdk(`pdx_at_${"b".repeat(43)}`).chat.completions.create({ model: "gpt-4o-mini", messages }))).toEqual({ status: 401, code: "invalid_api_key" });
  });
});
