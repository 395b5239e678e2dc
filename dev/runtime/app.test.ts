// The real app (convex/) on the runtime, as `npm run dev` starts it: dev sign-in
// through the app's own issuer, the seeded accounts, the live dashboard query path.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import WebSocket from "ws";
import { devEnv } from "../env.ts";
import { DEMO_USERS, seed } from "../seed.ts";
import { startRuntime, type CallCounts, type Runtime } from "./server.ts";
import { api } from "../../convex/_generated/api.js";

let dataDir: string;
let rt: Runtime;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "runtime-app-"));
  rt = await startRuntime({ port: 0, sitePort: 0, dataDir, readEnvLocal: false, quiet: true, env: devEnv(dataDir) });
  expect(await seed(rt.engine, rt.urls.site)).toBe(true);
}, 60_000);

afterAll(async () => {
  await rt?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function devToken(email: string, role = "user") {
  const res = await fetch(`${rt.urls.site}/dev-auth/token`, { method: "POST", body: JSON.stringify({ email, role }) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

describe("the app on the runtime", () => {
  it("signs a seeded user in through the dev issuer and serves their account live", async () => {
    const c = new ConvexClient(rt.urls.cloud, { webSocketConstructor: WebSocket as never, unsavedChangesWarning: false });
    const token = await devToken("basic@poindexter.dev");
    c.setAuth(async () => token);
    const seen: unknown[] = [];
    c.onUpdate(api.users.viewer.get, {}, (v) => seen.push(v));
    await expect.poll(() => seen.find((v) => v !== null), { timeout: 10_000 }).toMatchObject({
      email: "basic@poindexter.dev",
      plan: "basic",
      role: "user",
    });
    await c.close();
  });

  it("seeds once, with monthly rollups that agree with the events", async () => {
    expect(await seed(rt.engine, rt.urls.site)).toBe(false);
    let check: { users: string[]; events: number; eventTokens: number; monthlyTokens: number; monthlyRequests: number } | null = null;
    await rt.engine.runInline(async (ctx) => {
      const users = await ctx.db.query("users").collect();
      const basic = users.find((u) => u.email === "basic@poindexter.dev");
      const events = await ctx.db.query("usageEvents").withIndex("by_userId_and_at", (q) => q.eq("userId", basic._id)).collect();
      const monthly = await ctx.db.query("usageMonthly").withIndex("by_userId_and_month", (q) => q.eq("userId", basic._id)).collect();
      check = {
        users: users.map((u) => u.email).sort(),
        events: events.length,
        eventTokens: events.reduce((s, e) => s + e.tokensIn + e.tokensOut, 0),
        monthlyTokens: monthly.reduce((s, r) => s + r.tokensIn + r.tokensOut, 0),
        monthlyRequests: monthly.reduce((s, r) => s + r.requests, 0),
      };
    });
    expect(check!.users).toEqual(DEMO_USERS.map((u) => u.email).sort());
    expect(check!.events).toBeGreaterThan(60);
    expect(check!.monthlyTokens).toBe(check!.eventTokens);
    expect(check!.monthlyRequests).toBe(check!.events);
  });

  it("counts calls and documents in /_dev/metrics", async () => {
    const before = (await (await fetch(`${rt.urls.cloud}/_dev/metrics`)).json()) as { functionCalls: { query: number } };
    const h = new ConvexHttpClient(rt.urls.cloud);
    h.setAuth(await devToken("trial@poindexter.dev"));
    expect(await h.query(api.users.viewer.get, {})).toMatchObject({ plan: "trial" });
    const after = (await (await fetch(`${rt.urls.cloud}/_dev/metrics`)).json()) as {
      functionCalls: { query: number; httpAction: number };
      documentsRead: number;
    };
    expect(after.functionCalls.query).toBeGreaterThan(before.functionCalls.query);
    expect(after.documentsRead).toBeGreaterThan(0);
  });

  it("counts component functions apart from the app's own", async () => {
    const before = rt.metrics();
    const h = new ConvexHttpClient(rt.urls.cloud);
    h.setAuth(await devToken("metrics-split@example.com"));
    // Signup's per-IP and per-domain limits are the rate limiter component's mutations.
    await h.mutation(api.signup.account.ensure, {});
    const after = rt.metrics();
    const delta = (a: Partial<CallCounts>, b: Partial<CallCounts>, kind: keyof CallCounts) => (a[kind] ?? 0) - (b[kind] ?? 0);
    expect(delta(after.appFunctionCalls, before.appFunctionCalls, "mutation")).toBeGreaterThanOrEqual(1);
    expect(delta(after.componentCalls.rateLimiter ?? {}, before.componentCalls.rateLimiter ?? {}, "mutation")).toBeGreaterThanOrEqual(1);
    for (const kind of ["query", "mutation", "action", "httpAction"] as const) {
      expect(after.functionCalls[kind]).toBe(after.appFunctionCalls[kind] + after.componentFunctionCalls[kind]);
      const byComponent = Object.values(after.componentCalls).reduce((sum, counts) => sum + counts[kind], 0);
      expect(after.componentFunctionCalls[kind]).toBe(byComponent);
    }
    expect(after.componentFunctionCalls.httpAction).toBe(0);
  });
});
