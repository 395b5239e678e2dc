// The ops alerts end to end on convex-test: each rule raises exactly when it should (and not
// below its threshold or sample floor), repeats bump one row, conditions that clear resolve
// themselves, the anomaly policy suspends a key that the proxy then refuses, staff acknowledge
// (customers cannot), and a new alert is mailed once.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import { alertAccount } from "../billing/apply";
import { alertStepFailed } from "../identity/lifecycle";
import { HOUR, hourOf, KEY_SPIKE } from "../model/ops/anomalies";
import { breakerTransition, customer, errorCodeOf, newTest, signIn, type TestConvex, usageEventRow } from "../test.setup";

const NOW = Date.UTC(2026, 10, 29, 12, 30, 0);
let seq = 0;

beforeEach(() => {
  vi.useFakeTimers({ now: NOW, toFake: ["Date"] });
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

type EventOver = Partial<Omit<Doc<"usageEvents">, "_id" | "_creationTime">>;

/**
 * `n` settled requests' events, 20 s ago (past the evaluator's lag), inserted as rows in one
 * transaction: the evaluator reads only the events, so no balance is written.
 */
async function events(t: TestConvex, userId: Id<"users">, n: number, over: EventOver | ((i: number) => EventOver) = {}) {
  await t.run(async (ctx) => {
    for (let i = 0; i < n; i++) {
      await ctx.db.insert("usageEvents", usageEventRow(userId, { at: Date.now() - 20_000, ...(typeof over === "function" ? over(i) : over) }));
    }
  });
}

const evaluate = (t: TestConvex) => t.mutation(internal.ops.alertsEvaluator.evaluate, {});

async function alertsOf(t: TestConvex, rule: Doc<"opsAlerts">["rule"]) {
  return await t.run(async (ctx) =>
    (await ctx.db.query("opsAlerts").collect()).filter((a) => a.rule === rule),
  );
}

function advance(ms: number) {
  vi.setSystemTime(Date.now() + ms);
}

describe("error rate over 1%", () => {
  test("raises once 100 requests in 5 minutes have more than 1% 5xx, bumps on repeat, resolves when it clears", async () => {
    const t = newTest();
    const { userId } = await customer(t, "pro");
    await events(t, userId, 98);
    await events(t, userId, 2, { status: "upstream_error", httpStatus: 502 });
    await evaluate(t);
    let [alert, ...rest] = await alertsOf(t, "error_rate");
    expect(rest).toEqual([]);
    expect(alert).toMatchObject({ subject: "openai", status: "open", count: 1, severity: "critical" });
    expect(alert.message).toContain("2 of 100 requests to openai failed");

    // Still failing a minute later: the same row, bumped.
    advance(60_000);
    await events(t, userId, 1, { httpStatus: 503 });
    await evaluate(t);
    [alert, ...rest] = await alertsOf(t, "error_rate");
    expect(rest).toEqual([]);
    expect(alert).toMatchObject({ status: "open", count: 2 });

    // Healthy traffic dilutes the window under 1%: resolved by the evaluator.
    advance(60_000);
    await events(t, userId, 300);
    await evaluate(t);
    [alert] = await alertsOf(t, "error_rate");
    expect(alert).toMatchObject({ status: "resolved", resolvedBy: "auto" });
  });

  test("does not raise at exactly 1%, nor below the 100-request floor however bad", async () => {
    const t = newTest();
    const { userId } = await customer(t, "pro");
    await events(t, userId, 2, { httpStatus: 502 });
    await events(t, userId, 1);
    await evaluate(t);
    expect(await alertsOf(t, "error_rate")).toEqual([]);
    const fresh = newTest();
    const other = await customer(fresh, "pro");
    await events(fresh, other.userId, 99);
    await events(fresh, other.userId, 1, { httpStatus: 500 });
    await evaluate(fresh);
    expect(await alertsOf(fresh, "error_rate")).toEqual([]);
  });

  test("4xx answers are the caller's errors, not ours", async () => {
    const t = newTest();
    const { userId } = await customer(t, "pro");
    await events(t, userId, 100, { httpStatus: 400, status: "rejected" });
    await evaluate(t);
    expect(await alertsOf(t, "error_rate")).toEqual([]);
  });
});

describe("p99 latency over 500 ms", () => {
  test("raises on time to first byte when more than 1% of 100 samples are slow", async () => {
    const t = newTest();
    const { userId } = await customer(t, "pro");
    await events(t, userId, 100, (i) => ({ ttfbMs: i < 98 ? 120 : 900 }));
    await evaluate(t);
    const [alert] = await alertsOf(t, "latency_p99");
    expect(alert).toMatchObject({ subject: "openai", status: "open", severity: "warning" });
  });

  test("JSON completions (no TTFB sample) never count, however long they took", async () => {
    const t = newTest();
    const { userId } = await customer(t, "pro");
    await events(t, userId, 200, { latencyMs: 8_000 });
    await events(t, userId, 99, { ttfbMs: 900 });
    await evaluate(t);
    expect(await alertsOf(t, "latency_p99")).toEqual([]);
  });

  test("1 slow sample in 100 is within p99", async () => {
    const t = newTest();
    const { userId } = await customer(t, "pro");
    await events(t, userId, 100, (i) => ({ ttfbMs: i === 0 ? 3_000 : 80 }));
    await evaluate(t);
    expect(await alertsOf(t, "latency_p99")).toEqual([]);
  });
});

describe("events raised where they happen", () => {
  test("a breaker opening raises a provider outage; a failed probe bumps it; closing resolves it", async () => {
    const t = newTest();
    await t.mutation(internal.proxy.breakers.recordTransition, { provider: "anthropic", transition: breakerTransition("closed", "open", Date.now()) });
    let [alert] = await alertsOf(t, "provider_outage");
    expect(alert).toMatchObject({ subject: "anthropic", status: "open", count: 1 });
    expect(alert.message).toContain("12 of 20 attempts failed (last: HTTP 502)");
    await t.mutation(internal.proxy.breakers.recordTransition, { provider: "anthropic", transition: breakerTransition("open", "half_open", Date.now() + 30_000) });
    await t.mutation(internal.proxy.breakers.recordTransition, { provider: "anthropic", transition: breakerTransition("half_open", "open", Date.now() + 31_000) });
    [alert] = await alertsOf(t, "provider_outage");
    expect(alert).toMatchObject({ status: "open", count: 2 });
    await t.mutation(internal.proxy.breakers.recordTransition, { provider: "anthropic", transition: breakerTransition("open", "half_open", Date.now() + 61_000) });
    await t.mutation(internal.proxy.breakers.recordTransition, { provider: "anthropic", transition: breakerTransition("half_open", "closed", Date.now() + 62_000) });
    const all = await alertsOf(t, "provider_outage");
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ status: "resolved", resolvedBy: "auto" });
  });

  test("a failed payment and a failed provisioning step each raise one alert about the account", async () => {
    const t = newTest();
    const { userId } = await customer(t, "pro");
    await t.run(async (ctx) => {
      await alertAccount(ctx, userId, "payment_failed");
      await alertAccount(ctx, userId, "account_suspended");
      const identityId = "identity_test" as Id<"identities">;
      await alertStepFailed(ctx, { _id: identityId, userId } as Doc<"identities">, "number_order", "HTTP 422 from Telnyx");
    });
    const [payment, ...morePayments] = await alertsOf(t, "payment_failed");
    expect(morePayments).toEqual([]);
    expect(payment).toMatchObject({ subject: userId, userId, status: "open" });
    const [step] = await alertsOf(t, "provisioning_failed");
    expect(step).toMatchObject({ subject: `${userId}:number_order`, userId, severity: "critical" });
    expect(step.message).toContain("HTTP 422 from Telnyx");
  });
});

