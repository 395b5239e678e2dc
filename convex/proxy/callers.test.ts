// Key authentication of the endpoints that call no provider (/v1/models, the Dex API): the
// read-only lookup with the time rules applied by the caller, and the last-use record
// written only when stale.
import { afterEach, describe, expect, it, vi } from "vitest";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { customer, newTest, type TestConvex } from "../test.setup";

afterEach(() => vi.useRealTimers());

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
