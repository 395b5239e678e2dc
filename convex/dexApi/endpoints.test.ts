// Every Dex API operation's refusals, table-driven over model/dexApi/operations.ts through the
// router (convex-test's fetch): no credentials, a bad token, a token without the scope, a plan
// without the feature, invalid input, the rate limit, and an identity that is not there. The
// successful calls against the provider simulator are in tests/http/dexApi.runtime.test.ts.
import { MINUTE, RateLimiter } from "@convex-dev/rate-limiter";
import { describe, expect, it, vi } from "vitest";
import { components } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { limitOf } from "../model/dexApi/limits";
import { OPERATIONS, type Operation, type Scope } from "../model/dexApi/operations";
import { newSecret, secretHash } from "../model/oauth/secrets";
import { customer, newTest, type TestConvex } from "../test.setup";
import { createGrant, issuePair } from "../oauth/store";

vi.setConfig({ testTimeout: 60_000 });

const OPS = OPERATIONS.filter((o) => !o.proxy && o.access !== "none");

/** A request each operation accepts as far as validation goes. */
const VALID_BODY: Record<string, unknown> = {
  sendEmail: { to: ["a@example.com"], subject: "Hello", text: "Hi" },
  sendSignal: { recipients: ["+12025550100"], message: "Hi" },
  createCalendarEvent: { summary: "Call", start: { date_time: "2026-12-01T09:00:00Z" }, end: { date_time: "2026-12-01T09:30:00Z" } },
  updateCalendarEvent: { summary: "Call", start: { date: "2026-12-01" }, end: { date: "2026-12-02" } },
  createApiKey: { name: "key" },
  subscribe: { plan: "basic" },
};
const INVALID_BODY: Record<string, unknown> = {
  sendEmail: { to: ["a@example.com"], subject: "Hello" },
  sendSignal: { recipients: [], message: "Hi" },
  createCalendarEvent: { summary: "Call", start: { date_time: "tomorrow" }, end: { date_time: "2026-12-01T09:30:00Z" } },
  updateCalendarEvent: { summary: "Call", start: { date: "2026-12-02" }, end: { date: "2026-12-01" } },
};

const pathOf = (o: Operation, id = "abc123") => o.path.replace("{id}", id);

async function call(t: TestConvex, o: Operation, bearer: string | null, opts: { id?: string; query?: string; body?: unknown } = {}) {
  const body = opts.body !== undefined ? opts.body : VALID_BODY[o.id];
  const res = await t.fetch(`${pathOf(o, opts.id)}${opts.query ?? ""}`, {
    method: o.method,
    headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, error: ((await res.json()) as { error?: { code: string | null; type: string; param: string | null } }).error };
}

/** An OAuth access token of the account with exactly `scopes`, as the token endpoint would issue it. */
async function accessToken(t: TestConvex, userId: Id<"users">, scopes: Scope[]): Promise<string> {
  const token = newSecret("access");
  const accessHash = await secretHash(token, process.env.ENCRYPTION_KEY);
  const refreshHash = await secretHash(newSecret("refresh"), process.env.ENCRYPTION_KEY);
  await t.run(async (ctx) => {
    const now = Date.now();
    const grantId = await createGrant(ctx, userId, "dex-endpoints1", scopes, "device", now);
    await issuePair(ctx, { _id: grantId, userId }, scopes, { accessHash, refreshHash }, now);
  });
  return token;
}

describe("every Dex API operation refuses", () => {
  it("no credentials, an unknown key and a bad access token with 401", async () => {
    const t = newTest();
    for (const o of OPS) {
      expect((await call(t, o, null)).status, o.id).toBe(401);
      expect((await call(t, o, `pk_live_${"z".repeat(43)}`)).status, o.id).toBe(401);
      const bad = await call(t, o, newSecret("access"));
      expect([bad.status, bad.error?.code], o.id).toEqual([401, "invalid_token"]);
    }
  });

  it("an access token without the operation's scope (and any token where only keys may call) with 403", async () => {
    const t = newTest();
    const { userId } = await customer(t, "pro", "scopes@example.com");
    for (const o of OPS) {
      const scope = typeof o.access === "object" ? o.access.scope : null;
      const others = (["identity", "email", "signal", "calendar", "ai", "usage"] as Scope[]).filter((s) => s !== scope);
      const token = await accessToken(t, userId, others);
      const res = await call(t, o, token);
      expect([res.status, res.error?.code], o.id).toEqual([403, scope === null ? "api_key_required" : "insufficient_scope"]);
    }
  });

  it("a plan without the operation's feature with 403 feature_not_in_plan", async () => {
    const t = newTest();
    const { secret } = await customer(t, "trial", "trial@example.com");
    for (const o of OPS.filter((x) => x.feature !== null)) {
      const res = await call(t, o, secret);
      expect([res.status, res.error?.code], o.id).toEqual([403, "feature_not_in_plan"]);
    }
  });

  it("invalid bodies, queries and ids with 400 in OpenAI's shape", async () => {
    const t = newTest();
    const { secret } = await customer(t, "basic", "invalid@example.com");
    for (const o of OPS) {
      if (o.id in INVALID_BODY) {
        const res = await call(t, o, secret, { body: INVALID_BODY[o.id] });
        expect([res.status, res.error?.type], o.id).toEqual([400, "invalid_request_error"]);
      }
      if (o.query) {
        const res = await call(t, o, secret, { query: "?unknown=1" });
        expect([res.status, res.error?.type], o.id).toEqual([400, "invalid_request_error"]);
      }
      if (o.path.includes("{id}")) {
        const res = await call(t, o, secret, { id: "not%20an%20id" });
        expect([res.status, res.error?.param], o.id).toEqual([400, "id"]);
      }
    }
  });

  it("past the plan's rate limit with 429 and retry-after, per account", async () => {
    const t = newTest();
    const { userId, secret } = await customer(t, "basic", "limited@example.com");
    const limiter = new RateLimiter(components.rateLimiter);
    for (const group of new Set(OPS.map((o) => o.limit).filter((g) => g !== null))) {
      const { rate, capacity } = limitOf("basic", group);
      await t.run(async (ctx) => {
        await limiter.limit(ctx, `dexApi:${group}`, { key: userId, count: capacity, config: { kind: "token bucket", rate, period: MINUTE, capacity } });
      });
    }
    for (const o of OPS.filter((x) => x.limit !== null)) {
      const res = await t.fetch(pathOf(o), {
        method: o.method,
        headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
        ...(VALID_BODY[o.id] !== undefined ? { body: JSON.stringify(VALID_BODY[o.id]) } : {}),
      });
      expect(res.status, o.id).toBe(429);
      expect(Number(res.headers.get("retry-after")), o.id).toBeGreaterThan(0);
      expect(((await res.json()) as { error: { code: string } }).error.code, o.id).toBe("rate_limit_exceeded");
    }
    // Another account's buckets are its own.
    const other = await customer(t, "basic", "unlimited@example.com");
    expect((await t.fetch("/v1/identity", { headers: { authorization: `Bearer ${other.secret}` } })).status).toBe(404);
  });

  it("operations that need the identity with 403 identity_not_ready while the account has none", async () => {
    const t = newTest();
    const { secret } = await customer(t, "basic", "noidentity@example.com");
    for (const o of OPS.filter((x) => x.needs !== null)) {
      const res = await call(t, o, secret);
      expect([res.status, res.error?.code], o.id).toEqual([403, "identity_not_ready"]);
    }
    // The identity's own views say there is none.
    for (const o of OPS.filter((x) => x.tag === "Identity")) expect((await call(t, o, secret)).status, o.id).toBe(404);
  });
});
