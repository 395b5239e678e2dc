// Provider credentials and session tokens on convex-test: issuing and rotating through
// POST /api/provisioning/token (the caller from ctx.auth), the ledger accepting them like an API
// key with the credential's scopes, the cron's rotation with its overlap, support's revoke and
// rotate (audit-logged), session tokens' expiry, and master-key switching.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, internal } from "../_generated/api";
import { encodeBearerHash, parseToken, presentedHash } from "../model/credentials/tokens";
import { errorCodeOf, newTest, signIn, type TestConvex } from "../test.setup";

vi.setConfig({ testTimeout: 30_000 });

const HOUR = 3_600_000;

beforeEach(() => {
  vi.stubEnv("ENCRYPTION_KEY", "test-encryption-key-for-credentials");
  vi.stubEnv("OPENAI_API_KEY", "sk-test");
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

async function bearerHashOf(token: string): Promise<{ kind: "provider_credential" | "session_token"; hash: string }> {
  const parsed = parseToken(token)!;
  return { kind: parsed.kind, hash: encodeBearerHash(parsed.lookupId, await presentedHash(parsed.secret, process.env.ENCRYPTION_KEY)) };
}

/** quota.ledger.begin as the proxy calls it for a chat request with this bearer token. */
async function begin(t: TestConvex, token: string, model = "gpt-4o-mini", kind: "chat" | "embedding" = "chat") {
  const { kind: secretKind, hash } = await bearerHashOf(token);
  return await t.mutation(internal.quota.ledger.begin, {
    keyHash: hash,
    secretKind,
    requestId: `req_${Math.random().toString(36).slice(2)}`,
    kind,
    model,
    promptTokens: 10,
    requestedMaxOutput: 16,
    choices: 1,
    characters: 0,
  });
}

async function postToken(as: ReturnType<TestConvex["withIdentity"]>, body: unknown, headers: Record<string, string> = {}) {
  const res = await as.fetch("/api/provisioning/token", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

describe("POST /api/provisioning/token", () => {
  it("issues a scoped credential to the signed-in account, stored only as a salted hash", async () => {
    const t = newTest();
    const { as, userId } = await signIn(t, "holder@example.com", "user", "basic");
    const res = await postToken(as, { provider: "openai", scopes: ["chat"] });
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.body.token).toMatch(/^pdx_pc_[0-9A-Za-z]{59}$/);
    expect(res.body.credential).toMatchObject({ provider: "openai", scopes: ["chat"], status: "active" });
    expect(res.body.credential.expiresAt - res.body.credential.issuedAt).toBe(24 * HOUR);
    const rows = await t.run(async (ctx) => ctx.db.query("providerCredentials").collect());
    expect(rows).toHaveLength(1);
    expect(rows[0].userId).toBe(userId);
    const stored = JSON.stringify(rows[0]);
    expect(stored).not.toContain(parseToken(res.body.token)!.secret);
    expect(stored).not.toContain(await presentedHash(parseToken(res.body.token)!.secret, process.env.ENCRYPTION_KEY));
    const audit = await t.run(async (ctx) => ctx.db.query("auditLogs").collect());
    expect(audit.map((a) => a.action)).toContain("credential.issued");
  });

  it("refuses a caller without a JWT, a bad body, and headers that do not match the account", async () => {
    const t = newTest();
    const { as, userId } = await signIn(t, "holder@example.com", "user", "basic");
    const anonymous = await t.fetch("/api/provisioning/token", { method: "POST", body: JSON.stringify({ provider: "openai" }) });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as any).error.code).toBe("not_signed_in");
    expect((await postToken(as, { provider: "nope" })).body.error.message).toMatch(/provider must be one of/);
    expect((await postToken(as, { provider: "elevenlabs", scopes: ["chat"] })).body.error).toMatchObject({ code: "invalid_scope" });
    expect((await postToken(as, { provider: "openai" }, { "x-plan-tier": "gold" })).status).toBe(400);
    const otherAccount = await postToken(as, { provider: "openai" }, { "x-account-id": "someone-else" });
    expect(otherAccount.status).toBe(409);
    expect(otherAccount.body.error.code).toBe("account_mismatch");
    expect((await postToken(as, { provider: "openai" }, { "x-plan-tier": "pro" })).body.error.code).toBe("plan_tier_mismatch");
    const matching = await postToken(as, { provider: "openai" }, { "x-account-id": userId, "x-plan-tier": "basic", "x-plan-status": "active" });
    expect(matching.status).toBe(201);
  });

  it("refuses an account that cannot use the proxy", async () => {
    const t = newTest();
    const { as, userId } = await signIn(t, "holder@example.com", "user", "basic");
    await t.run(async (ctx) => ctx.db.patch("users", userId, { state: "suspended" }));
    const res = await postToken(as, { provider: "openai" });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("account_inactive");
  });

  it("rotates: the old credential keeps working through the overlap and tells its holder to refresh", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const t = newTest();
    const { as } = await signIn(t, "holder@example.com", "user", "basic");
    const first = (await postToken(as, { provider: "openai" })).body.token;
    expect(await begin(t, first)).toMatchObject({ ok: true });
    expect((await begin(t, first)).ok && (await begin(t, first) as any).credentialRotatingUntil).toBeFalsy();

    const second = await postToken(as, { provider: "openai" });
    expect(second.body.rotated).toBe(1);
    const old = await begin(t, first);
    expect(old).toMatchObject({ ok: true });
    expect((old as any).credentialRotatingUntil).toBeGreaterThan(Date.now());
    expect(await begin(t, second.body.token)).toMatchObject({ ok: true });

    // GET shows both; the newest is active so no refresh is needed.
    const listed = (await (await as.fetch("/api/provisioning/token?provider=openai")).json()) as any;
    expect(listed.credentials.map((c: any) => c.status)).toEqual(["active", "rotating"]);
    expect(listed.refresh).toBe(false);

    // After the overlap the old one is refused (and the sweep revokes it); the new one works.
    vi.setSystemTime(Date.now() + HOUR + 1);
    expect(await begin(t, first)).toEqual({ ok: false, refusal: { reason: "credential_invalid", kind: "provider_credential", why: "expired" } });
    await t.mutation(internal.credentials.rotation.sweep, {});
    expect(await begin(t, first)).toMatchObject({ refusal: { why: "revoked" } });
    expect(await begin(t, second.body.token)).toMatchObject({ ok: true });
  });
});

