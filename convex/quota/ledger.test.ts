// The hold -> settle ledger through its mutations. convex-test runs mutations one at a time,
// so parallel calls here show the serial order real Convex reaches through OCC retries
// (see docs/proxy.md, "Concurrency").
import { afterEach, describe, expect, it, vi } from "vitest";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { PLANS } from "../model/plans";
import { PRICE_VERSION, tokenCostMicros } from "../model/pricing";
import { HOLD_TTL_MS } from "../model/quota/holds";
import { customer, holdsOf, newTest, type TestConvex, usageEvent } from "../test.setup";

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

  it("expire: a crashed request stops holding quota after its TTL and the cron deletes it", async () => {
    const start = Date.UTC(2026, 10, 10);
    vi.useFakeTimers({ now: start, toFake: ["Date"] });
    const t = newTest();
    const c = await customer(t);
    const limit = PLANS.trial.limits.concurrentRequests;
    for (let i = 0; i < limit; i++) await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash));
    expect((await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash))).ok).toBe(false);
    expect(await t.mutation(internal.quota.ledger.deleteExpiredHolds, {})).toBe(0);

    vi.setSystemTime(start + HOLD_TTL_MS);
    // Expired holds no longer count even before the cron runs.
    expect((await t.mutation(internal.quota.ledger.begin, beginArgs(c.keyHash))).ok).toBe(true);
    expect(await t.mutation(internal.quota.ledger.deleteExpiredHolds, {})).toBe(limit);
    expect(await holdsOf(t, c.userId)).toHaveLength(1);
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
    const args = beginArgs(c.keyHash);
    const grant = await t.mutation(internal.quota.ledger.begin, args);
    if (!grant.ok) throw new Error("not admitted");
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
