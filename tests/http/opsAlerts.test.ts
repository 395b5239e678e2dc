// The anomaly rules fed by real proxied requests: the `openai` SDK through the proxy's
// httpActions (convex-test) with the simulator upstream. Each usage event carries the caller's
// address as the signup HMAC (never the address) and, for a stream, its time to first byte;
// five addresses on one key raise key_many_ips, and with the policy set to suspend, the SDK's
// next request fails with OpenAI's 403.
import OpenAI from "openai";
import { afterEach, describe, expect, it, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import { hashClientIp } from "../../convex/signup/limits";
import { signIn } from "../../convex/test.setup";
import { account, clientFor, eventsOf, type TestConvex, useUpstream } from "./harness";

let t: TestConvex;
useUpstream({ t: (x) => (t = x) });

afterEach(() => {
  vi.useRealTimers();
});

const messages = [{ role: "user" as const, content: "Who is calling?" }];

describe("client addresses and time to first byte on usage events", () => {
  it("records each caller's address as its HMAC and a stream's TTFB; a JSON completion has none", async () => {
    const a = await account(t, "ip@example.com", { plan: "pro" });
    const client = clientFor(t, a.secret);
    await client.chat.completions.create({ model: "gpt-4o-mini", messages }, { headers: { "x-forwarded-for": "203.0.113.7, 10.0.0.1" } });
    const stream = await client.chat.completions.create(
      { model: "gpt-4o-mini", messages, stream: true },
      { headers: { "x-forwarded-for": "198.51.100.23" } },
    );
    for await (const chunk of stream) void chunk;

    const events = (await eventsOf(t, a.userId)).sort((x, y) => x.at - y.at);
    expect(events).toHaveLength(2);
    const [json, streamed] = events;
    expect(json.ipHash).toBe(await hashClientIp("203.0.113.7", process.env.ENCRYPTION_KEY));
    expect(streamed.ipHash).toBe(await hashClientIp("198.51.100.23", process.env.ENCRYPTION_KEY));
    expect(JSON.stringify(events)).not.toContain("203.0.113.7");
    expect(json.ttfbMs).toBeUndefined();
    expect(streamed.ttfbMs).toBeGreaterThanOrEqual(0);
    expect(streamed.ttfbMs).toBeLessThanOrEqual(streamed.latencyMs);
  });
});

describe("a key used from many addresses", () => {
  it("raises key_many_ips and, under alert_and_suspend, the SDK's next request gets a 403 key_suspended", async () => {
    const admin = await signIn(t, "root@example.com", "admin");
    await admin.as.mutation(api.ops.anomalies.setPolicy, { keyUsageSpike: "alert", keyManyIps: "alert_and_suspend", reason: "shared keys are against the terms" });
    const a = await account(t, "shared@example.com", { plan: "pro" });
    const client = clientFor(t, a.secret);
    for (let i = 1; i <= 5; i++) {
      await client.chat.completions.create({ model: "gpt-4o-mini", messages }, { headers: { "x-forwarded-for": `192.0.2.${i}` } });
    }
    // The evaluator leaves the last 10 s for its next run (events commit after their `at`).
    vi.useFakeTimers({ now: Date.now() + 15_000, toFake: ["Date"] });
    await t.mutation(internal.ops.alertsEvaluator.evaluate, {});
    vi.useRealTimers();

    const alerts = await t.run(async (ctx) => ctx.db.query("opsAlerts").collect());
    expect(alerts.map((x) => [x.rule, x.subject, x.suspendedKeyId])).toEqual([["key_many_ips", a.keyId, a.keyId]]);

    const err = await client.chat.completions.create({ model: "gpt-4o-mini", messages }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((err as InstanceType<typeof OpenAI.PermissionDeniedError>).code).toBe("key_suspended");
    expect((err as Error).message).toContain("Contact Poindexter support to restore it");
  });
});