/** A key's steady use for the past week, as the evaluator would have folded it. */
async function weekOfUse(t: TestConvex, keyId: Id<"apiKeys">, userId: Id<"users">, tokensPerHour: number) {
  const current = hourOf(Date.now() - 20_000);
  await t.run(async (ctx) => {
    for (let h = 1; h <= KEY_SPIKE.baselineHours; h++) {
      await ctx.db.insert("keyUsageHourly", { apiKeyId: keyId, userId, hour: current - h * HOUR, tokens: tokensPerHour, requests: 10 });
    }
  });
}

describe("fraud heuristics", () => {
  test("a key's hour far above its own baseline raises key_usage_spike; the same volume on a new key does not", async () => {
    const t = newTest();
    const old = await customer(t, "pro", "old@example.com");
    const fresh = await customer(t, "pro", "new@example.com");
    await weekOfUse(t, old.keyId, old.userId, 10_000);
    // 110 requests of 1,500 tokens: 165k this hour against a 10k/h baseline (alert above 100k).
    await events(t, old.userId, 110, { apiKeyId: old.keyId, tokensIn: 1_000, tokensOut: 500 });
    await events(t, fresh.userId, 1_000, { apiKeyId: fresh.keyId, tokensIn: 4_000, tokensOut: 1_000 });
    // The backlog takes a few pages.
    while ((await evaluate(t)).more);
    const alerts = await alertsOf(t, "key_usage_spike");
    expect(alerts.map((a) => a.subject)).toEqual([old.keyId]);
    expect(alerts[0].message).toContain("165,000 tokens");
    expect(alerts[0].userId).toBe(old.userId);
  });

  test("at 10x the baseline it stays quiet", async () => {
    const t = newTest();
    const c = await customer(t, "pro");
    await weekOfUse(t, c.keyId, c.userId, 20_000);
    await events(t, c.userId, 100, { apiKeyId: c.keyId, tokensIn: 1_500, tokensOut: 500 }); // 200k = 10x
    await evaluate(t);
    expect(await alertsOf(t, "key_usage_spike")).toEqual([]);
  });

  test("five client addresses on one key within 10 minutes raise key_many_ips; four do not", async () => {
    const t = newTest();
    const a = await customer(t, "pro", "a@example.com");
    const b = await customer(t, "pro", "b@example.com");
    await events(t, a.userId, 5, (i) => ({ apiKeyId: a.keyId, ipHash: `hash-a-${i}` }));
    await events(t, b.userId, 8, (i) => ({ apiKeyId: b.keyId, ipHash: `hash-b-${i % 4}` }));
    await evaluate(t);
    const alerts = await alertsOf(t, "key_many_ips");
    expect(alerts.map((x) => x.subject)).toEqual([a.keyId]);
    expect(alerts[0].message).toContain("5 different client addresses");
  });

  test("addresses further apart than 10 minutes do not add up", async () => {
    const t = newTest();
    const a = await customer(t, "pro");
    await events(t, a.userId, 3, (i) => ({ apiKeyId: a.keyId, ipHash: `early-${i}` }));
    await evaluate(t);
    advance(11 * 60_000);
    await events(t, a.userId, 3, (i) => ({ apiKeyId: a.keyId, ipHash: `late-${i}` }));
    await evaluate(t);
    expect(await alertsOf(t, "key_many_ips")).toEqual([]);
  });

  test("signup bursts: five attempts from one address raise, and the alert resolves once they age out", async () => {
    const t = newTest();
    const attempt = (ipHash: string) => ({ mailbox: `m${++seq}@example.com`, ipHash, outcome: "created" as const, at: Date.now() });
    await t.run(async (ctx) => {
      for (let i = 0; i < 5; i++) await ctx.db.insert("signupAttempts", attempt("f00dfeedbeef0000"));
      for (let i = 0; i < 4; i++) await ctx.db.insert("signupAttempts", attempt("0123456789ab0000"));
    });
    await evaluate(t);
    let alerts = await alertsOf(t, "signup_burst");
    expect(alerts.map((a) => [a.subject, a.status])).toEqual([["ip:f00dfeedbeef", "open"]]);
    advance(11 * 60_000);
    await evaluate(t);
    alerts = await alertsOf(t, "signup_burst");
    expect(alerts.map((a) => [a.subject, a.status])).toEqual([["ip:f00dfeedbeef", "resolved"]]);
  });
});