describe("minting limits", () => {
  it("a holder stuck in a refresh loop gets 429 after 20 credentials a minute, then again a minute later", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const t = newTest();
    const { as } = await signIn(t, "looping@example.com", "user", "basic");
    for (let i = 0; i < 20; i++) expect((await postToken(as, { provider: "openai" })).status).toBe(201);
    const refused = await postToken(as, { provider: "openai" });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe("rate_limit_exceeded");
    // Only one credential is active whatever the loop did; the others are rotating out.
    const rows = await t.run(async (ctx) => ctx.db.query("providerCredentials").collect());
    expect(rows.filter((r) => r.status === "active")).toHaveLength(1);
    vi.setSystemTime(Date.now() + 60_000);
    expect((await postToken(as, { provider: "openai" })).status).toBe(201);
  });
});

describe("the proxy's view of a credential", () => {
  it("meters it to the account and refuses models outside its scope with a 403 reason", async () => {
    const t = newTest();
    const { as, userId } = await signIn(t, "holder@example.com", "user", "basic");
    const token = (await postToken(as, { provider: "openai", scopes: ["chat"] })).body.token;
    expect(await begin(t, token)).toMatchObject({ ok: true, userId });
    expect(await begin(t, token, "text-embedding-3-small", "embedding")).toMatchObject({
      ok: false,
      refusal: { reason: "credential_scope", provider: "openai", scopes: ["chat"], model: "text-embedding-3-small" },
    });
    expect(await begin(t, token, "claude-haiku-4-5")).toMatchObject({ ok: false, refusal: { reason: "credential_scope" } });
  });

  it("lists on /v1/models only the models its provider and endpoints cover", async () => {
    const t = newTest();
    const { as } = await signIn(t, "holder@example.com", "user", "basic");
    const modelsWith = async (token: string) => {
      const res = await t.fetch("/v1/models", { method: "GET", headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      return ((await res.json()) as { data: { id: string }[] }).data.map((m) => m.id);
    };
    const chatOnly = await modelsWith((await postToken(as, { provider: "openai", scopes: ["chat"] })).body.token);
    const everyEndpoint = await modelsWith((await postToken(as, { provider: "openai" })).body.token);
    expect(chatOnly).toContain("gpt-4o-mini");
    expect(chatOnly).not.toContain("text-embedding-3-small");
    expect(everyEndpoint).toContain("text-embedding-3-small");
    expect(everyEndpoint.every((id) => !id.startsWith("claude-"))).toBe(true);
    // The one model it does not list is also the one it may not call.
    const retrieve = await t.fetch("/v1/models/text-embedding-3-small", { method: "GET", headers: { authorization: `Bearer ${(await postToken(as, { provider: "openai", scopes: ["chat"] })).body.token}` } });
    expect(retrieve.status).toBe(404);
  });

  it("refuses a forged secret with a real lookup id", async () => {
    const t = newTest();
    const { as } = await signIn(t, "holder@example.com", "user", "basic");
    const token: string = (await postToken(as, { provider: "openai" })).body.token;
    const forged = token.slice(0, -4) + (token.endsWith("AAAA") ? "BBBB" : "AAAA");
    expect(await begin(t, forged)).toMatchObject({ ok: false, refusal: { reason: "credential_invalid", why: "unknown" } });
  });
});

describe("the rotation cron", () => {
  it("starts each rotation one overlap before expiry and revokes it when the overlap ends", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const t = newTest();
    const { as } = await signIn(t, "holder@example.com", "user", "basic");
    const token = (await postToken(as, { provider: "openai" })).body.token;
    expect(await t.mutation(internal.credentials.rotation.sweep, {})).toEqual({ rotationsStarted: 0, revoked: 0, sessionsDeleted: 0, credentialsDeleted: 0 });
    vi.setSystemTime(Date.now() + 23 * HOUR + 1);
    expect(await t.mutation(internal.credentials.rotation.sweep, {})).toMatchObject({ rotationsStarted: 1 });
    const during = await begin(t, token);
    expect(during).toMatchObject({ ok: true });
    expect((during as any).credentialRotatingUntil).toBeGreaterThan(Date.now());
    // The holder's GET says to fetch a new one; its POST mints it.
    expect(((await (await as.fetch("/api/provisioning/token?provider=openai")).json()) as any).refresh).toBe(true);
    const next = (await postToken(as, { provider: "openai" })).body;
    expect(next.rotated).toBe(0);
    vi.setSystemTime(Date.now() + HOUR);
    expect(await t.mutation(internal.credentials.rotation.sweep, {})).toMatchObject({ revoked: 1 });
    expect(await begin(t, token)).toMatchObject({ ok: false, refusal: { why: "revoked" } });
    expect(await begin(t, next.token)).toMatchObject({ ok: true });
  });
});

describe("the sweep's housekeeping", () => {
  it("deletes revoked credentials 30 days past expiry and session rows a day past expiry, and nothing newer", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const t = newTest();
    const { as } = await signIn(t, "old@example.com", "user", "basic");
    await postToken(as, { provider: "openai" });
    await as.fetch("/api/session", { method: "POST" });
    const [c] = await t.run(async (ctx) => ctx.db.query("providerCredentials").collect());
    await t.run(async (ctx) => ctx.db.patch("providerCredentials", c._id, { status: "revoked", revokedAt: Date.now() }));
    vi.setSystemTime(Date.now() + 2 * 24 * HOUR);
    expect(await t.mutation(internal.credentials.rotation.sweep, {})).toMatchObject({ sessionsDeleted: 1, credentialsDeleted: 0 });
    vi.setSystemTime(Date.now() + 30 * 24 * HOUR);
    expect(await t.mutation(internal.credentials.rotation.sweep, {})).toMatchObject({ credentialsDeleted: 1 });
    expect(await t.run(async (ctx) => ctx.db.query("providerCredentials").collect())).toEqual([]);
  });
});

