// The OAuth endpoints served over real HTTP by the offline runtime, driven by oauth4webapi (a
// certified OAuth client that checks metadata, iss, token responses and error shapes strictly):
// the path a Dex instance takes. The consent click is the SPA's call, made here with the real
// Convex HTTP client signed in through the dev issuer.
import * as oauth from "oauth4webapi";
import { ConvexHttpClient } from "convex/browser";
import { getFunctionName } from "convex/server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api.js";
import type { Runtime } from "../../dev/runtime/server";
import { startRuntimeStack, type RuntimeStack } from "./runtimeStack";
import { devEnv } from "../../dev/env";

// Every test makes several requests to the runtime; a busy machine can slow them past vitest's 5 s.
vi.setConfig({ testTimeout: 30_000 });

const INSTANCE = "dex-rt1234ab";
const REDIRECT = "http://127.0.0.1:48123/callback";
const EMAIL = "connect@example.com";

let rt: Runtime;
let dir: string;
let stack: RuntimeStack;
let as: oauth.AuthorizationServer;
let owner: ConvexHttpClient;
const client: oauth.Client = { client_id: INSTANCE };
const none = oauth.None();
// The runtime listens on plain http on 127.0.0.1; production is https.
const insecure = { [oauth.allowInsecureRequests]: true } as const;

beforeAll(async () => {
  // The simulator stands in for the providers a paid account's identity provisioning calls.
  stack = await startRuntimeStack({ name: "oauth-runtime", env: ({ dir, simUrl }) => devEnv(dir, simUrl, "http://127.0.0.1:5999") });
  ({ rt, dir } = stack);
  await stack.createAccount(EMAIL, "basic");
  owner = await stack.signIn(EMAIL);
  const issuer = new URL(rt.urls.site);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...insecure }));
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

/** What the instance does up to the callback: PKCE, the consent page's approval, the callback's checks. */
async function authorizeOnce(scope?: string) {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const authUrl = new URL(as.authorization_endpoint!);
  const params = {
    client_id: INSTANCE,
    redirect_uri: REDIRECT,
    response_type: "code",
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    ...(scope !== undefined ? { scope } : {}),
  };
  for (const [k, v] of Object.entries(params)) authUrl.searchParams.set(k, v);
  // The SPA at /connect reads exactly these query parameters and calls approve with them.
  const fromPage = Object.fromEntries(authUrl.searchParams);
  const { redirectUrl } = await owner.mutation(api.oauth.consent.approve, { params: fromPage });
  const callback = oauth.validateAuthResponse(as, client, new URL(redirectUrl), state);
  return { verifier, callback };
}

async function redeem(callback: URLSearchParams, verifier: string) {
  const res = await oauth.authorizationCodeGrantRequest(as, client, none, callback, REDIRECT, verifier, insecure);
  return await oauth.processAuthorizationCodeResponse(as, client, res);
}

async function refresh(token: string) {
  return await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, none, token, insecure));
}

async function dexApiWho(accessToken: string) {
  // The Dex API's check (until its OAuth path lands, called as it will call it).
  const { secretHash } = await import("../../convex/model/oauth/secrets");
  const key = devEnv(dir).ENCRYPTION_KEY;
  return await rt.run("mutation", getFunctionName(internal.oauth.tokens.authenticate), { tokenHash: await secretHash(accessToken, key) });
}

async function refusal(work: Promise<unknown>): Promise<{ error: string; status: number } | "no error"> {
  try {
    await work;
    return "no error";
  } catch (e) {
    if (e instanceof oauth.ResponseBodyError) return { error: e.error, status: e.status };
    throw e;
  }
}

describe("OAuth over real HTTP with oauth4webapi", () => {
  it("discovers the server: issuer is the site URL, S256, public clients, iss on responses", () => {
    expect(as.issuer).toBe(rt.urls.site);
    expect(as.code_challenge_methods_supported).toEqual(["S256"]);
    expect(as.token_endpoint_auth_methods_supported).toEqual(["none"]);
    expect(as.authorization_response_iss_parameter_supported).toBe(true);
    expect(as.authorization_endpoint).toBe("http://127.0.0.1:5999/connect");
  });

  it("connects with code + PKCE, rotates, races inside the grace, and revokes", async () => {
    const { verifier, callback } = await authorizeOnce();
    const tokens = await redeem(callback, verifier);
    expect(tokens.token_type.toLowerCase()).toBe("bearer");
    expect(tokens.expires_in).toBe(3600);
    expect(tokens.scope).toBe("identity email signal calendar ai usage");
    expect(await dexApiWho(tokens.access_token)).toMatchObject({ ok: true, instanceId: INSTANCE, scopes: expect.arrayContaining(["ai"]) });

    // Two processes of the instance refresh at the same moment: both get the same new pair.
    const [a, b] = await Promise.all([refresh(tokens.refresh_token!), refresh(tokens.refresh_token!)]);
    expect(b.access_token).toBe(a.access_token);
    expect(b.refresh_token).toBe(a.refresh_token);
    expect(a.refresh_token).not.toBe(tokens.refresh_token);
    expect(await dexApiWho(a.access_token)).toMatchObject({ ok: true });

    const again = await refresh(a.refresh_token!);
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, none, again.refresh_token!, insecure));
    expect(await dexApiWho(again.access_token)).toEqual({ ok: false, reason: "revoked" });
    expect(await refusal(refresh(again.refresh_token!))).toEqual({ error: "invalid_grant", status: 400 });
    // Unknown tokens are revoked "successfully" too (RFC 7009 2.2).
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, none, "pdx_rt_not-a-real-token", insecure));
  });

  it("a replayed code fails and takes the tokens it issued with it", async () => {
    const { verifier, callback } = await authorizeOnce("ai usage");
    const tokens = await redeem(callback, verifier);
    expect(await refusal(redeem(callback, verifier))).toEqual({ error: "invalid_grant", status: 400 });
    expect(await dexApiWho(tokens.access_token)).toEqual({ ok: false, reason: "revoked" });
  });

  it("a wrong verifier is invalid_grant", async () => {
    const { callback } = await authorizeOnce();
    expect(await refusal(redeem(callback, oauth.generateRandomCodeVerifier()))).toEqual({ error: "invalid_grant", status: 400 });
  });

  it("the device flow: pending until approved on /device, then tokens", async () => {
    const started = await oauth.processDeviceAuthorizationResponse(
      as,
      client,
      await oauth.deviceAuthorizationRequest(as, client, none, { scope: "ai" }, insecure),
    );
    expect(started.verification_uri).toBe("http://127.0.0.1:5999/device");
    expect(started.interval).toBe(5);
    const poll = async () =>
      await oauth.processDeviceCodeResponse(as, client, await oauth.deviceCodeGrantRequest(as, client, none, started.device_code, insecure));
    expect(await refusal(poll())).toEqual({ error: "authorization_pending", status: 400 });
    expect(await refusal(poll())).toEqual({ error: "slow_down", status: 400 });
    await owner.mutation(api.oauth.device.decide, { userCode: started.user_code, approve: true });
    const tokens = await poll();
    expect(tokens.scope).toBe("ai");
    expect(await dexApiWho(tokens.access_token)).toMatchObject({ ok: true, scopes: ["ai"] });
    const listed = await owner.query(api.oauth.instances.mine, {});
    expect(listed.map((g) => g.instanceId)).toContain(INSTANCE);
  });
});
