// The token endpoint over convex-test's fetch: codes, PKCE, refresh rotation and races,
// revocation, scopes, and the Dex API's authenticate check.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, internal } from "../_generated/api";
import { REFRESH_GRACE_MS } from "../model/oauth/lifecycle";
import { secretHash } from "../model/oauth/secrets";
import { errorCodeOf, newTest, signIn, type TestConvex } from "../test.setup";
import { authorize, exchange, INSTANCE, params, pkce, post, refresh, REDIRECT, SITE, useOAuthEnv } from "./oauth.setup";

// The first test of a file loads every module the HTTP router imports: on a busy machine that
// alone can pass vitest's default 5 s.
vi.setConfig({ testTimeout: 30_000 });

beforeEach(() => useOAuthEnv());
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

async function paying(t: TestConvex, email = "owner@example.com") {
  return await signIn(t, email, "user", "basic");
}

async function authenticate(t: TestConvex, accessToken: string) {
  return await t.mutation(internal.oauth.tokens.authenticate, { tokenHash: await secretHash(accessToken, process.env.ENCRYPTION_KEY) });
}

async function connected(t: TestConvex) {
  const { as, userId } = await paying(t);
  const { verifier, challenge } = await pkce();
  const { code } = await authorize(as, challenge);
  const res = await exchange(t, code, verifier);
  expect(res.status).toBe(200);
  return { as, userId, tokens: res.body as { access_token: string; refresh_token: string; scope: string } };
}

