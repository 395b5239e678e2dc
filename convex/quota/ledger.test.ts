// The hold -> settle ledger through its mutations. convex-test runs mutations one at a time,
// so parallel calls here show the serial order real Convex reaches through OCC retries
// (see docs/proxy.md, "Concurrency").
import { afterEach, describe, expect, it, vi } from "vitest";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { monthOf } from "../model/calendar";
import { PLANS } from "../model/plans";
import { PRICE_VERSION, tokenCostMicros } from "../model/pricing";
import type { Scope } from "../model/oauth/clients";
import { ACCESS_TOKEN_TTL_MS } from "../model/oauth/lifecycle";
import { HOLD_TTL_MS } from "../model/quota/holds";
import { createGrant, issuePair, revokeGrant } from "../oauth/store";
import { customer, holdsOf, newTest, type TestConvex, usageEvent } from "../test.setup";
import { countingCtx } from "./countingDb.setup";
import { beginHandler, settleHandler } from "./ledger";

const balanceOf = (t: TestConvex, userId: Id<"users">, month = monthOf(Date.now())) =>
  t.run(async (ctx) =>
    ctx.db.query("usageMonthly").withIndex("by_userId_and_month", (q) => q.eq("userId", userId).eq("month", month)).unique(),
  );

afterEach(() => vi.useRealTimers());

let seq = 0;
function beginArgs(keyHash: string, over: Partial<{ promptTokens: number; requestedMaxOutput: number | null; model: string }> = {}) {
  return {
    keyHash,
    requestId: `req_${++seq}`,
    kind: "chat" as const,
    model: over.model ?? "gpt-4o-mini",
    promptTokens: over.promptTokens ?? 100,
    requestedMaxOutput: over.requestedMaxOutput === undefined ? 100 : over.requestedMaxOutput,
    choices: 1,
    characters: 0,
  };
}

/** A request `begin` admits (its arguments and grant); a refusal fails the test. */
async function admitted(t: TestConvex, keyHash: string) {
  const args = beginArgs(keyHash);
  const grant = await t.mutation(internal.quota.ledger.begin, args);
  if (!grant.ok) throw new Error(`refused: ${grant.refusal.reason}`);
  return { args, grant };
}

const seedUsage = (t: TestConvex, userId: Id<"users">, tokens: number) =>
  usageEvent(t, userId, { tokensIn: tokens, tokensOut: 0, costMicros: 1 });

