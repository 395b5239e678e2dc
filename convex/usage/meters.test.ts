import { afterEach, describe, expect, it, vi } from "vitest";
import { api, internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { PLANS } from "../model/plans";
import { HOLD_TTL_MS } from "../model/quota/holds";
import { ROLLUP_LAG_MS } from "./rollup";
import { customer, newTest, signIn, type TestConvex, usageEvent } from "../test.setup";

afterEach(() => vi.useRealTimers());

const START = Date.UTC(2026, 10, 10, 12);
const event = (t: TestConvex, userId: Id<"users">, over: Parameters<typeof usageEvent>[2] = {}) => usageEvent(t, userId, over);

describe("usage summary", () => {
  it("is live from the balance, which the rollup never adds to (no double counting)", async () => {
    vi.useFakeTimers({ now: START, toFake: ["Date"] });
    const t = newTest();
    const { userId, as } = await signIn(t, "summary@example.com");
    await event(t, userId, { tokensIn: 100, tokensOut: 50, costMicros: 45 });
    await event(t, userId, { tokensIn: 10, tokensOut: 5, costMicros: 5, model: "gpt-4.1-nano" });
    const before = await as.query(api.usage.meters.summary, { month: "2026-11" });
    expect(before).toMatchObject({ tokensIn: 110, tokensOut: 55, totalTokens: 165, costMicros: 50, requests: 2, plan: "trial" });
    const row = await t.run(async (ctx) => ctx.db.query("usageMonthly").unique());
    expect(row).toMatchObject({ month: "2026-11", tokensIn: 110, tokensOut: 55, requests: 2 });

    vi.setSystemTime(START + ROLLUP_LAG_MS + 1);
    expect(await t.mutation(internal.usage.rollup.foldEvents, {})).toMatchObject({ events: 2 });
    expect(await as.query(api.usage.meters.summary, { month: "2026-11" })).toEqual(before);
    await event(t, userId, { tokensIn: 1, tokensOut: 1, costMicros: 1 });
    vi.setSystemTime(START + 3 * ROLLUP_LAG_MS);
    await t.mutation(internal.usage.rollup.foldEvents, {});
    await t.mutation(internal.usage.rollup.foldEvents, {});
    expect(await as.query(api.usage.meters.summary, { month: "2026-11" })).toMatchObject({ totalTokens: 167, requests: 3 });
    expect(await t.run(async (ctx) => ctx.db.query("usageMonthly").unique())).toMatchObject({ requests: 3 });
  });

  it("keeps months apart and shows held tokens only while the hold lives", async () => {
    vi.useFakeTimers({ now: START, toFake: ["Date"] });
    const t = newTest();
    const { userId, as, keyHash } = await customer(t, "trial", "months@example.com");
    await event(t, userId, { at: Date.UTC(2026, 9, 31, 23, 59), tokensIn: 7, tokensOut: 0 });
    await event(t, userId, { tokensIn: 3, tokensOut: 0 });
    const grant = await t.mutation(internal.quota.ledger.begin, {
      keyHash, requestId: "req_held", kind: "chat", model: "gpt-4o-mini", promptTokens: 400, requestedMaxOutput: 100, choices: 1, characters: 0,
    });
    expect(grant).toMatchObject({ ok: true, holdTokens: 500 });
    expect(await as.query(api.usage.meters.summary, { month: "2026-10" })).toMatchObject({ tokensIn: 7, heldTokens: 0 });
    expect(await as.query(api.usage.meters.summary, { month: "2026-11" })).toMatchObject({ tokensIn: 3, heldTokens: 500 });
    // The same rule as admission: a hold past its TTL stops counting before the sweep removes it.
    vi.setSystemTime(START + HOLD_TTL_MS);
    expect(await as.query(api.usage.meters.summary, { month: "2026-11" })).toMatchObject({ heldTokens: 0 });
    await expect(as.query(api.usage.meters.summary, { month: "Nov" })).rejects.toThrow(/month/);
  });

  it("the rollup catches up a backlog larger than one batch by rescheduling itself", async () => {
    vi.useFakeTimers({ now: START });
    const t = newTest();
    const { userId, as } = await signIn(t, "backlog@example.com");
    for (let i = 0; i < 1_205; i++) {
      await event(t, userId, { tokensIn: 1, tokensOut: 1, costMicros: 1, at: START - 60_000 + Math.floor(i / 3) });
    }
    await t.mutation(internal.usage.rollup.foldEvents, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const daily = await t.run(async (ctx) => ctx.db.query("usageDaily").collect());
    expect(daily.reduce((s, r) => s + r.requests, 0)).toBe(1_205);
    expect(await as.query(api.usage.meters.daily, { month: "2026-11" })).toEqual([
      { day: "2026-11-10", model: "gpt-4o-mini", tokens: 2 * 1_205, costMicros: 1_205 },
    ]);
    expect(await as.query(api.usage.meters.summary, { month: "2026-11" })).toMatchObject({ requests: 1_205 });
  });
});

describe("threshold alerts", () => {
  it("raise 80% and 100% of included tokens once per month, shown until dismissed", async () => {
    vi.useFakeTimers({ now: START, toFake: ["Date"] });
    const t = newTest();
    const { userId, as } = await signIn(t, "alerts@example.com");
    const included = PLANS.trial.includedTokens;
    await event(t, userId, { tokensIn: Math.floor(included * 0.8), tokensOut: 0 });
    vi.setSystemTime(START + ROLLUP_LAG_MS + 1);
    await t.mutation(internal.usage.rollup.foldEvents, {});
    let alerts = await as.query(api.usage.alerts.mine, {});
    expect(alerts.map((a) => [a.kind, a.severity])).toEqual([["quota_80", "warning"]]);

    await event(t, userId, { tokensIn: 10, tokensOut: 0 });
    vi.setSystemTime(START + 3 * ROLLUP_LAG_MS);
    await t.mutation(internal.usage.rollup.foldEvents, {});
    expect(await as.query(api.usage.alerts.mine, {})).toHaveLength(1);

    await event(t, userId, { tokensIn: Math.ceil(included * 0.2), tokensOut: 0 });
    vi.setSystemTime(START + 5 * ROLLUP_LAG_MS);
    await t.mutation(internal.usage.rollup.foldEvents, {});
    alerts = await as.query(api.usage.alerts.mine, {});
    expect(alerts.map((a) => a.kind)).toEqual(["quota_100", "quota_80"]);
    expect(await t.run(async (ctx) => ctx.db.query("usageMonthly").unique())).toMatchObject({ alertedPercent: 100 });

    const other = await signIn(t, "intruder@example.com");
    await expect(other.as.mutation(api.usage.alerts.dismiss, { alertId: alerts[0]._id })).rejects.toThrow(/No such alert/);
    expect(await other.as.query(api.usage.alerts.mine, {})).toEqual([]);
    await as.mutation(api.usage.alerts.dismiss, { alertId: alerts[0]._id });
    expect((await as.query(api.usage.alerts.mine, {})).map((a) => a.kind)).toEqual(["quota_80"]);
  });
});

describe("daily and recent", () => {
  it("group by day and model, and list the newest requests with their key prefix", async () => {
    vi.useFakeTimers({ now: START, toFake: ["Date"] });
    const t = newTest();
    const { userId, as } = await signIn(t, "daily@example.com");
    const key = await as.mutation(api.apiKeys.manage.create, { name: "k" });
    await event(t, userId, { at: Date.UTC(2026, 10, 1, 5), tokensIn: 10, tokensOut: 0, costMicros: 2 });
    await event(t, userId, { at: Date.UTC(2026, 10, 1, 6), tokensIn: 5, tokensOut: 5, costMicros: 3 });
    await event(t, userId, { at: Date.UTC(2026, 10, 2, 6), model: "tts-1", tokensIn: 0, tokensOut: 0, characters: 40, costMicros: 600 });
    await t.run(async (ctx) => {
      const e = await ctx.db.query("usageEvents").withIndex("by_userId_and_at", (q) => q.eq("userId", userId)).order("desc").first();
      // Attach the key to the newest event (the ledger writes apiKeyId on every proxied request).
      await ctx.db.replace("usageEvents", e!._id, { ...e!, apiKeyId: key.keyId });
    });
    expect(await as.query(api.usage.meters.daily, { month: "2026-11" })).toEqual([
      { day: "2026-11-01", model: "gpt-4o-mini", tokens: 20, costMicros: 5 },
      { day: "2026-11-02", model: "tts-1", tokens: 40, costMicros: 600 },
    ]);
    const recent = await as.query(api.usage.meters.recent, { limit: 2 });
    expect(recent.map((r) => [r.model, r.keyPrefix])).toEqual([["tts-1", key.prefix], ["gpt-4o-mini", undefined]]);
    // The same breakdown once the rollup has folded the events into usageDaily, plus one
    // fresh event that only the live tail can see.
    const expected = await as.query(api.usage.meters.daily, { month: "2026-11" });
    vi.setSystemTime(START + ROLLUP_LAG_MS + 1);
    await t.mutation(internal.usage.rollup.foldEvents, {});
    expect(await t.run(async (ctx) => (await ctx.db.query("usageDaily").collect()).length)).toBe(2);
    expect(await as.query(api.usage.meters.daily, { month: "2026-11" })).toEqual(expected);
    await event(t, userId, { tokensIn: 1, tokensOut: 1, costMicros: 1 }); // stamped now: Nov 10
    expect(await as.query(api.usage.meters.daily, { month: "2026-11" })).toEqual([
      ...expected,
      { day: "2026-11-10", model: "gpt-4o-mini", tokens: 2, costMicros: 1 },
    ]);
    vi.setSystemTime(START + 3 * ROLLUP_LAG_MS);
    await t.mutation(internal.usage.rollup.foldEvents, {});
    await t.mutation(internal.usage.rollup.foldEvents, {});
    expect(await as.query(api.usage.meters.daily, { month: "2026-11" })).toHaveLength(3); // folded once, not twice
    expect((await as.query(api.usage.meters.daily, { month: "2026-11" }))[2]).toMatchObject({ tokens: 2 });
    const other = await signIn(t, "other-daily@example.com");
    expect(await other.as.query(api.usage.meters.recent, {})).toEqual([]);
  });
});