describe("authorization code + PKCE", () => {
  it("exchanges a code for a bearer pair that authenticates with the grant's scopes", async () => {
    const t = newTest();
    const { as, userId } = await paying(t);
    const { verifier, challenge } = await pkce();
    const { code, url } = await authorize(as, challenge);
    expect(url.origin + url.pathname).toBe(REDIRECT);
    expect(url.searchParams.get("state")).toBe("state-123");
    expect(url.searchParams.get("iss")).toBe(SITE);
    expect(code).toMatch(/^pdx_ac_/);

    const res = await exchange(t, code, verifier);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.body).toMatchObject({ token_type: "Bearer", expires_in: 3600, scope: "identity email signal calendar ai usage" });
    expect(res.body!.access_token).toMatch(/^pdx_at_/);
    expect(res.body!.refresh_token).toMatch(/^pdx_rt_/);

    const who = await authenticate(t, res.body!.access_token);
    expect(who).toMatchObject({ ok: true, userId, instanceId: INSTANCE, scopes: ["identity", "email", "signal", "calendar", "ai", "usage"] });
    // A refresh token is not an access token.
    expect(await authenticate(t, res.body!.refresh_token)).toEqual({ ok: false, reason: "not_access_token" });
    // Nothing stored is the token itself.
    const rows = await t.run(async (ctx) => ctx.db.query("oauthTokens").collect());
    expect(JSON.stringify(rows)).not.toContain(res.body!.access_token);
    expect(JSON.stringify(rows)).not.toContain(res.body!.refresh_token);
  });

  it("a second use of a code fails and revokes every token the first use issued", async () => {
    const t = newTest();
    const { as } = await paying(t);
    const { verifier, challenge } = await pkce();
    const { code } = await authorize(as, challenge);
    const first = await exchange(t, code, verifier);
    expect(first.status).toBe(200);
    const second = await exchange(t, code, verifier);
    expect(second.status).toBe(400);
    expect(second.body).toMatchObject({ error: "invalid_grant" });
    expect(second.body!.error_description).toMatch(/already used/);
    expect(await authenticate(t, first.body!.access_token)).toEqual({ ok: false, reason: "revoked" });
    expect((await refresh(t, first.body!.refresh_token)).body).toMatchObject({ error: "invalid_grant" });
    const grants = await t.run(async (ctx) => ctx.db.query("oauthGrants").collect());
    expect(grants.map((g) => g.revokedBy)).toEqual(["code_reuse"]);
  });

  it("refuses a wrong verifier, and the code is spent afterwards", async () => {
    const t = newTest();
    const { as } = await paying(t);
    const { verifier, challenge } = await pkce();
    const other = await pkce();
    const { code } = await authorize(as, challenge);
    const wrong = await exchange(t, code, other.verifier);
    expect(wrong).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    expect(wrong.body!.error_description).toMatch(/code_verifier/);
    expect((await exchange(t, code, verifier)).body).toMatchObject({ error: "invalid_grant" });
  });

  it("requires a code_verifier of the right shape", async () => {
    const t = newTest();
    const { as } = await paying(t);
    const { challenge } = await pkce();
    const { code } = await authorize(as, challenge);
    expect(await exchange(t, code, "", { code_verifier: undefined })).toMatchObject({ status: 400, body: { error: "invalid_request" } });
    expect(await exchange(t, code, "short")).toMatchObject({ status: 400, body: { error: "invalid_request" } });
  });

  it("refuses plain PKCE and a missing challenge before minting any code", async () => {
    const t = newTest();
    const { as } = await paying(t);
    const { challenge } = await pkce();
    expect(await errorCodeOf(as.mutation(api.oauth.consent.approve, { params: params(challenge, { code_challenge_method: "plain" }) }))).toBe("INVALID_ARGUMENT");
    expect(await errorCodeOf(as.mutation(api.oauth.consent.approve, { params: params(challenge, { code_challenge: undefined }) }))).toBe("INVALID_ARGUMENT");
    const shown = await as.query(api.oauth.consent.describe, { params: params(challenge, { code_challenge_method: "plain" }) });
    expect(shown).toMatchObject({ status: "invalid" });
    if (shown.status !== "invalid") throw new Error("unreachable");
    const back = new URL(shown.returnUrl!);
    expect(Object.fromEntries(back.searchParams)).toMatchObject({ error: "invalid_request", state: "state-123", iss: SITE });
    expect(await t.run(async (ctx) => ctx.db.query("oauthCodes").collect())).toEqual([]);
  });

  it("refuses a redirect_uri other than the code's", async () => {
    const t = newTest();
    const { as } = await paying(t);
    const { verifier, challenge } = await pkce();
    const { code } = await authorize(as, challenge);
    const res = await exchange(t, code, verifier, { redirect_uri: "http://127.0.0.1:9999/callback" });
    expect(res).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    expect(res.body!.error_description).toMatch(/redirect_uri/);
  });

  it("refuses another client's code", async () => {
    const t = newTest();
    const { as } = await paying(t);
    const { verifier, challenge } = await pkce();
    const { code } = await authorize(as, challenge);
    expect(await exchange(t, code, verifier, { client_id: "dex-someoneelse" })).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
  });

  it("refuses a code after its 60 seconds", async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 10, 1), toFake: ["Date"] });
    const t = newTest();
    const { as } = await paying(t);
    const { verifier, challenge } = await pkce();
    const { code } = await authorize(as, challenge);
    vi.setSystemTime(Date.now() + 60_000);
    const res = await exchange(t, code, verifier);
    expect(res).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    expect(res.body!.error_description).toMatch(/expired/);
  });

  it("keeps a spent code a day (so a replay still revokes), then sweeps it", async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 10, 1), toFake: ["Date"] });
    const t = newTest();
    const { as } = await paying(t);
    const { challenge } = await pkce();
    await authorize(as, challenge);
    vi.setSystemTime(Date.now() + 23 * 3600_000);
    await authorize(as, challenge);
    expect(await t.run(async (ctx) => ctx.db.query("oauthCodes").collect())).toHaveLength(2);
    vi.setSystemTime(Date.now() + 2 * 3600_000);
    await authorize(as, challenge);
    expect(await t.run(async (ctx) => ctx.db.query("oauthCodes").collect())).toHaveLength(2);
  });

  it("needs a paid account to approve, and shows the plan step instead", async () => {
    const t = newTest();
    const { as } = await signIn(t, "trial@example.com");
    const { challenge } = await pkce();
    expect(await errorCodeOf(as.mutation(api.oauth.consent.approve, { params: params(challenge) }))).toBe("FORBIDDEN");
    expect(await as.query(api.oauth.consent.describe, { params: params(challenge) })).toMatchObject({ status: "ready", readiness: "needs_plan" });
  });

  it("never builds a redirect to an unregistered https URL, and matches registered ones exactly", async () => {
    const t = newTest();
    const { as } = await paying(t);
    const { challenge } = await pkce();
    const uri = "https://dex.example.com/oauth/callback";
    const shown = await as.query(api.oauth.consent.describe, { params: params(challenge, { redirect_uri: uri }) });
    expect(shown).toEqual({ status: "invalid", description: expect.stringMatching(/not a redirect address/), returnUrl: null });
    expect(await errorCodeOf(as.mutation(api.oauth.consent.deny, { params: params(challenge, { redirect_uri: uri }) }))).toBe("INVALID_ARGUMENT");
    await as.mutation(api.oauth.instances.addRedirectUri, { uri });
    expect(await as.query(api.oauth.consent.describe, { params: params(challenge, { redirect_uri: uri }) })).toMatchObject({ status: "ready" });
    expect((await as.query(api.oauth.consent.describe, { params: params(challenge, { redirect_uri: `${uri}/x` }) })).status).toBe("invalid");
  });

  it("registers only canonical https redirect URLs, up to the limit, and removes them", async () => {
    const t = newTest();
    const { as } = await paying(t);
    expect(await errorCodeOf(as.mutation(api.oauth.instances.addRedirectUri, { uri: "http://dex.example.com/cb" }))).toBe("INVALID_ARGUMENT");
    expect(await errorCodeOf(as.mutation(api.oauth.instances.addRedirectUri, { uri: "https://dex.example.com/cb#x" }))).toBe("INVALID_ARGUMENT");
    for (let i = 0; i < 20; i++) await as.mutation(api.oauth.instances.addRedirectUri, { uri: `https://dex${i}.example.com/cb` });
    // Adding one already there changes nothing; a 21st is refused.
    await as.mutation(api.oauth.instances.addRedirectUri, { uri: "https://dex0.example.com/cb" });
    expect(await errorCodeOf(as.mutation(api.oauth.instances.addRedirectUri, { uri: "https://dex20.example.com/cb" }))).toBe("CONFLICT");
    await as.mutation(api.oauth.instances.removeRedirectUri, { uri: "https://dex0.example.com/cb" });
    expect((await as.query(api.oauth.instances.redirectUris, {})).map((r) => r.uri)).not.toContain("https://dex0.example.com/cb");
    expect(await errorCodeOf(as.mutation(api.oauth.instances.removeRedirectUri, { uri: "https://dex0.example.com/cb" }))).toBe("NOT_FOUND");
    // Another account's registration admits nothing for this one.
    const other = await signIn(t, "other@example.com", "user", "basic");
    const { challenge } = await pkce();
    expect((await other.as.query(api.oauth.consent.describe, { params: params(challenge, { redirect_uri: "https://dex1.example.com/cb" }) })).status).toBe("invalid");
  });

  it("Cancel sends access_denied with state and iss to the instance", async () => {
    const t = newTest();
    const { as } = await paying(t);
    const { challenge } = await pkce();
    const { redirectUrl } = await as.mutation(api.oauth.consent.deny, { params: params(challenge) });
    expect(Object.fromEntries(new URL(redirectUrl).searchParams)).toMatchObject({ error: "access_denied", state: "state-123", iss: SITE });
  });
});