async function chat(t: TestConvex, secret: string) {
  return await t.fetch("/v1/chat/completions", {
    method: "POST",
    headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
  });
}

describe("the anomaly policy", () => {
  test("alert only by default: the key keeps working", async () => {
    const t = newTest();
    const c = await customer(t, "pro");
    await events(t, c.userId, 5, (i) => ({ apiKeyId: c.keyId, ipHash: `ip-${i}` }));
    await evaluate(t);
    expect(await alertsOf(t, "key_many_ips")).toHaveLength(1);
    const key = await t.run(async (ctx) => ctx.db.get("apiKeys", c.keyId));
    expect(key?.suspendedAt).toBeUndefined();
  });

  test("alert and suspend: the proxy refuses the key with OpenAI's 403, the owner sees why, support restores it", async () => {
    const t = newTest();
    const admin = await signIn(t, "root@example.com", "admin");
    const support = await signIn(t, "grace@example.com", "support");
    const c = await customer(t, "pro");
    expect(await errorCodeOf(support.as.mutation(api.ops.anomalies.setPolicy, { keyUsageSpike: "alert", keyManyIps: "alert_and_suspend", reason: "stolen keys" })))
      .toBe("FORBIDDEN");
    await admin.as.mutation(api.ops.anomalies.setPolicy, { keyUsageSpike: "alert", keyManyIps: "alert_and_suspend", reason: "keys leaked in a public repo" });
    expect(await support.as.query(api.ops.anomalies.policy, {})).toMatchObject({ keyManyIps: "alert_and_suspend", updatedByLabel: "root@example.com" });

    await events(t, c.userId, 6, (i) => ({ apiKeyId: c.keyId, ipHash: `ip-${i}` }));
    await evaluate(t);
    const [alert] = await alertsOf(t, "key_many_ips");
    expect(alert.suspendedKeyId).toBe(c.keyId);

    const res = await chat(t, c.secret);
    expect(res.status).toBe(403);
    const body = (await res.json()) as { error: { type: string; code: string; message: string } };
    expect(body.error).toMatchObject({ type: "permission_error", code: "key_suspended" });
    expect(body.error.message).toContain("is suspended because of unusual activity");
    // Every other endpoint a key opens refuses it the same way: the Dex API and the model list.
    for (const path of ["/v1/usage", "/v1/models"]) {
      const other = await t.fetch(path, { headers: { authorization: `Bearer ${c.secret}` } });
      expect(other.status, path).toBe(403);
      expect(((await other.json()) as { error: { code: string } }).error.code, path).toBe("key_suspended");
    }

    const [listed] = await c.as.query(api.apiKeys.manage.list, {});
    expect(listed.suspendedReason).toContain("used from many different addresses");

    const [suspension] = await support.as.query(api.ops.anomalies.suspensions, {});
    expect(suspension).toMatchObject({ apiKeyId: c.keyId, ownerEmail: c.email, rule: "key_many_ips" });
    expect(await errorCodeOf(c.as.mutation(api.ops.anomalies.restoreKey, { suspensionId: suspension._id, reason: "mine" }))).toBe("FORBIDDEN");
    await support.as.mutation(api.ops.anomalies.restoreKey, { suspensionId: suspension._id, reason: "customer confirmed a CI fleet" });
    expect(await support.as.query(api.ops.anomalies.suspensions, {})).toEqual([]);
    const restored = await t.run(async (ctx) => ctx.db.get("apiKeys", c.keyId));
    expect(restored?.suspendedAt).toBeUndefined();

    // The same pattern again right after a restore alerts but does not suspend (support vouched).
    advance(60_000);
    await events(t, c.userId, 6, (i) => ({ apiKeyId: c.keyId, ipHash: `ip2-${i}` }));
    await evaluate(t);
    expect((await t.run(async (ctx) => ctx.db.get("apiKeys", c.keyId)))?.suspendedAt).toBeUndefined();

    const audits = await t.run(async (ctx) => (await ctx.db.query("auditLogs").collect()).map((a) => a.action));
    expect(audits).toEqual(expect.arrayContaining(["anomalyPolicy.updated", "apiKey.suspended", "apiKey.restored"]));
  });
});

