// Retention crons on convex-test: old rows go, recent rows stay, rollups stay, and a backlog
// larger than one batch drains through the job's own rescheduling.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { internal } from "../_generated/api";
import { customer, newTest, usageEvent, type TestConvex } from "../test.setup";
import { RETENTION_BATCH } from "./retention";

const DAY = 86_400_000;

beforeEach(() => vi.useFakeTimers());
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

async function count(t: TestConvex, table: "auditLogs" | "usageEvents" | "usageDaily" | "usageMonthly" | "incomingSms") {
  return await t.run(async (ctx) => (await ctx.db.query(table).collect()).length);
}

async function auditAt(t: TestConvex, at: number, n = 1) {
  await t.run(async (ctx) => {
    for (let i = 0; i < n; i++) await ctx.db.insert("auditLogs", { actorLabel: "system", action: "x.test", targetType: "user", targetId: "u", at });
  });
}

describe("audit log retention", () => {
  test("deletes rows older than AUDIT_RETENTION_DAYS (default 400) and keeps newer ones", async () => {
    const t = newTest();
    const now = Date.now();
    await auditAt(t, now - 401 * DAY, 3);
    await auditAt(t, now - 399 * DAY, 2);
    expect(await t.mutation(internal.ops.retention.purgeAuditLogs, {})).toEqual({ deleted: 3, more: false });
    expect(await count(t, "auditLogs")).toBe(2);
    vi.stubEnv("AUDIT_RETENTION_DAYS", "100");
    expect(await t.mutation(internal.ops.retention.purgeAuditLogs, {})).toEqual({ deleted: 2, more: false });
  });

  test("a backlog of several batches drains through rescheduled runs", async () => {
    const t = newTest();
    await auditAt(t, Date.now() - 500 * DAY, RETENTION_BATCH * 2 + 7);
    await auditAt(t, Date.now(), 1);
    expect(await t.mutation(internal.ops.retention.purgeAuditLogs, {})).toEqual({ deleted: RETENTION_BATCH, more: true });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await count(t, "auditLogs")).toBe(1);
  });

  test("a bad AUDIT_RETENTION_DAYS fails loudly and deletes nothing", async () => {
    const t = newTest();
    await auditAt(t, Date.now() - 500 * DAY, 2);
    vi.stubEnv("AUDIT_RETENTION_DAYS", "4OO");
    await expect(t.mutation(internal.ops.retention.purgeAuditLogs, {})).rejects.toThrow(/AUDIT_RETENTION_DAYS/);
    expect(await count(t, "auditLogs")).toBe(2);
  });
});

describe("usage event retention", () => {
  test("deletes folded events past USAGE_EVENT_RETENTION_DAYS; rollups and recent events stay", async () => {
    const t = newTest();
    const { userId } = await customer(t, "basic");
    const now = Date.now();
    for (let i = 0; i < 3; i++) await usageEvent(t, userId, { at: now - 410 * DAY + i });
    await usageEvent(t, userId, { at: now - DAY });
    // Before the rollup ever ran nothing may go: the events are not in usageDaily yet.
    expect(await t.mutation(internal.ops.retention.purgeUsageEvents, {})).toEqual({ deleted: 0, more: false });
    await t.mutation(internal.usage.rollup.foldEvents, {});
    const daily = await count(t, "usageDaily");
    const monthly = await count(t, "usageMonthly");
    expect(daily).toBeGreaterThan(0);
    expect(await t.mutation(internal.ops.retention.purgeUsageEvents, {})).toEqual({ deleted: 3, more: false });
    expect(await count(t, "usageEvents")).toBe(1);
    expect(await count(t, "usageDaily")).toBe(daily);
    expect(await count(t, "usageMonthly")).toBe(monthly);
  });

  test("never deletes events the rollup has not folded, however old", async () => {
    const t = newTest();
    const { userId } = await customer(t, "basic");
    const now = Date.now();
    await usageEvent(t, userId, { at: now - 500 * DAY });
    await t.mutation(internal.usage.rollup.foldEvents, {});
    // An old event that lands behind the cursor's back (a late write) stays until folded.
    await t.run(async (ctx) => {
      const state = (await ctx.db.query("rollupState").collect())[0];
      await ctx.db.patch("rollupState", state._id, { cursor: now - 600 * DAY });
    });
    expect(await t.mutation(internal.ops.retention.purgeUsageEvents, {})).toEqual({ deleted: 0, more: false });
    expect(await count(t, "usageEvents")).toBe(1);
  });

  test("a backlog larger than one batch continues in rescheduled runs", async () => {
    const t = newTest();
    const { userId } = await customer(t, "basic");
    const old = Date.now() - 450 * DAY;
    await t.run(async (ctx) => {
      for (let i = 0; i < RETENTION_BATCH + 20; i++) {
        await ctx.db.insert("usageEvents", {
          userId, requestId: `r${i}`, kind: "chat", provider: "openai", model: "m", tokensIn: 1, tokensOut: 1, characters: 0,
          costMicros: 1, priceVersion: "v", usageSource: "provider", latencyMs: 1, status: "ok", httpStatus: 200, at: old + i,
        });
      }
      await ctx.db.insert("rollupState", { name: "usageMonthly", cursor: Date.now() - DAY });
    });
    expect(await t.mutation(internal.ops.retention.purgeUsageEvents, {})).toEqual({ deleted: RETENTION_BATCH, more: true });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await count(t, "usageEvents")).toBe(0);
  });
});

describe("incoming SMS retention (identity/sms.ts)", () => {
  test("SMS and Signal messages older than 30 days go, newer stay", async () => {
    const t = newTest();
    const { userId } = await customer(t, "pro");
    const now = Date.now();
    await t.run(async (ctx) => {
      const identityId = await ctx.db.insert("identities", { userId, phase: "active", steps: [], signalStatus: "verified", createdAt: now, updatedAt: now });
      for (const [i, at] of [now - 31 * DAY, now - 29 * DAY].entries()) {
        await ctx.db.insert("incomingSms", { to: "+15550000000", from: "+15551112222", text: "hi", providerMessageId: `m${i}`, receivedAt: at, userId });
        await ctx.db.insert("signalMessages", { userId, identityId, number: "+15550000000", source: "+1555", message: "hi", sentAt: at, receivedAt: at });
      }
    });
    await t.mutation(internal.identity.sms.purgeOld, {});
    const left = await t.run(async (ctx) => ({
      sms: (await ctx.db.query("incomingSms").collect()).map((r) => r.receivedAt),
      signal: (await ctx.db.query("signalMessages").collect()).map((r) => r.receivedAt),
    }));
    expect(left).toEqual({ sms: [now - 29 * DAY], signal: [now - 29 * DAY] });
  });
});
