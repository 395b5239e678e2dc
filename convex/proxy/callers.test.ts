// Key and access-token authentication of the endpoints that call no provider (/v1/models, the
// Dex API's key path): the read-only lookup with the time rules applied by the caller, and the
// last-use record written only when stale.
import { afterEach, describe, expect, it, vi } from "vitest";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import type { Scope } from "../model/oauth/clients";
import { ACCESS_TOKEN_TTL_MS } from "../model/oauth/lifecycle";
import { newSecret, secretHash } from "../model/oauth/secrets";
import { useOAuthEnv } from "../oauth/oauth.setup";
import { createGrant, issuePair, revokeGrant } from "../oauth/store";
import { customer, newTest, type TestConvex } from "../test.setup";

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

const START = Date.UTC(2026, 10, 10, 12);

async function models(t: TestConvex, secret: string, ip: string) {
  const res = await t.fetch("/v1/models", { headers: { authorization: `Bearer ${secret}`, "x-forwarded-for": ip } });
  return { status: res.status, body: (await res.json()) as { data?: unknown[]; error?: { code: string; message: string } } };
}

const keyOf = (t: TestConvex, keyId: Id<"apiKeys">) => t.run(async (ctx) => ctx.db.get("apiKeys", keyId));

describe("key authentication without a provider call", () => {
  it("records the key's last use at most once a minute", async () => {
    vi.useFakeTimers({ now: START, toFake: ["Date"] });
    const t = newTest();
    const c = await customer(t);
    expect((await models(t, c.secret, "198.51.100.1")).status).toBe(200);
    expect(await keyOf(t, c.keyId)).toMatchObject({ lastUsedAt: START, lastUsedIp: "198.51.100.1" });

    vi.setSystemTime(START + 30_000);
    expect((await models(t, c.secret, "198.51.100.2")).status).toBe(200);
    expect(await keyOf(t, c.keyId)).toMatchObject({ lastUsedAt: START, lastUsedIp: "198.51.100.1" });

    vi.setSystemTime(START + 61_000);
    expect((await models(t, c.secret, "198.51.100.2")).status).toBe(200);
    expect(await keyOf(t, c.keyId)).toMatchObject({ lastUsedAt: START + 61_000, lastUsedIp: "198.51.100.2" });
  });

  it("applies the time rules with the caller's clock: grace, expiry, revocation", async () => {
    vi.useFakeTimers({ now: START, toFake: ["Date"] });
    const t = newTest();
    const c = await customer(t);
    await t.run(async (ctx) => ctx.db.patch("apiKeys", c.keyId, { graceEndsAt: START + 1_000, lastUsedAt: START }));
    expect((await models(t, c.secret, "198.51.100.1")).status).toBe(200);
    vi.setSystemTime(START + 1_000);
    // The lookup's cached answer is the same; the clock decides.
    const ended = await models(t, c.secret, "198.51.100.1");
    expect(ended.status).toBe(401);
    expect(ended.body.error?.code).toBe("invalid_api_key");
    expect(ended.body.error?.message).toContain(c.secret.slice(0, 16));

    const other = await customer(t, "trial", "expiring@example.com");
    await t.run(async (ctx) => ctx.db.patch("apiKeys", other.keyId, { expiresAt: START + 2_000 }));
    expect((await models(t, other.secret, "198.51.100.1")).status).toBe(200);
    vi.setSystemTime(START + 2_000);
    expect((await models(t, other.secret, "198.51.100.1")).status).toBe(401);
  });

  it("refuses unknown keys and keys whose account is gone, and looks up without writing", async () => {
    const t = newTest();
    const c = await customer(t);
    expect((await models(t, "pk_live_" + "0".repeat(43), "198.51.100.1")).status).toBe(401);
    expect(await t.query(internal.apiKeys.callers.lookup, { hash: c.keyHash })).toMatchObject({
      found: true,
      keyId: c.keyId,
      account: { userId: c.userId, plan: "trial", state: "trial" },
    });
    expect((await keyOf(t, c.keyId))?.lastUsedAt).toBeUndefined();
    await t.run(async (ctx) => ctx.db.delete("users", c.userId));
    const gone = await models(t, c.secret, "198.51.100.1");
    expect(gone.status).toBe(401);
    expect(gone.body.error?.message).toMatch(/no longer exists/);
  });
});