describe("holds", () => {
  it("are sized prompt bound + max output, or the plan's default max", async () => {
    const t = newTest();
    const c = await customer(t);
    const a = await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash, { promptTokens: 120, requestedMaxOutput: 30 }));
    expect(a).toMatchObject({ ok: true, holdTokens: 150, maxOutputTokens: 30 });
    const b = await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash, { promptTokens: 120, requestedMaxOutput: null }));
    expect(b).toMatchObject({ ok: true, holdTokens: 120 + PLANS.trial.limits.defaultMaxOutputTokens });
    expect((await holdsOf(t, c.userId)).map((h) => h.tokens).sort()).toEqual([150, 120 + 1024].sort());
  });

  it("under parallel requests near the cap never exceed it", async () => {
    const t = newTest();
    const c = await customer(t, "pro");
    const plan = PLANS.pro;
    const hold = 200;
    // Room for exactly 7 holds and a bit.
    await seedUsage(t, c.userId, plan.hardCapTokens - 7 * hold - 150);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash, { promptTokens: 100, requestedMaxOutput: 100 }))),
    );
    const admitted = results.filter((r) => r.ok);
    expect(admitted).toHaveLength(7);
    expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.refusal.reason === "quota_exhausted")).toBe(true);
    const held = (await holdsOf(t, c.userId)).reduce((s, h) => s + h.tokens, 0);
    expect(plan.hardCapTokens - 7 * hold - 150 + held).toBeLessThanOrEqual(plan.hardCapTokens);
  });

  it("limit concurrency to the plan's count of live holds", async () => {
    const t = newTest();
    const c = await customer(t);
    const limit = PLANS.trial.limits.concurrentRequests;
    for (let i = 0; i < limit; i++) expect((await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash))).ok).toBe(true);
    expect(await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash))).toMatchObject({
      ok: false,
      refusal: { reason: "concurrency_limit", plan: "trial" },
      rate: { limitRequests: PLANS.trial.limits.requestsPerMinute },
    });
  });

  it("expire: a crashed request stops holding quota after its TTL, and the sweep clears idle balances", async () => {
    const start = Date.UTC(2026, 10, 10);
    vi.useFakeTimers({ now: start, toFake: ["Date"] });
    const t = newTest();
    const c = await customer(t);
    const idle = await customer(t, "trial", "idle@example.com");
    const limit = PLANS.trial.limits.concurrentRequests;
    for (let i = 0; i < limit; i++) {
      await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash));
      await t.mutation(internal.quota.ledger.begin, beginArgs(idle.keyHash));
    }
    expect((await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash))).ok).toBe(false);
    expect(await t.mutation(internal.quota.ledger.deleteExpiredHolds, {})).toBe(0);

    vi.setSystemTime(start + HOLD_TTL_MS);
    // Expired holds no longer count even before the sweep runs; the next write drops them.
    expect((await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash))).ok).toBe(true);
    expect((await balanceOf(t, c.userId))?.holds).toHaveLength(1);
    // The idle account's balance is only cleared by the sweep, found through its index.
    expect((await balanceOf(t, idle.userId))?.holds).toHaveLength(limit);
    expect(await t.mutation(internal.quota.ledger.deleteExpiredHolds, {})).toBe(limit);
    const swept = await balanceOf(t, idle.userId);
    expect(swept?.holds).toEqual([]);
    expect(swept?.holdsExpireAt).toBeUndefined();
    expect(await holdsOf(t, c.userId)).toHaveLength(1);
    expect(await t.mutation(internal.quota.ledger.deleteExpiredHolds, {})).toBe(0);
  });

  it("refuse a request larger than the plan's tokens per minute without retry", async () => {
    const t = newTest();
    const c = await customer(t);
    const r = await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash, { promptTokens: PLANS.trial.limits.tokensPerMinute, requestedMaxOutput: 1 }));
    expect(r).toMatchObject({
      ok: false,
      refusal: { reason: "request_too_large", plan: "trial", holdTokens: PLANS.trial.limits.tokensPerMinute + 1 },
    });
    expect(await holdsOf(t, c.userId)).toEqual([]);
  });

  it("apply the plan's tokens per minute to hold sizes", async () => {
    const t = newTest();
    const c = await customer(t, "basic");
    const tpm = PLANS.basic.limits.tokensPerMinute;
    const big = { promptTokens: tpm / 2 - 1000, requestedMaxOutput: 1000 };
    expect((await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash, big))).ok).toBe(true);
    expect((await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash, big))).ok).toBe(true);
    const third = await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash, big));
    expect(third).toMatchObject({ ok: false, refusal: { reason: "rate_limited", limit: "tokens", plan: "basic" } });
    if (third.ok || third.refusal.reason !== "rate_limited") throw new Error("admitted");
    expect(third.refusal.retryAfterMs).toBeGreaterThan(0);
    expect(third.rate?.remainingTokens).toBeLessThan(tpm / 2);
    expect(await holdsOf(t, c.userId)).toHaveLength(2);
  });

  it("refuse unknown models, other endpoints' models and models outside the plan, naming the model", async () => {
    const t = newTest();
    const c = await customer(t);
    const refusal = async (model: string) => {
      const r = await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash, { model }));
      return r.ok ? null : r.refusal;
    };
    expect(await refusal("gpt-9")).toEqual({ reason: "model_not_found", model: "gpt-9" });
    expect(await refusal("tts-1")).toEqual({ reason: "model_not_supported", model: "tts-1" });
    expect(await refusal("gpt-4o")).toEqual({ reason: "model_not_in_plan", model: "gpt-4o", plan: "trial" });
    expect(await holdsOf(t, c.userId)).toEqual([]);
  });

  it("refuse canceled and suspended accounts and unknown keys", async () => {
    const t = newTest();
    const c = await customer(t);
    expect(await t.mutation(internal.quota.ledger.begin, beginArgs("f".repeat(64)))).toEqual({ ok: false, refusal: { reason: "unknown_key" } });
    for (const state of ["suspended", "canceled", "pending"] as const) {
      await t.run(async (ctx) => ctx.db.patch("users", c.userId, { state }));
      expect(await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash))).toEqual({ ok: false, refusal: { reason: "account_inactive", state } });
    }
    await t.run(async (ctx) => ctx.db.patch("users", c.userId, { state: "past_due" }));
    expect((await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash))).ok).toBe(true);
  });
});