describe("support", () => {
  it("revokes one credential at once with a reason in the audit log; customers cannot", async () => {
    const t = newTest();
    const { as, userId } = await signIn(t, "holder@example.com", "user", "basic");
    const { as: agent } = await signIn(t, "agent@example.com", "support");
    const token = (await postToken(as, { provider: "openai" })).body.token;
    const { credentials } = await agent.query(api.credentials.support.credentialsOf, { userId });
    expect(credentials).toHaveLength(1);
    expect(JSON.stringify(credentials)).not.toMatch(/tokenHash|salt|lookupId/);
    expect(await errorCodeOf(as.mutation(api.credentials.support.revoke, { userId, credentialId: credentials[0].id, reason: "leak" }))).toBe("FORBIDDEN");
    expect(await errorCodeOf(agent.mutation(api.credentials.support.revoke, { userId, credentialId: credentials[0].id, reason: " " }))).toBe("INVALID_ARGUMENT");
    await agent.mutation(api.credentials.support.revoke, { userId, credentialId: credentials[0].id, reason: "posted in a public repo" });
    expect(await begin(t, token)).toMatchObject({ ok: false, refusal: { reason: "credential_invalid", why: "revoked" } });
    const audit = await t.run(async (ctx) => ctx.db.query("auditLogs").collect());
    expect(audit.find((a) => a.action === "credential.revoked")).toMatchObject({ actorLabel: "agent@example.com", reason: "posted in a public repo" });
  });

  it("force-rotates: the credential keeps its overlap and its holder is told to refresh", async () => {
    const t = newTest();
    const { as, userId } = await signIn(t, "holder@example.com", "user", "basic");
    const { as: agent } = await signIn(t, "agent@example.com", "support");
    const token = (await postToken(as, { provider: "openai" })).body.token;
    const [c] = (await agent.query(api.credentials.support.credentialsOf, { userId })).credentials;
    await agent.mutation(api.credentials.support.rotate, { userId, credentialId: c.id, reason: "routine" });
    expect((await begin(t, token) as any).credentialRotatingUntil).toBeDefined();
  });
});