/** An instance connected with `scopes`: the plain access token (as the instance holds it) and its grant. */
async function connectedToken(t: TestConvex, userId: Id<"users">, scopes: Scope[], instanceId = "dex-models01") {
  const access = newSecret("access");
  const hashes = { accessHash: await secretHash(access, process.env.ENCRYPTION_KEY), refreshHash: await secretHash(newSecret("refresh"), process.env.ENCRYPTION_KEY) };
  const grantId = await t.run(async (ctx) => {
    const id = await createGrant(ctx, userId, instanceId, scopes, "authorization_code", Date.now());
    await issuePair(ctx, { _id: id, userId }, scopes, hashes, Date.now());
    return id;
  });
  return { access, grantId };
}

const grantOf = (t: TestConvex, grantId: Id<"oauthGrants">) => t.run(async (ctx) => ctx.db.get("oauthGrants", grantId));

describe("access-token authentication of /v1/models", () => {
  it("lists the plan's models for a token with ai and records the grant's use at most once a minute", async () => {
    useOAuthEnv();
    // A provider with a key, so its models are offered (nothing is sent to it).
    vi.stubEnv("OPENAI_API_KEY", "sk-test-models");
    vi.useFakeTimers({ now: START, toFake: ["Date"] });
    const t = newTest();
    const c = await customer(t);
    const { access, grantId } = await connectedToken(t, c.userId, ["ai"]);
    const listed = await models(t, access, "198.51.100.1");
    expect(listed.status).toBe(200);
    expect(listed.body.data).toContainEqual(expect.objectContaining({ id: "gpt-4o-mini" }));
    expect(await grantOf(t, grantId)).toMatchObject({ lastUsedAt: START, lastIp: "198.51.100.1" });

    vi.setSystemTime(START + 30_000);
    expect((await models(t, access, "198.51.100.1")).status).toBe(200);
    expect(await grantOf(t, grantId)).toMatchObject({ lastUsedAt: START });
    vi.setSystemTime(START + 61_000);
    expect((await models(t, access, "198.51.100.1")).status).toBe(200);
    expect(await grantOf(t, grantId)).toMatchObject({ lastUsedAt: START + 61_000 });
  });

  it("refuses a token without ai (403), an expired one by the caller's clock, a revoked grant's and a refresh token (401)", async () => {
    useOAuthEnv();
    vi.useFakeTimers({ now: START, toFake: ["Date"] });
    const t = newTest();
    const c = await customer(t);
    const mailOnly = await connectedToken(t, c.userId, ["email", "usage"], "dex-mailonly");
    const scoped = await models(t, mailOnly.access, "198.51.100.1");
    expect(scoped).toMatchObject({ status: 403, body: { error: { code: "insufficient_scope" } } });
    expect(scoped.body.error?.message).toMatch(/'ai'/);

    const dex = await connectedToken(t, c.userId, ["ai"]);
    expect((await models(t, dex.access, "198.51.100.1")).status).toBe(200);
    vi.setSystemTime(START + ACCESS_TOKEN_TTL_MS);
    const expired = await models(t, dex.access, "198.51.100.1");
    expect(expired).toMatchObject({ status: 401, body: { error: { code: "invalid_api_key" } } });
    expect(expired.body.error?.message).toMatch(/expired/);

    vi.setSystemTime(START);
    await t.run(async (ctx) => revokeGrant(ctx, (await ctx.db.get("oauthGrants", dex.grantId))!, "user", START));
    const revoked = await models(t, dex.access, "198.51.100.1");
    expect(revoked).toMatchObject({ status: 401, body: { error: { code: "invalid_api_key" } } });
    expect(revoked.body.error?.message).toMatch(/revoked/);

    const refresh = await models(t, newSecret("refresh"), "198.51.100.1");
    expect(refresh).toMatchObject({ status: 401, body: { error: { code: "invalid_api_key" } } });
    expect(refresh.body.error?.message).toMatch(/not an access token/);
  });
});