describe("settle", () => {
  it("records one event at the price book, deletes the hold, and is idempotent", async () => {
    const t = newTest();
    const c = await customer(t);
    const { args } = await admitted(t, c.keyHash);
    const settleArgs = {
      requestId: args.requestId, userId: c.userId, apiKeyId: c.keyId, kind: "chat" as const, provider: "openai",
      model: "gpt-4o-mini", tokensIn: 90, cachedTokensIn: 10, tokensOut: 40, characters: 0,
      usageSource: "provider" as const, status: "ok" as const, httpStatus: 200, latencyMs: 12,
    };
    const first = await t.mutation(internal.quota.ledger.settle, settleArgs);
    const again = await t.mutation(internal.quota.ledger.settle, settleArgs);
    expect(again).toEqual(first);
    expect(first.costMicros).toBe(tokenCostMicros("gpt-4o-mini", { tokensIn: 90, cachedTokensIn: 10, tokensOut: 40 }));
    const events = await t.run(async (ctx) => ctx.db.query("usageEvents").collect());
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ priceVersion: PRICE_VERSION, tokensIn: 90, tokensOut: 40, requestId: args.requestId });
    expect(await holdsOf(t, c.userId)).toEqual([]);
  });

  it("finds the hold on the balance begin named, and a retry of a settle that committed records nothing more", async () => {
    const t = newTest();
    const c = await customer(t);
    const { args, grant } = await admitted(t, c.keyHash);
    expect(grant.heldOn).toEqual({ balanceId: (await balanceOf(t, c.userId))!._id, month: monthOf(Date.now()) });
    const settle = { ...settleArgsFor(c, args.requestId), heldOn: grant.heldOn };
    const first = await t.mutation(internal.quota.ledger.settle, settle);
    // The hold is gone, so the retry searches the events by request id and finds the first.
    expect(await t.mutation(internal.quota.ledger.settle, settle)).toEqual(first);
    expect(await t.run(async (ctx) => ctx.db.query("usageEvents").collect())).toHaveLength(1);
    expect(await balanceOf(t, c.userId)).toMatchObject({ tokensIn: 90, tokensOut: 40, requests: 1, holds: [] });
  });

  it("takes only a hold on the current month's balance as proof: a request settled after the month's end bills once", async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 10, 30, 23, 59, 59), toFake: ["Date"] });
    const t = newTest();
    const c = await customer(t);
    const { args, grant } = await admitted(t, c.keyHash);
    expect(grant.heldOn.month).toBe("2026-11");
    // The reply ends in December: its usage goes on December's balance, and the hold left on
    // November's (which no longer counts) is never removed there.
    vi.setSystemTime(Date.UTC(2026, 11, 1, 0, 0, 1));
    const settle = { ...settleArgsFor(c, args.requestId), heldOn: grant.heldOn };
    const first = await t.mutation(internal.quota.ledger.settle, settle);
    expect((await balanceOf(t, c.userId, "2026-11"))!.holds.map((h) => h.requestId)).toEqual([args.requestId]);
    // A retry (its runMutation failed after the commit) must find the event, not that hold.
    expect(await t.mutation(internal.quota.ledger.settle, settle)).toEqual(first);
    expect(await t.run(async (ctx) => ctx.db.query("usageEvents").collect())).toHaveLength(1);
    expect(await balanceOf(t, c.userId, "2026-12")).toMatchObject({ tokensIn: 90, tokensOut: 40, requests: 1, holds: [] });
  });

  it("refuses to record an unpriced model rather than write a zero cost", async () => {
    const t = newTest();
    const c = await customer(t);
    await expect(
      t.mutation(internal.quota.ledger.settle, {
        requestId: "req_x", userId: c.userId, kind: "chat", provider: "openai", model: "gpt-9", tokensIn: 1,
        cachedTokensIn: 0, tokensOut: 1, characters: 0, usageSource: "provider", status: "ok", httpStatus: 200, latencyMs: 1,
      }),
    ).rejects.toThrow(/gpt-9/);
    expect(await t.run(async (ctx) => ctx.db.query("usageEvents").collect())).toEqual([]);
  });
});

