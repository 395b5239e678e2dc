// The OAuth housekeeping: the retention sweep (maintenance.ts) and the rate limits on the token
// and device authorization endpoints (limits.ts, routes.ts).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { DEVICE_CODE_GRANT } from "../model/oauth/metadata";
import { newTest, signIn, type TestConvex } from "../test.setup";
import { OAUTH_LIMITS } from "./limits";
import { REVOKED_TOKEN_RETENTION_MS, SWEEP_TOKEN_BATCH } from "./maintenance";
import { authorize, exchange, INSTANCE, pkce, post, useOAuthEnv } from "./oauth.setup";

vi.setConfig({ testTimeout: 60_000 });

const START = Date.UTC(2026, 10, 1, 12);
const HOUR = 60 * 60_000;

beforeEach(() => useOAuthEnv());
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

async function connected(t: TestConvex) {
  const { as, userId } = await signIn(t, "owner@example.com", "user", "basic");
  const { verifier, challenge } = await pkce();
  const { code } = await authorize(as, challenge);
  const res = await exchange(t, code, verifier);
  expect(res.status).toBe(200);
  return { as, userId, tokens: res.body as { access_token: string; refresh_token: string } };
}

const tokenRows = (t: TestConvex) => t.run(async (ctx) => ctx.db.query("oauthTokens").collect());

describe("retention sweep", () => {
  beforeEach(() => vi.useFakeTimers({ now: START, toFake: ["Date"] }));

  it("deletes expired access tokens of a grant that stopped refreshing, and keeps live rows", async () => {
    const t = newTest();
    await connected(t);
    expect((await tokenRows(t)).map((r) => r.kind).sort()).toEqual(["access", "refresh"]);
    // Nothing is expired yet: nothing goes.
    expect(await t.mutation(internal.oauth.maintenance.sweep, {})).toEqual({ expiredTokens: 0, revokedGrants: 0, revokedTokens: 0, more: false });
    vi.setSystemTime(START + HOUR + 1);
    expect(await t.mutation(internal.oauth.maintenance.sweep, {})).toMatchObject({ expiredTokens: 1, more: false });
    expect((await tokenRows(t)).map((r) => r.kind)).toEqual(["refresh"]);
  });

  it("purges a revoked grant's rows a day after revocation, and keeps the grant", async () => {
    const t = newTest();
    const { tokens } = await connected(t);
    expect((await post(t, "/oauth/revoke", { token: tokens.refresh_token, client_id: INSTANCE })).status).toBe(200);
    // Within the day the rows stay, so the instance is told "revoked".
    vi.setSystemTime(START + 10 * 60_000);
    expect(await t.mutation(internal.oauth.maintenance.sweep, {})).toMatchObject({ revokedGrants: 0, revokedTokens: 0 });
    expect(await tokenRows(t)).toHaveLength(2);

    vi.setSystemTime(START + REVOKED_TOKEN_RETENTION_MS + 60_000);
    const swept = await t.mutation(internal.oauth.maintenance.sweep, {});
    // The access token expired on its own; the refresh token went with its revoked grant.
    expect(swept).toMatchObject({ expiredTokens: 1, revokedGrants: 1, revokedTokens: 1, more: false });
    expect(await tokenRows(t)).toHaveLength(0);
    const grants = await t.run(async (ctx) => ctx.db.query("oauthGrants").collect());
    expect(grants).toHaveLength(1);
    expect(grants[0]).toMatchObject({ revokedBy: "client", tokensPurgedAt: Date.now() });
    // A purged grant is not visited again.
    expect(await t.mutation(internal.oauth.maintenance.sweep, {})).toMatchObject({ revokedGrants: 0 });
  });

  it("works in bounded batches and continues in a scheduled follow-up", async () => {
    vi.useRealTimers();
    const t = newTest();
    const { userId } = await connected(t);
    const past = Date.now() - 1000;
    await t.run(async (ctx) => {
      const grantId = (await ctx.db.query("oauthGrants").first())!._id as Id<"oauthGrants">;
      for (let i = 0; i < SWEEP_TOKEN_BATCH + 50; i++) {
        await ctx.db.insert("oauthTokens", { grantId, userId, kind: "access", tokenHash: `old-${i}`, scopes: ["ai"], expiresAt: past });
      }
    });
    vi.useFakeTimers();
    const first = await t.mutation(internal.oauth.maintenance.sweep, {});
    expect(first).toMatchObject({ expiredTokens: SWEEP_TOKEN_BATCH, more: true });
    expect(await tokenRows(t)).toHaveLength(50 + 2);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    // The follow-up took the rest; the live pair is untouched.
    expect((await tokenRows(t)).map((r) => r.kind).sort()).toEqual(["access", "refresh"]);
  });
});

