import { afterEach, describe, expect, it, vi } from "vitest";
import { api, internal } from "../_generated/api";
import { hashSecret } from "../model/apiKeySecrets";
import { MAX_LIVE_KEYS } from "../lib/apiKeys";
import { newTest, signIn, type TestConvex } from "../test.setup";

const HOUR = 3_600_000;

async function authenticate(t: TestConvex, secret: string, ip = "203.0.113.5") {
  return await t.mutation(internal.apiKeys.callers.authenticate, { hash: await hashSecret(secret), ip });
}

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

describe("API keys", () => {
  it("returns the secret once and stores only its hash and prefix", async () => {
    const t = newTest();
    const { as } = await signIn(t, "keys@example.com");
    const created = await as.mutation(api.apiKeys.manage.create, { name: "  Home Dex  " });
    expect(created.secret).toMatch(/^pk_live_[0-9A-Za-z]{43}$/);
    expect(created.prefix).toBe(created.secret.slice(0, 16));
    const stored = await t.run(async (ctx) => ctx.db.get("apiKeys", created.keyId));
    expect(stored?.hash).toBe(await hashSecret(created.secret));
    expect(JSON.stringify(stored)).not.toContain(created.secret);

    const test = await as.mutation(api.apiKeys.manage.create, { name: "CI", environment: "test" });
    expect(test.secret.startsWith("pk_test_")).toBe(true);
    const list = await as.query(api.apiKeys.manage.list, {});
    expect(list.map((k) => [k.name, k.environment, k.status])).toEqual([
      ["CI", "test", "active"],
      ["Home Dex", "live", "active"],
    ]);
    expect(JSON.stringify(list)).not.toContain(created.secret);
    expect(Object.keys(list[0])).not.toContain("hash");
  });

  it("rejects empty or overlong names", async () => {
    const t = newTest();
    const { as } = await signIn(t, "names@example.com");
    await expect(as.mutation(api.apiKeys.manage.create, { name: "   " })).rejects.toThrow(/1 to 64/);
    await expect(as.mutation(api.apiKeys.manage.create, { name: "x".repeat(65) })).rejects.toThrow(/1 to 64/);
  });

  it("authenticates by hash and records last use only when stale", async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 10, 10), toFake: ["Date"] });
    const t = newTest();
    const { as } = await signIn(t, "lastused@example.com");
    const { keyId, secret } = await as.mutation(api.apiKeys.manage.create, { name: "k" });
    expect(await authenticate(t, secret, "198.51.100.1")).toMatchObject({ ok: true, keyId, plan: "trial", state: "trial" });
    const first = await t.run(async (ctx) => ctx.db.get("apiKeys", keyId));
    expect(first).toMatchObject({ lastUsedAt: Date.UTC(2026, 10, 10), lastUsedIp: "198.51.100.1" });

    vi.setSystemTime(Date.UTC(2026, 10, 10) + 30_000);
    await authenticate(t, secret, "198.51.100.2");
    expect((await t.run(async (ctx) => ctx.db.get("apiKeys", keyId)))?.lastUsedIp).toBe("198.51.100.1");

    vi.setSystemTime(Date.UTC(2026, 10, 10) + 61_000);
    await authenticate(t, secret, "198.51.100.2");
    expect(await t.run(async (ctx) => ctx.db.get("apiKeys", keyId))).toMatchObject({
      lastUsedAt: Date.UTC(2026, 10, 10) + 61_000,
      lastUsedIp: "198.51.100.2",
    });
    expect(await authenticate(t, secret.slice(0, -1) + (secret.endsWith("A") ? "B" : "A"))).toEqual({ ok: false, refusal: { reason: "unknown_key" } });
  });

  it("revokes: the key stops working at once", async () => {
    const t = newTest();
    const { as } = await signIn(t, "revoke@example.com");
    const { keyId, secret } = await as.mutation(api.apiKeys.manage.create, { name: "k" });
    await as.mutation(api.apiKeys.manage.revoke, { keyId });
    expect(await authenticate(t, secret)).toMatchObject({ ok: false, refusal: { reason: "key_revoked", prefix: secret.slice(0, 16) } });
    expect((await as.query(api.apiKeys.manage.list, {}))[0].status).toBe("revoked");
    // Revoking twice is harmless.
    await as.mutation(api.apiKeys.manage.revoke, { keyId });
  });

  it("rotates with a grace period: the old key works during it and fails after", async () => {
    const start = Date.UTC(2026, 10, 10);
    vi.useFakeTimers({ now: start, toFake: ["Date"] });
    const t = newTest();
    const { as } = await signIn(t, "rotate@example.com");
    const old = await as.mutation(api.apiKeys.manage.create, { name: "Home Dex" });
    const rotated = await as.mutation(api.apiKeys.manage.rotate, { keyId: old.keyId, graceHours: 2 });
    expect(rotated.graceEndsAt).toBe(start + 2 * HOUR);
    expect(rotated.secret).not.toBe(old.secret);

    const list = await as.query(api.apiKeys.manage.list, {});
    expect(list.find((k) => k._id === old.keyId)).toMatchObject({ status: "grace", graceEndsAt: start + 2 * HOUR });
    expect(list.find((k) => k._id === rotated.keyId)).toMatchObject({ status: "active", name: "Home Dex" });

    vi.setSystemTime(start + 2 * HOUR - 1);
    expect(await authenticate(t, old.secret)).toMatchObject({ ok: true });
    vi.setSystemTime(start + 2 * HOUR);
    expect(await authenticate(t, old.secret)).toMatchObject({ ok: false });
    expect(await authenticate(t, rotated.secret)).toMatchObject({ ok: true });

    // A key in grace cannot be rotated again; its replacement can.
    await expect(as.mutation(api.apiKeys.manage.rotate, { keyId: old.keyId })).rejects.toThrow(/revoked|rotated/);
    // The sweep records the revocation at the grace end.
    expect(await t.mutation(internal.apiKeys.rotation.revokeEndedGrace, {})).toBe(1);
    expect(await t.run(async (ctx) => ctx.db.get("apiKeys", old.keyId))).toMatchObject({ revokedAt: start + 2 * HOUR });
  });

  it("takes the default grace from KEY_ROTATION_GRACE_HOURS, else 24 h; 0 revokes at once", async () => {
    const start = Date.UTC(2026, 10, 10);
    vi.useFakeTimers({ now: start, toFake: ["Date"] });
    const t = newTest();
    const { as } = await signIn(t, "grace-env@example.com");
    const a = await as.mutation(api.apiKeys.manage.create, { name: "a" });
    expect((await as.mutation(api.apiKeys.manage.rotate, { keyId: a.keyId })).graceEndsAt).toBe(start + 24 * HOUR);
    vi.stubEnv("KEY_ROTATION_GRACE_HOURS", "6");
    const b = await as.mutation(api.apiKeys.manage.create, { name: "b" });
    expect((await as.mutation(api.apiKeys.manage.rotate, { keyId: b.keyId })).graceEndsAt).toBe(start + 6 * HOUR);
    const c = await as.mutation(api.apiKeys.manage.create, { name: "c" });
    await as.mutation(api.apiKeys.manage.rotate, { keyId: c.keyId, graceHours: 0 });
    expect(await authenticate(t, c.secret)).toMatchObject({ ok: false });
    await expect(as.mutation(api.apiKeys.manage.rotate, { keyId: (await as.mutation(api.apiKeys.manage.create, { name: "d" })).keyId, graceHours: -1 })).rejects.toThrow(/graceHours/);
  });

  it("never shows, revokes or rotates another user's key", async () => {
    const t = newTest();
    const alice = await signIn(t, "alice@example.com");
    const bob = await signIn(t, "bob@example.com");
    const key = await alice.as.mutation(api.apiKeys.manage.create, { name: "alice's" });
    expect(await bob.as.query(api.apiKeys.manage.list, {})).toEqual([]);
    await expect(bob.as.mutation(api.apiKeys.manage.revoke, { keyId: key.keyId })).rejects.toThrow(/No such API key/);
    await expect(bob.as.mutation(api.apiKeys.manage.rotate, { keyId: key.keyId })).rejects.toThrow(/No such API key/);
    await expect(t.mutation(internal.dexApi.apiKeys.revokeForUser, { userId: bob.userId, keyId: key.keyId })).rejects.toThrow(/No such API key/);
    await expect(t.mutation(internal.dexApi.apiKeys.revokeForUser, { userId: bob.userId, keyId: "not-an-id" })).rejects.toThrow(/No such API key/);
    expect(await authenticate(t, key.secret)).toMatchObject({ ok: true });
  });

  it("caps live keys at 50, counting only keys that still work", async () => {
    const t = newTest();
    const { userId, as } = await signIn(t, "many@example.com");
    // Many old revoked keys: they must neither count nor hide the live ones.
    await t.run(async (ctx) => {
      for (let i = 0; i < 250; i++) {
        await ctx.db.insert("apiKeys", {
          userId, name: `old ${i}`, environment: "live", prefix: `pk_live_old${i}`, hash: `${i}`.padStart(64, "0"),
          scopes: [], createdAt: 0, createdBy: "dashboard", revokedAt: 1,
        });
      }
    });
    const live = [];
    for (let i = 0; i < MAX_LIVE_KEYS; i++) live.push(await as.mutation(api.apiKeys.manage.create, { name: `k${i}` }));
    await expect(as.mutation(api.apiKeys.manage.create, { name: "one too many" })).rejects.toThrow(/already have 50 keys/);
    await as.mutation(api.apiKeys.manage.revoke, { keyId: live[0].keyId });
    await as.mutation(api.apiKeys.manage.create, { name: "room again" });
  });
});