function settleArgsFor(c: { userId: Id<"users">; keyId: Id<"apiKeys"> }, requestId: string, over: Partial<{ model: string; tokensIn: number; cachedTokensIn: number; tokensOut: number }> = {}) {
  return {
    requestId, userId: c.userId, apiKeyId: c.keyId, kind: "chat" as const, provider: "openai",
    model: over.model ?? "gpt-4o-mini", tokensIn: over.tokensIn ?? 90, cachedTokensIn: over.cachedTokensIn ?? 0,
    tokensOut: over.tokensOut ?? 40, characters: 0, usageSource: "provider" as const, status: "ok" as const,
    httpStatus: 200, latencyMs: 12,
  };
}

/** One proxied request's two ledger calls, as the proxy makes them: begin, then settle with `usage` where begin held it. */
async function request(t: TestConvex, c: { userId: Id<"users">; keyId: Id<"apiKeys">; keyHash: string }, usage: Parameters<typeof settleArgsFor>[2] = {}) {
  const args = beginArgs(c.keyHash, { model: usage.model });
  const grant = await t.mutation(internal.quota.ledger.begin, args);
  if (!grant.ok) throw new Error(`refused: ${grant.refusal.reason}`);
  return await t.mutation(internal.quota.ledger.settle, { ...settleArgsFor(c, args.requestId, usage), heldOn: grant.heldOn });
}

