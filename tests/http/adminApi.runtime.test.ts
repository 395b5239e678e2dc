// The admin HTTP API over real HTTP on the offline runtime (real scheduler, workpool, rate
// limiter): an admin makes an admin API key in the console, then a script lists users with
// filters and cursors, reads a month's usage (aggregate and per user) and re-provisions an
// identity; every refusal answers with its status and code.
import { ConvexHttpClient } from "convex/browser";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api.js";
import { ADMIN_API_RATE_PER_MINUTE } from "../../convex/admin/api";
import { monthOf } from "../../convex/model/calendar";
import { devEnv, devSimulatorBilling } from "../../dev/env";
import { startRuntimeStack, type RuntimeStack } from "./runtimeStack";

vi.setConfig({ testTimeout: 90_000 });

let stack: RuntimeStack;
let admin: ConvexHttpClient;
let key: string;

type Json = Record<string, any>;

async function call(secret: string | null, method: string, route: string, body?: unknown): Promise<{ status: number; json: Json; headers: Headers }> {
  const res = await fetch(`${stack.site}${route}`, {
    method,
    headers: { ...(secret === null ? {} : { authorization: `Bearer ${secret}` }), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Json, headers: res.headers };
}

async function userIdOf(email: string): Promise<string> {
  return ((await stack.run("query", internal.cli.showAccount, { email })) as { id: string }).id;
}

beforeAll(async () => {
  stack = await startRuntimeStack({ name: "admin-api-runtime", env: ({ dir, simUrl }) => devEnv(dir, simUrl, "http://127.0.0.1:5997") });
  stack.sim.configure(devSimulatorBilling(stack.site));
  // Signed in first (the dev issuer's sign-in makes the account), then made an admin.
  admin = await stack.signIn("root@ops.example.com");
  await stack.run("mutation", internal.cli.setAccountRole, { email: "root@ops.example.com", role: "admin" });
  key = (await admin.mutation(api.admin.apiKeys.create, { name: "ops script", reason: "nightly account export" })).secret;
  for (const [email, plan] of [
    ["ada@people.example.com", "basic"],
    ["adam@people.example.com", "trial"],
    ["bea@people.example.com", "pro"],
    ["cy@people.example.com", "trial"],
  ] as const) {
    await stack.createAccount(email, plan);
  }
  await stack.quiescent();
}, 180_000);

afterAll(async () => {
  await stack?.close();
});

describe("authentication", () => {
  it("refuses a missing, unknown, malformed or customer key with 401 and a code", async () => {
    expect(await call(null, "GET", "/v1/admin/users")).toMatchObject({ status: 401, json: { error: { code: "missing_admin_key" } } });
    expect(await call(`pdx_admin_${"A".repeat(43)}`, "GET", "/v1/admin/users")).toMatchObject({ status: 401, json: { error: { code: "unknown_admin_key" } } });
    expect(await call("not-a-key", "GET", "/v1/admin/users")).toMatchObject({ status: 401, json: { error: { code: "unknown_admin_key" } } });
    const customer = await stack.account("key-owner@people.example.com");
    expect(await call(customer.secret, "GET", "/v1/admin/users")).toMatchObject({ status: 401, json: { error: { code: "not_an_admin_key" } } });
  });

  it("refuses a revoked key with 403; support agents cannot make keys", async () => {
    const made = await admin.mutation(api.admin.apiKeys.create, { name: "short-lived", reason: "one-off import" });
    expect((await call(made.secret, "GET", "/v1/admin/users?limit=1")).status).toBe(200);
    await admin.mutation(api.admin.apiKeys.revoke, { keyId: made.keyId, reason: "import done" });
    expect(await call(made.secret, "GET", "/v1/admin/users")).toMatchObject({ status: 403, json: { error: { code: "admin_key_revoked" } } });

    const agent = await stack.signIn("agent@ops.example.com");
    await stack.run("mutation", internal.cli.setAccountRole, { email: "agent@ops.example.com", role: "support" });
    await expect(agent.mutation(api.admin.apiKeys.create, { name: "mine", reason: "please" })).rejects.toThrow(/admin role/);
  });

  it("rate limits each key (429 with retry-after), leaving other keys alone", async () => {
    const busy = await admin.mutation(api.admin.apiKeys.create, { name: "busy loop", reason: "rate limit check" });
    let statuses: number[] = [];
    const started = Date.now();
    for (let i = 0; i < ADMIN_API_RATE_PER_MINUTE + 5; i += 25) {
      const batch = await Promise.all(Array.from({ length: 25 }, () => fetch(`${stack.site}/v1/admin/users?limit=1`, { headers: { authorization: `Bearer ${busy.secret}` } })));
      statuses = statuses.concat(batch.map((r) => r.status));
      if (batch.some((r) => r.status === 429)) {
        const limited = batch.find((r) => r.status === 429)!;
        expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
        expect(((await limited.json()) as Json).error.code).toBe("rate_limited");
      }
    }
    // The bucket holds a minute's worth and refills at 2 a second while the batches run.
    const refilled = Math.ceil(((Date.now() - started) / 60_000) * ADMIN_API_RATE_PER_MINUTE);
    const ok = statuses.filter((s) => s === 200).length;
    expect(ok).toBeGreaterThanOrEqual(ADMIN_API_RATE_PER_MINUTE);
    expect(ok).toBeLessThanOrEqual(ADMIN_API_RATE_PER_MINUTE + refilled);
    expect(statuses.filter((s) => s === 429).length).toBe(statuses.length - ok);
    expect(statuses).toContain(429);
    expect((await call(key, "GET", "/v1/admin/users?limit=1")).status).toBe(200);
  });
});

describe("GET /v1/admin/users", () => {
  it("filters by state, plan and email prefix and pages with a cursor", async () => {
    const people = await call(key, "GET", "/v1/admin/users?email=ad&limit=100");
    expect(people.status).toBe(200);
    expect(people.json.data.map((u: Json) => u.email)).toEqual(["ada@people.example.com", "adam@people.example.com"]);
    expect(people.json).toMatchObject({ next_cursor: null, has_more: false });

    const trials = await call(key, "GET", "/v1/admin/users?state=trial&email=%20ADAM");
    expect(trials.json.data).toEqual([expect.objectContaining({ email: "adam@people.example.com", state: "trial", plan: "trial", id: expect.any(String) })]);
    expect((await call(key, "GET", "/v1/admin/users?plan=pro")).json.data.map((u: Json) => u.email)).toEqual(["bea@people.example.com"]);
    expect((await call(key, "GET", "/v1/admin/users?state=active&plan=basic")).json.data.map((u: Json) => u.email)).toEqual(["ada@people.example.com"]);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; json: Json } = await call(key, "GET", `/v1/admin/users?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      expect(page.json.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.json.data.map((u: Json) => u.email));
      cursor = page.json.next_cursor;
    } while (cursor !== null);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((e) => /^(ada|adam|bea|cy)@people/.test(e)).sort()).toEqual(
      ["ada@people.example.com", "adam@people.example.com", "bea@people.example.com", "cy@people.example.com"],
    );
  });

  it("answers 400 with the parameter's problem", async () => {
    expect(await call(key, "GET", "/v1/admin/users?state=sleeping")).toMatchObject({ status: 400, json: { error: { code: "invalid_parameter", message: expect.stringContaining("state must be one of") } } });
    expect(await call(key, "GET", "/v1/admin/users?plan=gold")).toMatchObject({ status: 400, json: { error: { code: "invalid_parameter" } } });
    expect(await call(key, "GET", "/v1/admin/users?limit=1000")).toMatchObject({ status: 400, json: { error: { code: "invalid_parameter" } } });
    expect(await call(key, "GET", "/v1/admin/users?cursor=garbage")).toMatchObject({ status: 400, json: { error: { code: "invalid_cursor" } } });
    expect(await call(key, "GET", "/v1/admin/usage?cursor=garbage")).toMatchObject({ status: 400, json: { error: { code: "invalid_cursor" } } });
  });
});

describe("GET /v1/admin/usage", () => {
  it("a month's aggregate and per-user figures from real proxied requests", async () => {
    const { secret } = await stack.account("user-of-ai@people.example.com", "basic");
    const openai = new OpenAI({ apiKey: secret, baseURL: `${stack.site}/v1`, maxRetries: 0 });
    await openai.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hello" }] });
    await stack.run("mutation", internal.admin.overview.refreshScheduled, {});
    await stack.quiescent();
    const userId = await userIdOf("user-of-ai@people.example.com");

    const mine = await call(key, "GET", `/v1/admin/usage?userId=${userId}`);
    expect(mine.status).toBe(200);
    expect(mine.json.month).toBe(monthOf(Date.now()));
    expect(mine.json.users).toEqual([expect.objectContaining({ userId, email: "user-of-ai@people.example.com", requests: 1, tokensIn: expect.any(Number) })]);
    expect(mine.json.users[0].tokensIn + mine.json.users[0].tokensOut).toBeGreaterThan(0);

    const all = await call(key, "GET", "/v1/admin/usage");
    expect(all.json.aggregate).toMatchObject({ requests: expect.any(Number), computedAt: expect.any(Number) });
    expect(all.json.aggregate.requests).toBeGreaterThanOrEqual(1);
    expect(all.json.users.map((u: Json) => u.userId)).toContain(userId);
  });

  it("400 for a bad month, 404 for an unknown user", async () => {
    expect(await call(key, "GET", "/v1/admin/usage?month=2026-13")).toMatchObject({ status: 400, json: { error: { code: "invalid_parameter" } } });
    expect(await call(key, "GET", "/v1/admin/usage?userId=nobody")).toMatchObject({ status: 404, json: { error: { code: "user_not_found" } } });
  });
});

describe("POST /v1/admin/provision/{userId}", () => {
  it("re-provisions a paid account's identity after it was removed, audit-logged under the key", async () => {
    const email = "reprov@people.example.com";
    await stack.createAccount(email, "basic");
    await stack.quiescent();
    await stack.run("mutation", internal.cli.deprovisionIdentity, { email, reason: "test: start over" });
    await stack.quiescent();
    const userId = await userIdOf(email);

    expect(await call(key, "POST", `/v1/admin/provision/${userId}`, {})).toMatchObject({ status: 400, json: { error: { code: "invalid_parameter" } } });
    expect(await call(key, "POST", `/v1/admin/provision/${userId}`, "{not json")).toMatchObject({ status: 400, json: { error: { code: "invalid_json" } } });
    const done = await call(key, "POST", `/v1/admin/provision/${userId}`, { reason: "customer's number was released by mistake" });
    expect(done).toMatchObject({ status: 202, json: { userId, status: "provisioning", identityId: expect.any(String) } });
    // A second call while that identity lives is a conflict, not a second identity.
    expect(await call(key, "POST", `/v1/admin/provision/${userId}`, { reason: "again" })).toMatchObject({ status: 409, json: { error: { code: "conflict" } } });

    const logged = await admin.query(api.admin.auditLog.search, { targetId: userId, action: "identity.provisioned_by_hand", paginationOpts: { numItems: 5, cursor: null } });
    expect(logged.page).toEqual([expect.objectContaining({ actorLabel: expect.stringMatching(/^admin-api:pdx_admin_/), reason: "customer's number was released by mistake" })]);
  });

  it("404 for an unknown user; 409 for an account whose plan has no identity", async () => {
    expect(await call(key, "POST", "/v1/admin/provision/k57abcdefabcdefabcdefabcdefabcd", { reason: "why not" })).toMatchObject({ status: 404, json: { error: { code: "user_not_found" } } });
    const trialId = await userIdOf("cy@people.example.com");
    expect(await call(key, "POST", `/v1/admin/provision/${trialId}`, { reason: "trial wants one" })).toMatchObject({ status: 409, json: { error: { code: "illegal_transition" } } });
  });
});