describe("refresh rotation", () => {
  it("rotates: the new pair works and the old access token keeps working until it expires", async () => {
    const t = newTest();
    const { tokens } = await connected(t);
    const next = await refresh(t, tokens.refresh_token);
    expect(next.status).toBe(200);
    expect(next.body!.refresh_token).not.toBe(tokens.refresh_token);
    expect(next.body!.access_token).not.toBe(tokens.access_token);
    expect(await authenticate(t, next.body!.access_token)).toMatchObject({ ok: true });
    expect((await refresh(t, next.body!.refresh_token)).status).toBe(200);
  });

  it("a repeat inside the grace returns the same pair to both racing processes", async () => {
    const t = newTest();
    const { tokens } = await connected(t);
    const [a, b] = await Promise.all([refresh(t, tokens.refresh_token), refresh(t, tokens.refresh_token)]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(b.body!.access_token).toBe(a.body!.access_token);
    expect(b.body!.refresh_token).toBe(a.body!.refresh_token);
    // Only one successor was stored: the pair both hold is the live one.
    expect(await authenticate(t, a.body!.access_token)).toMatchObject({ ok: true });
    expect((await refresh(t, a.body!.refresh_token)).status).toBe(200);
  });

  it("a repeat after the grace revokes the whole grant", async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 10, 1), toFake: ["Date"] });
    const t = newTest();
    const { tokens } = await connected(t);
    const next = await refresh(t, tokens.refresh_token);
    expect(next.status).toBe(200);
    vi.setSystemTime(Date.now() + REFRESH_GRACE_MS + 1);
    const reused = await refresh(t, tokens.refresh_token);
    expect(reused).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    expect(reused.body!.error_description).toMatch(/already used/);
    // The thief's (or the victim's) newer tokens die with it.
    expect(await authenticate(t, next.body!.access_token)).toEqual({ ok: false, reason: "revoked" });
    expect((await refresh(t, next.body!.refresh_token)).body).toMatchObject({ error: "invalid_grant" });
    const grants = await t.run(async (ctx) => ctx.db.query("oauthGrants").collect());
    expect(grants.map((g) => g.revokedBy)).toEqual(["refresh_reuse"]);
  });

  it("narrows scope on request and refuses a wider one", async () => {
    const t = newTest();
    const { as } = await paying(t);
    const { verifier, challenge } = await pkce();
    const { code } = await authorize(as, challenge, { scope: "ai usage" });
    const res = await exchange(t, code, verifier);
    expect(res.body).toMatchObject({ scope: "ai usage" });
    expect(await refresh(t, res.body!.refresh_token, { scope: "ai email" })).toMatchObject({ status: 400, body: { error: "invalid_scope" } });
    expect(await refresh(t, res.body!.refresh_token, { scope: "ai wizardry" })).toMatchObject({ status: 400, body: { error: "invalid_scope" } });
    const narrower = await refresh(t, res.body!.refresh_token, { scope: "usage" });
    expect(narrower.body).toMatchObject({ scope: "usage" });
    expect(await authenticate(t, narrower.body!.access_token)).toMatchObject({ ok: true, scopes: ["usage"] });
  });

  it("an access token expires after an hour", async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 10, 1), toFake: ["Date"] });
    const t = newTest();
    const { tokens } = await connected(t);
    vi.setSystemTime(Date.now() + 3600_000);
    expect(await authenticate(t, tokens.access_token)).toEqual({ ok: false, reason: "expired" });
    expect((await refresh(t, tokens.refresh_token)).status).toBe(200);
  });
});