describe("the balance document", () => {
  it("accounts tokens and money exactly: the balance equals the sum of its events", async () => {
    const t = newTest();
    const c = await customer(t, "pro");
    const usages = [
      { tokensIn: 1234, cachedTokensIn: 200, tokensOut: 99 },
      { model: "gpt-4o", tokensIn: 7, tokensOut: 1 },
      { tokensIn: 0, tokensOut: 0 },
      { model: "gpt-4.1-nano", tokensIn: 31_337, cachedTokensIn: 31_000, tokensOut: 4_096 },
    ];
    let cost = 0;
    for (const u of usages) cost += (await request(t, c, u)).costMicros;
    const expectedCost = usages.reduce((s, u) => s + tokenCostMicros(u.model ?? "gpt-4o-mini", { tokensIn: u.tokensIn, cachedTokensIn: u.cachedTokensIn ?? 0, tokensOut: u.tokensOut }), 0);
    expect(cost).toBe(expectedCost);
    const events = await t.run(async (ctx) => ctx.db.query("usageEvents").collect());
    expect(await balanceOf(t, c.userId)).toMatchObject({
      tokensIn: usages.reduce((s, u) => s + u.tokensIn, 0),
      tokensOut: usages.reduce((s, u) => s + u.tokensOut, 0),
      characters: 0,
      costMicros: events.reduce((s, e) => s + e.costMicros, 0),
      requests: 4,
      holds: [],
    });
    expect(events.reduce((s, e) => s + e.costMicros, 0)).toBe(expectedCost);
    // A retried settle changes nothing.
    const before = await balanceOf(t, c.userId);
    await t.mutation(internal.quota.ledger.settle, settleArgsFor(c, events[0].requestId));
    expect(await balanceOf(t, c.userId)).toEqual(before);
  });

  it("settles a request that crosses midnight at the month's end into the new month, still held until then", async () => {
    const lastSecond = Date.UTC(2026, 10, 30, 23, 59, 59);
    vi.useFakeTimers({ now: lastSecond, toFake: ["Date"] });
    const t = newTest();
    const c = await customer(t);
    await request(t, c, { tokensIn: 1_000, tokensOut: 0 });
    const args = beginArgs(c.keyHash, { promptTokens: 100, requestedMaxOutput: 100 });
    expect((await t.mutation(internal.quota.ledger.begin, args)).ok).toBe(true);

    vi.setSystemTime(Date.UTC(2026, 11, 1, 0, 0, 1));
    // December starts with nothing used, but November's request in flight still holds one of
    // the two concurrent slots, and the buckets carry over.
    const december = await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash));
    expect(december).toMatchObject({
      ok: true,
      rate: { remainingRequests: PLANS.trial.limits.requestsPerMinute - 3 },
    });
    expect(await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash))).toMatchObject({
      ok: false,
      refusal: { reason: "concurrency_limit" },
    });
    await t.mutation(internal.quota.ledger.settle, settleArgsFor(c, args.requestId, { tokensIn: 150, tokensOut: 50 }));
    expect(await balanceOf(t, c.userId, "2026-11")).toMatchObject({ tokensIn: 1_000, requests: 1 });
    expect(await balanceOf(t, c.userId, "2026-12")).toMatchObject({ tokensIn: 150, tokensOut: 50, requests: 1 });
    expect((await holdsOf(t, c.userId)).map((h) => h.requestId)).not.toContain(args.requestId);
    const events = await t.run(async (ctx) => ctx.db.query("usageEvents").collect());
    expect(events.map((e) => monthOf(e.at))).toEqual(["2026-11", "2026-12"]);
  });

  it("applies a plan change at once: cap, concurrency and buckets follow the plan, usage stays", async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 10, 10), toFake: ["Date"] });
    const t = newTest();
    const c = await customer(t);
    await seedUsage(t, c.userId, PLANS.trial.hardCapTokens - 100);
    expect(await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash))).toMatchObject({
      ok: false,
      refusal: { reason: "quota_exhausted", plan: "trial", remainingTokens: 100 },
    });
    await t.run(async (ctx) => ctx.db.patch("users", c.userId, { plan: "basic", state: "active" }));
    const upgraded = await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash));
    expect(upgraded).toMatchObject({
      ok: true,
      rate: {
        limitRequests: PLANS.basic.limits.requestsPerMinute,
        remainingRequests: PLANS.basic.limits.requestsPerMinute - 1,
        limitTokens: PLANS.basic.limits.tokensPerMinute,
      },
    });
    for (let i = 1; i < PLANS.basic.limits.concurrentRequests; i++) {
      expect((await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash))).ok).toBe(true);
    }
    expect(await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash))).toMatchObject({ ok: false, refusal: { reason: "concurrency_limit", plan: "basic" } });
    // Back to the trial: its cap counts this month's usage and the holds in flight.
    await t.run(async (ctx) => ctx.db.patch("users", c.userId, { plan: "trial", state: "trial" }));
    expect(await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash))).toMatchObject({ ok: false, refusal: { reason: "concurrency_limit", plan: "trial" } });
    expect((await balanceOf(t, c.userId))?.tokensIn).toBe(PLANS.trial.hardCapTokens - 100);
  });

  it("limits requests per minute on the balance and refills as time passes", async () => {
    const start = Date.UTC(2026, 10, 10);
    vi.useFakeTimers({ now: start, toFake: ["Date"] });
    const t = newTest();
    const c = await customer(t);
    const rpm = PLANS.trial.limits.requestsPerMinute;
    for (let i = 0; i < rpm; i++) await request(t, c);
    const refused = await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash));
    expect(refused).toMatchObject({ ok: false, refusal: { reason: "rate_limited", limit: "requests" }, rate: { remainingRequests: 0 } });
    if (refused.ok || refused.refusal.reason !== "rate_limited") throw new Error("admitted");
    expect(refused.refusal.retryAfterMs).toBeCloseTo(60_000 / rpm, 3);
    vi.setSystemTime(start + 60_000 / rpm);
    expect((await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash))).ok).toBe(true);
  });
});