describe("rate limits", () => {
  const bogusCode = (client: string) =>
    post(t0!, "/oauth/token", { grant_type: "authorization_code", code: "pdx_ac_unknown", code_verifier: "v".repeat(43), redirect_uri: "http://127.0.0.1:9/cb", client_id: client });
  let t0: TestConvex | undefined;

  it("the token endpoint answers 429 with a JSON error once an instance spends its minute", async () => {
    t0 = newTest();
    // The bucket refills continuously (a slow machine gets a request or two back while looping).
    let allowed = 0;
    let limited = await bogusCode(INSTANCE);
    while (limited.status === 400 && allowed < OAUTH_LIMITS.tokenPerClientPerMinute + 5) {
      expect(limited.body!.error).toBe("invalid_grant");
      allowed++;
      limited = await bogusCode(INSTANCE);
    }
    expect(limited.status).toBe(429);
    expect(allowed).toBeGreaterThanOrEqual(OAUTH_LIMITS.tokenPerClientPerMinute);
    expect(limited.body).toMatchObject({ error: "rate_limited", error_description: expect.stringContaining("this client_id") });
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get("cache-control")).toBe("no-store");
    // A device poller of the same instance is told slow_down (RFC 8628 3.5), not 429.
    const poll = await post(t0, "/oauth/token", { grant_type: DEVICE_CODE_GRANT, device_code: "pdx_dc_unknown", client_id: INSTANCE });
    expect(poll.status).toBe(400);
    expect(poll.body!.error).toBe("slow_down");
    // Another instance is not affected.
    expect((await bogusCode("dex-other123")).status).toBe(400);
  });

  it("limits one address across instances, keyed by the forwarded client address", async () => {
    const t = newTest();
    const from = (ip: string, i: number) =>
      t.fetch("/oauth/token", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "x-forwarded-for": ip },
        body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: "pdx_rt_unknown", client_id: `dex-ipaddr${i}` }).toString(),
      });
    let allowed = 0;
    let limited = await from("203.0.113.7", 0);
    while (limited.status === 400 && allowed < OAUTH_LIMITS.tokenPerIpPerMinute + 10) {
      allowed++;
      limited = await from("203.0.113.7", allowed);
    }
    expect(limited.status).toBe(429);
    expect(allowed).toBeGreaterThanOrEqual(OAUTH_LIMITS.tokenPerIpPerMinute);
    expect(await limited.json()).toMatchObject({ error: "rate_limited", error_description: expect.stringContaining("this address") });
    expect((await from("198.51.100.1", 1000)).status).toBe(400);
  });

  it("device authorizations are limited per address", async () => {
    const t = newTest();
    const start = () =>
      t.fetch("/oauth/device_authorization", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "x-forwarded-for": "203.0.113.9" },
        body: new URLSearchParams({ client_id: INSTANCE }).toString(),
      });
    for (let i = 0; i < OAUTH_LIMITS.deviceStartPerIpPerMinute; i++) expect((await start()).status).toBe(200);
    const limited = await start();
    expect(limited.status).toBe(429);
    expect((await limited.json()).error).toBe("rate_limited");
  });
});