describe("staff actions", () => {
  async function anAlert(t: TestConvex) {
    await t.mutation(internal.proxy.breakers.recordTransition, {
      provider: "gemini",
      transition: { from: "closed", to: "open", at: Date.now(), requests: 20, failures: 20, reopenAt: Date.now() + 30_000, coolDownMs: 30_000, lastError: "HTTP 500" },
    });
    const [alert] = await alertsOf(t, "provider_outage");
    return alert._id;
  }

  test("support acknowledges with a note (audited); customers are refused; a second acknowledge conflicts", async () => {
    const t = newTest();
    const c = await customer(t, "pro");
    const support = await signIn(t, "grace@example.com", "support");
    const alertId = await anAlert(t);

    expect(await errorCodeOf(c.as.mutation(api.ops.alerts.acknowledge, { alertId, note: "mine now" }))).toBe("FORBIDDEN");
    expect(await errorCodeOf(c.as.query(api.ops.alerts.active, {}))).toBe("FORBIDDEN");
    expect(await errorCodeOf(support.as.mutation(api.ops.alerts.acknowledge, { alertId, note: "   " }))).toBe("INVALID_ARGUMENT");

    await support.as.mutation(api.ops.alerts.acknowledge, { alertId, note: "Gemini status page shows an incident" });
    const [row] = await support.as.query(api.ops.alerts.active, {});
    expect(row).toMatchObject({ status: "acknowledged", acknowledgedByLabel: "grace@example.com", note: "Gemini status page shows an incident" });
    expect(await errorCodeOf(support.as.mutation(api.ops.alerts.acknowledge, { alertId, note: "again" }))).toBe("CONFLICT");

    // An acknowledged alert still dedupes: the next detection bumps it and keeps it acknowledged.
    await t.run(async (ctx) => {
      const { raiseOpsAlert } = await import("../lib/opsAlerts");
      await raiseOpsAlert(ctx, { rule: "provider_outage", subject: "gemini", message: "still down" });
    });
    expect(await support.as.query(api.ops.alerts.active, {})).toMatchObject([{ status: "acknowledged", count: 2 }]);

    const audit = await t.run(async (ctx) => ctx.db.query("auditLogs").collect());
    expect(audit.find((a) => a.action === "opsAlert.acknowledged")).toMatchObject({ actorLabel: "grace@example.com", targetId: alertId });
  });

  test("open alerts come first, filters narrow by rule and severity, resolved ones move to the history", async () => {
    const t = newTest();
    const support = await signIn(t, "grace@example.com", "support");
    const c = await customer(t, "pro");
    const outage = await anAlert(t);
    await t.run(async (ctx) => alertAccount(ctx, c.userId, "payment_failed"));
    await support.as.mutation(api.ops.alerts.acknowledge, { alertId: outage, note: "on it" });

    const all = await support.as.query(api.ops.alerts.active, {});
    expect(all.map((a) => [a.rule, a.status])).toEqual([["payment_failed", "open"], ["provider_outage", "acknowledged"]]);
    expect((await support.as.query(api.ops.alerts.active, { severity: "critical" })).map((a) => a.rule)).toEqual(["provider_outage"]);
    expect((await support.as.query(api.ops.alerts.active, { rule: "payment_failed" })).map((a) => a.rule)).toEqual(["payment_failed"]);

    await support.as.mutation(api.ops.alerts.resolve, { alertId: outage, note: "provider recovered" });
    const history = await support.as.query(api.ops.alerts.history, { paginationOpts: { numItems: 10, cursor: null } });
    expect(history.page.map((a) => [a.rule, a.resolvedBy])).toEqual([["provider_outage", "grace@example.com"]]);
    expect((await support.as.query(api.ops.alerts.active, {})).map((a) => a.rule)).toEqual(["payment_failed"]);
  });
});

