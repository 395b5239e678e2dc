// Admin API keys: admins only; the secret is shown once and stored hashed; creation and
// revocation are audit-logged; the admin API's check refuses unknown and revoked keys.
import { describe, expect, test } from "vitest";
import { api, internal } from "../_generated/api";
import { hashSecret } from "../model/apiKeySecrets";
import { errorCodeOf, newTest, signIn } from "../test.setup";

describe("admin API keys", () => {
  test("an admin creates one (secret once, hash stored), lists it, revokes it; each audit-logged", async () => {
    const t = newTest();
    const { as: admin } = await signIn(t, "root@poindexter.dev", "admin");
    const created = await admin.mutation(api.admin.apiKeys.create, { name: "billing export", reason: "monthly finance report" });
    expect(created.secret).toMatch(/^pdx_admin_[0-9A-Za-z]{43}$/);
    expect(created.prefix).toBe(created.secret.slice(0, 16));
    const stored = await t.run((ctx) => ctx.db.get("adminApiKeys", created.keyId));
    expect(stored?.hash).toBe(await hashSecret(created.secret));
    expect(JSON.stringify(stored)).not.toContain(created.secret);
    expect(JSON.stringify(await admin.query(api.admin.apiKeys.list, {}))).not.toContain(created.secret);

    expect(await t.mutation(internal.admin.apiKeys.authenticate, { hash: await hashSecret(created.secret) })).toMatchObject({ ok: true, prefix: created.prefix });
    expect(await t.mutation(internal.admin.apiKeys.authenticate, { hash: await hashSecret("pdx_admin_nope") })).toEqual({ ok: false, reason: "unknown" });

    await admin.mutation(api.admin.apiKeys.revoke, { keyId: created.keyId, reason: "script retired" });
    expect(await t.mutation(internal.admin.apiKeys.authenticate, { hash: await hashSecret(created.secret) })).toEqual({ ok: false, reason: "revoked", prefix: created.prefix });
    expect(await admin.query(api.admin.apiKeys.list, {})).toEqual([
      expect.objectContaining({ name: "billing export", createdByLabel: "root@poindexter.dev", revokedAt: expect.any(Number), revokedByLabel: "root@poindexter.dev" }),
    ]);
    expect(await errorCodeOf(admin.mutation(api.admin.apiKeys.revoke, { keyId: created.keyId, reason: "again" }))).toBe("CONFLICT");
    const audits = await t.run((ctx) => ctx.db.query("auditLogs").withIndex("by_targetId_and_at", (q) => q.eq("targetId", created.keyId)).collect());
    expect(audits.map((a) => [a.action, a.reason])).toEqual([
      ["adminApiKey.created", "monthly finance report"],
      ["adminApiKey.revoked", "script retired"],
    ]);
  });

  test("support agents and customers cannot see or make admin keys; a name and a reason are required", async () => {
    const t = newTest();
    const { as: agent } = await signIn(t, "agent@poindexter.dev", "support");
    const { as: admin } = await signIn(t, "root@poindexter.dev", "admin");
    expect(await errorCodeOf(agent.mutation(api.admin.apiKeys.create, { name: "x", reason: "want one" }))).toBe("FORBIDDEN");
    expect(await errorCodeOf(agent.query(api.admin.apiKeys.list, {}))).toBe("FORBIDDEN");
    expect(await errorCodeOf(admin.mutation(api.admin.apiKeys.create, { name: " ", reason: "a reason" }))).toBe("INVALID_ARGUMENT");
    expect(await errorCodeOf(admin.mutation(api.admin.apiKeys.create, { name: "ok", reason: "" }))).toBe("INVALID_ARGUMENT");
  });
});