describe("documents per request", () => {
  /** N requests as fast as the ledger takes them, `inFlight` of them never settled; then one more, counted. */
  async function lastRequestCounts(n: number, inFlight: number) {
    const t = newTest();
    const c = await customer(t, "pro");
    for (let i = 0; i < n; i++) await request(t, c, { tokensIn: 10 + i, tokensOut: i });
    for (let i = 0; i < inFlight; i++) expect((await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash))).ok).toBe(true);
    const args = beginArgs(c.keyHash);
    const { begin, heldOn } = await t.run(async (ctx) => {
      const counted = countingCtx(ctx);
      const grant = await beginHandler(counted.ctx, args);
      if (!grant.ok) throw new Error("not admitted");
      return { begin: counted.counts, heldOn: grant.heldOn };
    });
    const settle = await t.run(async (ctx) => {
      const counted = countingCtx(ctx);
      await settleHandler(counted.ctx, { ...settleArgsFor(c, args.requestId), heldOn });
      return counted.counts;
    });
    return { begin, settle };
  }

  it("do not depend on how many requests came before or how many are in flight", async () => {
    const few = await lastRequestCounts(2, 0);
    const many = await lastRequestCounts(120, 0);
    const busy = await lastRequestCounts(120, PLANS.pro.limits.concurrentRequests - 1);
    expect(many).toEqual(few);
    expect(busy).toEqual(few);
    // begin: the key (by its hash), the account and the balance (by user and month). settle:
    // the balance by id (its hold proves no event was recorded yet) and the account; no search.
    // One balance write each, and the event.
    expect(few).toEqual({ begin: { read: 3, written: 1, queries: 2 }, settle: { read: 2, written: 2, queries: 0 } });
  });

  it("fetch by id, with no search at all, when begin is told the key and balance the secret resolved to before", async () => {
    const t = newTest();
    const c = await customer(t, "pro");
    const first = await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash));
    if (!first.ok) throw new Error("not admitted");
    const counts = await t.run(async (ctx) => {
      const counted = countingCtx(ctx);
      const again = await beginHandler(counted.ctx, { ...beginArgs(c.keyHash), knownKeyId: first.apiKeyId, knownBalanceId: first.heldOn.balanceId });
      expect(again).toMatchObject({ ok: true, userId: c.userId, apiKeyId: c.keyId, heldOn: first.heldOn });
      return counted.counts;
    });
    expect(counts).toEqual({ read: 3, written: 1, queries: 0 });
    expect(await holdsOf(t, c.userId)).toHaveLength(2);
  });

  it("look up the key and balance when what begin is told belongs to another key, account or month", async () => {
    const t = newTest();
    const a = await customer(t, "pro", "a@example.com");
    const b = await customer(t, "pro", "b@example.com");
    const ofB = await t.mutation(internal.quota.ledger.begin, beginArgs(b.keyHash));
    if (!ofB.ok) throw new Error("not admitted");
    // A's secret with B's key and balance: A is authenticated and held on A's own balance.
    const ofA = await t.mutation(internal.quota.ledger.begin, { ...beginArgs(a.keyHash), knownKeyId: b.keyId, knownBalanceId: ofB.heldOn.balanceId });
    expect(ofA).toMatchObject({ ok: true, userId: a.userId, apiKeyId: a.keyId });
    if (!ofA.ok) throw new Error("not admitted");
    expect(ofA.heldOn.balanceId).not.toBe(ofB.heldOn.balanceId);
    expect((await holdsOf(t, a.userId)).length).toBe(1);
    expect((await holdsOf(t, b.userId)).length).toBe(1);
    // Last month's balance of the same account: this month's is used (and made).
    await t.run(async (ctx) => ctx.db.patch("usageMonthly", ofA.heldOn.balanceId, { month: "2000-01" }));
    const next = await t.mutation(internal.quota.ledger.begin, { ...beginArgs(a.keyHash), knownKeyId: a.keyId, knownBalanceId: ofA.heldOn.balanceId });
    expect(next).toMatchObject({ ok: true, heldOn: { month: monthOf(Date.now()) } });
    if (!next.ok) throw new Error("not admitted");
    expect(next.heldOn.balanceId).not.toBe(ofA.heldOn.balanceId);
  });

  it("without begin's heldOn, settle searches the events by request id and the balance by month", async () => {
    const t = newTest();
    const c = await customer(t, "pro");
    const args = beginArgs(c.keyHash);
    expect((await t.mutation(internal.quota.ledger.begin, args)).ok).toBe(true);
    const settle = await t.run(async (ctx) => {
      const counted = countingCtx(ctx);
      await settleHandler(counted.ctx, settleArgsFor(c, args.requestId));
      return counted.counts;
    });
    expect(settle).toEqual({ read: 2, written: 2, queries: 2 });
    expect(await balanceOf(t, c.userId)).toMatchObject({ tokensIn: 90, requests: 1, holds: [] });
  });

  it("stay within 12 read and 4 written on a month's first request with a stale key", async () => {
    const t = newTest();
    const c = await customer(t, "pro");
    // Last month's balance exists: the first request of this month reads it to carry over.
    await seedUsage(t, c.userId, 5);
    await t.run(async (ctx) => {
      const doc = await ctx.db.query("usageMonthly").unique();
      await ctx.db.patch("usageMonthly", doc!._id, { month: "2000-01" });
    });
    vi.useFakeTimers({ now: Date.UTC(2000, 1, 1), toFake: ["Date"] });
    const args = beginArgs(c.keyHash);
    const { begin, heldOn } = await t.run(async (ctx) => {
      const counted = countingCtx(ctx);
      const grant = await beginHandler(counted.ctx, args);
      if (!grant.ok) throw new Error("not admitted");
      return { begin: counted.counts, heldOn: grant.heldOn };
    });
    const settle = await t.run(async (ctx) => {
      const counted = countingCtx(ctx);
      await settleHandler(counted.ctx, { ...settleArgsFor(c, args.requestId), heldOn });
      return counted.counts;
    });
    // begin: key, account, (no balance yet), last month's balance; key's last use + balance.
    expect(begin).toEqual({ read: 3, written: 2, queries: 3 });
    expect(settle).toEqual({ read: 2, written: 2, queries: 0 });
    expect(begin.read + settle.read).toBeLessThanOrEqual(12);
    expect(begin.written + settle.written).toBeLessThanOrEqual(4);
  });
});

