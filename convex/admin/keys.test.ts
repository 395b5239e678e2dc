// Support's key actions on a customer's account: revoke and rotate, each with a reason that
// lands in the account's audit trail; the proxy's key check follows at once.
import { describe, expect, test } from "vitest";
import { api } from "../_generated/api";
import { authenticateKeyHash } from "../lib/apiKeys";
import { hashSecret } from "../model/apiKeySecrets";
import { customer, errorCodeOf, newTest, signIn } from "../test.setup";

describe("revoking a customer's key", () => {
  test("stops the key at once, audit-logged on the account with the reason", async () => {
    const t = newTest();
    const { as: agent } = await signIn(t, "agent@poindexter.dev", "support");
    const { userId, keyId, keyHash } = await customer(t, "basic", "leaky@example.com");
    expect(await errorCodeOf(agent.mutation(api.admin.keys.revoke, { userId, keyId, reason: "" }))).toBe("INVALID_ARGUMENT");
    await agent.mutation(api.admin.keys.revoke, { userId, keyId, reason: "key posted on GitHub" });
    expect(await t.run((ctx) => authenticateKeyHash(ctx, keyHash, undefined, Date.now()))).toMatchObject({ ok: false, reason: "key_revoked" });
    const detail = await agent.query(api.admin.accounts.get, { userId });
    expect(detail.audit[0]).toMatchObject({ action: "apiKey.revoked_by_support", actor: "agent@poindexter.dev", reason: "key posted on GitHub" });
    expect(await errorCodeOf(agent.mutation(api.admin.keys.revoke, { userId, keyId, reason: "again" }))).toBe("CONFLICT");
  });

  test("a key of another account is not found; customers are refused", async () => {
    const t = newTest();
    const { as: agent } = await signIn(t, "agent@poindexter.dev", "support");
    const { keyId } = await customer(t, "basic", "a@example.com");
    const { userId: other, as } = await customer(t, "basic", "b@example.com");
    expect(await errorCodeOf(agent.mutation(api.admin.keys.revoke, { userId: other, keyId, reason: "wrong account" }))).toBe("NOT_FOUND");
    expect(await errorCodeOf(as.mutation(api.admin.keys.revoke, { userId: other, keyId, reason: "mine?" }))).toBe("FORBIDDEN");
  });
});

describe("rotating a customer's key", () => {
  test("a replacement works now, the old one until its grace ends (0: revoked at once)", async () => {
    const t = newTest();
    const { as: agent } = await signIn(t, "agent@poindexter.dev", "support");
    const { userId, keyId, keyHash } = await customer(t, "basic", "rot@example.com");
    const rotated = await agent.mutation(api.admin.keys.rotate, { userId, keyId, reason: "customer asked by phone" });
    expect(rotated.secret).toMatch(/^pk_live_/);
    const now = Date.now();
    expect(await t.run((ctx) => authenticateKeyHash(ctx, keyHash, undefined, now))).toMatchObject({ ok: true });
    expect(await t.run(async (ctx) => authenticateKeyHash(ctx, await hashSecret(rotated.secret), undefined, now))).toMatchObject({ ok: true });
    expect(rotated.graceEndsAt - now).toBeGreaterThan(23 * 3600_000);
    expect(await errorCodeOf(agent.mutation(api.admin.keys.rotate, { userId, keyId, reason: "twice" }))).toBe("CONFLICT");

    const leaked = await agent.mutation(api.admin.keys.rotate, { userId, keyId: rotated.keyId, reason: "leaked", graceHours: 0 });
    expect(await t.run(async (ctx) => authenticateKeyHash(ctx, await hashSecret(rotated.secret), undefined, Date.now()))).toMatchObject({ ok: false });
    expect(await t.run(async (ctx) => authenticateKeyHash(ctx, await hashSecret(leaked.secret), undefined, Date.now()))).toMatchObject({ ok: true });
    const audit = (await agent.query(api.admin.accounts.get, { userId })).audit.filter((a) => a.action === "apiKey.rotated_by_support");
    expect(audit.map((a) => a.reason)).toEqual(["leaked", "customer asked by phone"]);
  });
});