describe("session tokens", () => {
  it("expire after their lifetime with a session_expired refusal; a new one works", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const t = newTest();
    const { as } = await signIn(t, "browser@example.com", "user", "basic");
    const res = await as.fetch("/api/session", { method: "POST" });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { token: string; expires_in: number };
    expect(body.token).toMatch(/^pdx_st_/);
    expect(body.expires_in).toBe(15 * 60);
    expect(await begin(t, body.token)).toMatchObject({ ok: true });
    vi.setSystemTime(Date.now() + 15 * 60_000);
    expect(await begin(t, body.token)).toEqual({ ok: false, refusal: { reason: "credential_invalid", kind: "session_token", why: "expired" } });
    const again = (await (await as.fetch("/api/session", { method: "POST" })).json()) as { token: string };
    expect(await begin(t, again.token)).toMatchObject({ ok: true });
  });

  it("are refused for a suspended account, at issue and at use", async () => {
    const t = newTest();
    const { as, userId } = await signIn(t, "browser@example.com", "user", "basic");
    const { token } = (await (await as.fetch("/api/session", { method: "POST" })).json()) as { token: string };
    await t.run(async (ctx) => ctx.db.patch("users", userId, { state: "suspended" }));
    expect(await begin(t, token)).toMatchObject({ ok: false, refusal: { reason: "account_inactive" } });
    const res = await as.fetch("/api/session", { method: "POST" });
    expect(res.status).toBe(403);
    expect((await t.fetch("/api/session", { method: "POST" })).status).toBe(401);
  });
});

describe("master keys", () => {
  it("support switches the active id (audit-logged); an unknown id is refused; values never appear", async () => {
    vi.stubEnv("OPENAI_API_KEYS", "k1:sk-first,k2:sk-second");
    vi.stubEnv("OPENAI_ACTIVE_KEY_ID", "k1");
    const t = newTest();
    const { as: agent } = await signIn(t, "agent@example.com", "support");
    const before = (await agent.query(api.credentials.masterKeys.list, {})).find((r) => r.provider === "openai")!;
    expect(before).toMatchObject({ ids: ["default", "k1", "k2"], envActiveId: "k1", activeId: "k1", chosenId: null });
    expect(await errorCodeOf(agent.mutation(api.credentials.masterKeys.setActive, { provider: "openai", keyId: "k9", reason: "rotation" }))).toBe("NOT_FOUND");
    await agent.mutation(api.credentials.masterKeys.setActive, { provider: "openai", keyId: "k2", reason: "quarterly rotation" });
    expect(await t.query(internal.credentials.masterKeys.chosenId, { provider: "openai" })).toBe("k2");
    const after = await agent.query(api.credentials.masterKeys.list, {});
    expect(after.find((r) => r.provider === "openai")).toMatchObject({ activeId: "k2", updatedBy: "agent@example.com" });
    expect(JSON.stringify(after)).not.toContain("sk-");
    const audit = await t.run(async (ctx) => ctx.db.query("auditLogs").collect());
    expect(audit.find((a) => a.action === "master_key.switched")).toMatchObject({ reason: "quarterly rotation", metadata: { from: "k1", to: "k2" } });
    expect(JSON.stringify(audit)).not.toContain("sk-");
  });
});

describe("the dashboard card's functions", () => {
  it("list the person's own live credentials and issue one with its token shown once", async () => {
    const t = newTest();
    const { as } = await signIn(t, "holder@example.com", "user", "basic");
    const { as: other } = await signIn(t, "other@example.com", "user", "basic");
    const issued = await as.mutation(api.credentials.mine.issue, { provider: "anthropic" });
    expect(issued.token).toMatch(/^pdx_pc_/);
    expect((await as.query(api.credentials.mine.list, {})).credentials).toHaveLength(1);
    expect((await other.query(api.credentials.mine.list, {})).credentials).toHaveLength(0);
    expect(await errorCodeOf(other.mutation(api.credentials.mine.revoke, { credentialId: issued.credential.id }))).toBe("NOT_FOUND");
    await as.mutation(api.credentials.mine.revoke, { credentialId: issued.credential.id });
    expect((await as.query(api.credentials.mine.list, {})).credentials).toHaveLength(0);
  });
});