describe("revocation", () => {
  it("Disconnect on the Instances page ends the instance's tokens at once", async () => {
    const t = newTest();
    const { as, tokens } = await connected(t);
    expect(await as.query(api.oauth.instances.mine, {})).toMatchObject([{ instanceId: INSTANCE }]);
    await as.mutation(api.oauth.instances.disconnect, { instanceId: INSTANCE });
    expect(await authenticate(t, tokens.access_token)).toEqual({ ok: false, reason: "revoked" });
    expect(await refresh(t, tokens.refresh_token)).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    expect(await as.query(api.oauth.instances.mine, {})).toEqual([]);
    expect(await errorCodeOf(as.mutation(api.oauth.instances.disconnect, { instanceId: INSTANCE }))).toBe("NOT_FOUND");
  });

  it("POST /oauth/revoke revokes the grant and answers 200 for unknown tokens too", async () => {
    const t = newTest();
    const { tokens } = await connected(t);
    expect((await post(t, "/oauth/revoke", { token: "pdx_rt_unknown", client_id: INSTANCE })).status).toBe(200);
    expect((await post(t, "/oauth/revoke", { token: tokens.refresh_token, client_id: "dex-other1" })).status).toBe(200);
    expect(await authenticate(t, tokens.access_token)).toMatchObject({ ok: true });
    expect((await post(t, "/oauth/revoke", { token: tokens.refresh_token, client_id: INSTANCE, token_type_hint: "refresh_token" })).status).toBe(200);
    expect(await authenticate(t, tokens.access_token)).toEqual({ ok: false, reason: "revoked" });
  });

  it("reconnecting an instance replaces its earlier grant", async () => {
    const t = newTest();
    const { as, tokens } = await connected(t);
    const { verifier, challenge } = await pkce();
    const { code } = await authorize(as, challenge);
    expect((await exchange(t, code, verifier)).status).toBe(200);
    expect(await authenticate(t, tokens.access_token)).toEqual({ ok: false, reason: "revoked" });
    expect(await as.query(api.oauth.instances.mine, {})).toHaveLength(1);
  });

  it("support sees the grants and revokes one with a reason in the audit log", async () => {
    const t = newTest();
    const { userId, tokens } = await connected(t);
    const agent = await signIn(t, "agent@example.com", "support");
    expect(await agent.as.query(api.oauth.support.grantsOf, { userId })).toMatchObject([{ instanceId: INSTANCE, revokedAt: null }]);
    expect(await errorCodeOf(agent.as.mutation(api.oauth.support.revoke, { userId, instanceId: INSTANCE, reason: "" }))).toBe("INVALID_ARGUMENT");
    await agent.as.mutation(api.oauth.support.revoke, { userId, instanceId: INSTANCE, reason: "customer reported a stolen laptop" });
    expect(await authenticate(t, tokens.access_token)).toEqual({ ok: false, reason: "revoked" });
    expect(await agent.as.query(api.oauth.support.grantsOf, { userId })).toMatchObject([{ instanceId: INSTANCE, revokedBy: "support" }]);
    const logs = await t.run(async (ctx) => ctx.db.query("auditLogs").collect());
    expect(logs).toMatchObject([{ action: "oauth.grant.revoke", actorLabel: "agent@example.com", reason: "customer reported a stolen laptop", targetId: userId }]);
  });
});