describe("mail", () => {
  test("one mail per new alert to OPS_ALERT_EMAIL, none for repeats, none without the variable", async () => {
    // Every timer faked: the outbox's send stays queued on the workpool instead of running after the test.
    vi.useFakeTimers({ now: NOW });
    const t = newTest();
    const raise = (subject: string) =>
      t.run(async (ctx) => {
        const { raiseOpsAlert } = await import("../lib/opsAlerts");
        return await raiseOpsAlert(ctx, { rule: "provider_outage", subject, message: `${subject} is down` });
      });
    await raise("quiet");
    vi.stubEnv("OPS_ALERT_EMAIL", "oncall@example.com");
    vi.stubEnv("APP_URL", "https://app.example.com");
    await raise("openai");
    await raise("openai");
    await raise("openai");
    const outbox = await t.run(async (ctx) => ctx.db.query("emailOutbox").collect());
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({ to: "oncall@example.com", template: "ops_alert", status: "queued", subject: "[critical] Provider outage: openai" });
    expect(outbox[0].content?.text).toContain("https://app.example.com/admin/alerts");

    // The outbox sends the row as rendered, with no account behind it.
    const prepared = await t.mutation(internal.email.delivery.prepare, { outboxId: outbox[0]._id });
    expect(prepared).toMatchObject({ kind: "send", to: "oncall@example.com", subject: "[critical] Provider outage: openai" });
  });
});