/**
 * An instance connected to the account over OAuth with `scopes`, as the token endpoint leaves
 * it: a grant and an access + refresh pair stored as hashes. The ledger receives the hash, so
 * the fixture's hashes stand for `secretHash(token)`.
 */
async function connected(t: TestConvex, userId: Id<"users">, scopes: Scope[] = ["ai", "usage"], instanceId = "dex-ledger01") {
  const hashes = { accessHash: `at-hash-${++seq}`, refreshHash: `rt-hash-${seq}` };
  const grantId = await t.run(async (ctx) => {
    const id = await createGrant(ctx, userId, instanceId, scopes, "authorization_code", Date.now());
    await issuePair(ctx, { _id: id, userId }, scopes, hashes, Date.now());
    return id;
  });
  return { grantId, instanceId, ...hashes };
}

function tokenArgs(accessHash: string, over: Parameters<typeof beginArgs>[1] = {}) {
  return { ...beginArgs(accessHash, over), secretKind: "access_token" as const };
}

describe("OAuth access tokens", () => {
  it("with the ai scope hold on the grant's account and name its instance; settle records it", async () => {
    const t = newTest();
    const c = await customer(t, "basic");
    const dex = await connected(t, c.userId);
    const args = tokenArgs(dex.accessHash, { promptTokens: 120, requestedMaxOutput: 30 });
    const grant = await t.mutation(internal.quota.ledger.begin, args);
    expect(grant).toMatchObject({ ok: true, userId: c.userId, grantId: dex.grantId, instanceId: dex.instanceId, holdTokens: 150 });
    expect(grant).not.toHaveProperty("apiKeyId");
    expect(await holdsOf(t, c.userId)).toMatchObject([{ requestId: args.requestId, tokens: 150 }]);
    // The grant's last use is recorded, as for the Dex API (the Instances page shows it).
    expect(await t.run(async (ctx) => (await ctx.db.get("oauthGrants", dex.grantId))?.lastUsedAt)).toBeTypeOf("number");

    const { apiKeyId: _key, ...settle } = settleArgsFor(c, args.requestId);
    await t.mutation(internal.quota.ledger.settle, { ...settle, instanceId: dex.instanceId });
    const events = await t.run(async (ctx) => ctx.db.query("usageEvents").collect());
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ userId: c.userId, instanceId: dex.instanceId, tokensIn: 90, tokensOut: 40 });
    expect(events[0].apiKeyId).toBeUndefined();
    expect(await balanceOf(t, c.userId)).toMatchObject({ requests: 1, tokensIn: 90, tokensOut: 40, holds: [] });
  });

  it("share the account's quota, concurrency and limits with its keys", async () => {
    const t = newTest();
    const c = await customer(t, "trial");
    const dex = await connected(t, c.userId);
    const limit = PLANS.trial.limits.concurrentRequests;
    for (let i = 0; i < limit - 1; i++) expect((await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash))).ok).toBe(true);
    expect((await t.mutation(internal.quota.ledger.begin, tokenArgs(dex.accessHash))).ok).toBe(true);
    expect(await t.mutation(internal.quota.ledger.begin, tokenArgs(dex.accessHash))).toMatchObject({
      ok: false,
      refusal: { reason: "concurrency_limit", plan: "trial" },
    });
  });

  it("are refused without the ai scope, revoked, expired, unknown, or as a refresh token, before any hold", async () => {
    const t = newTest();
    const c = await customer(t, "basic");
    const mailOnly = await connected(t, c.userId, ["identity", "email"], "dex-mailonly");
    expect(await t.mutation(internal.quota.ledger.begin, tokenArgs(mailOnly.accessHash))).toEqual({
      ok: false,
      refusal: { reason: "insufficient_scope", scope: "ai" },
    });
    expect(await t.mutation(internal.quota.ledger.begin, tokenArgs(mailOnly.refreshHash))).toEqual({
      ok: false,
      refusal: { reason: "token_invalid", why: "not_access_token" },
    });
    expect(await t.mutation(internal.quota.ledger.begin, tokenArgs("no-such-hash"))).toEqual({
      ok: false,
      refusal: { reason: "token_invalid", why: "unknown_token" },
    });
    // A key's hash sent as a token (or the reverse) finds nothing: each kind has its own table.
    expect(await t.mutation(internal.quota.ledger.begin, tokenArgs(c.keyHash))).toMatchObject({ ok: false, refusal: { reason: "token_invalid" } });

    const dex = await connected(t, c.userId);
    expect((await t.mutation(internal.quota.ledger.begin, tokenArgs(dex.accessHash))).ok).toBe(true);
    vi.useFakeTimers({ now: Date.now() + ACCESS_TOKEN_TTL_MS, toFake: ["Date"] });
    expect(await t.mutation(internal.quota.ledger.begin, tokenArgs(dex.accessHash))).toEqual({
      ok: false,
      refusal: { reason: "token_invalid", why: "expired" },
    });
    vi.useRealTimers();
    await t.run(async (ctx) => {
      const grant = await ctx.db.get("oauthGrants", dex.grantId);
      await revokeGrant(ctx, grant!, "user", Date.now());
    });
    expect(await t.mutation(internal.quota.ledger.begin, tokenArgs(dex.accessHash))).toEqual({
      ok: false,
      refusal: { reason: "token_invalid", why: "revoked" },
    });
    // One hold: the admitted request's; the refused ones placed none.
    expect(await holdsOf(t, c.userId)).toHaveLength(1);

    await t.run(async (ctx) => ctx.db.patch("users", c.userId, { state: "suspended" }));
    const live = await connected(t, c.userId, ["ai"], "dex-suspended");
    expect(await t.mutation(internal.quota.ledger.begin, tokenArgs(live.accessHash))).toEqual({
      ok: false,
      refusal: { reason: "account_inactive", state: "suspended" },
    });
  });

  it("cost 4 documents read and at most 2 written in begin: the token, its grant, the account, the balance", async () => {
    const t = newTest();
    const c = await customer(t, "pro");
    const dex = await connected(t, c.userId);
    for (let i = 0; i < 3; i++) await request(t, c, { tokensIn: 10 + i, tokensOut: i });
    const counted = async (args: ReturnType<typeof tokenArgs>) => {
      const { begin, heldOn } = await t.run(async (ctx) => {
        const wrapped = countingCtx(ctx);
        const grant = await beginHandler(wrapped.ctx, args);
        if (!grant.ok) throw new Error("not admitted");
        return { begin: wrapped.counts, heldOn: grant.heldOn };
      });
      const settle = await t.run(async (ctx) => {
        const wrapped = countingCtx(ctx);
        const { apiKeyId: _key, ...rest } = settleArgsFor(c, args.requestId);
        await settleHandler(wrapped.ctx, { ...rest, instanceId: dex.instanceId, heldOn });
        return wrapped.counts;
      });
      return { begin, settle };
    };
    // The grant's first use is recorded; the next request within the minute writes only the balance.
    const first = await counted(tokenArgs(dex.accessHash));
    const next = await counted(tokenArgs(dex.accessHash));
    expect(first).toEqual({ begin: { read: 4, written: 2, queries: 2 }, settle: { read: 2, written: 2, queries: 0 } });
    expect(next).toEqual({ begin: { read: 4, written: 1, queries: 2 }, settle: { read: 2, written: 2, queries: 0 } });
    expect(first.begin.read + first.settle.read).toBeLessThanOrEqual(12);
    expect(first.begin.written + first.settle.written).toBeLessThanOrEqual(4);
  });
});