describe("the token endpoint's errors (RFC 6749 5.2)", () => {
  it.each([
    ["no grant_type", { client_id: INSTANCE }, 400, "invalid_request"],
    ["an unknown grant_type", { grant_type: "password", client_id: INSTANCE }, 400, "unsupported_grant_type"],
    ["no client_id", { grant_type: "refresh_token", refresh_token: "x" }, 401, "invalid_client"],
    ["a client_id that is not an instance", { grant_type: "refresh_token", refresh_token: "x", client_id: "evil" }, 401, "invalid_client"],
    ["a client secret", { grant_type: "refresh_token", refresh_token: "x", client_id: INSTANCE, client_secret: "s" }, 401, "invalid_client"],
    ["no refresh_token", { grant_type: "refresh_token", client_id: INSTANCE }, 400, "invalid_request"],
    ["a malformed refresh_token", { grant_type: "refresh_token", refresh_token: "x", client_id: INSTANCE }, 400, "invalid_grant"],
    ["no code", { grant_type: "authorization_code", client_id: INSTANCE, redirect_uri: REDIRECT, code_verifier: "a".repeat(43) }, 400, "invalid_request"],
  ] as const)("%s", async (_name, form, status, error) => {
    const t = newTest();
    const res = await post(t, "/oauth/token", form);
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.body).toMatchObject({ error, error_description: expect.any(String) });
  });

  it("needs a form body and each parameter once", async () => {
    const t = newTest();
    const json = await t.fetch("/oauth/token", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(json.status).toBe(400);
    const twice = await t.fetch("/oauth/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=refresh_token&grant_type=authorization_code",
    });
    expect(await twice.json()).toMatchObject({ error: "invalid_request" });
  });

  it("serves metadata naming this site as issuer", async () => {
    const t = newTest();
    const res = await t.fetch("/.well-known/oauth-authorization-server");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      issuer: SITE,
      token_endpoint: `${SITE}/oauth/token`,
      code_challenge_methods_supported: ["S256"],
      token_endpoint_auth_methods_supported: ["none"],
      authorization_response_iss_parameter_supported: true,
    });
    const pre = await t.fetch("/oauth/token", { method: "OPTIONS", headers: { origin: "https://x.example", "access-control-request-method": "POST" } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("*");
  });
});
