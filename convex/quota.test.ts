// The hold -> settle ledger through its mutations. convex-test runs mutations one at a time,
// so parallel calls here show the serial order real Convex reaches through OCC retries
// (see the comment at the top of convex/quota.ts and docs/proxy.md).
import { afterEach, describe, expect, it, vi } from "vitest";
import { internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { hashSecret } from "./model/apiKeyTokens";
import { PLANS, type PlanId } from "./model/plans";
import { PRICE_VERSION, tokenCostMicros } from "./model/pricing";
import { HOLD_TTL_MS } from "./model/quota";
import { newTest, type TestConvex } from "./test.setup";

afterEach(() => vi.useRealTimers());

async function customer(t: TestConvex, plan: PlanId = "trial", email = `${plan}@example.com`) {
  const userId = await t.run(async (ctx) =>
    ctx.db.insert("users", {
      tokenIdentifier: `test|${email}`,
      email,
      role: "user",
      state: plan === "trial" ? "trial" : "active",
      plan,
      lastSeenAt: Date.now(),
    }),
  );
  const { keyId, secret } = await t.mutation(internal.apiKeys.createForEmail, { email });
  return { userId, keyId, keyHash: await hashSecret(secret) };
}

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

async function seedUsage(t: TestConvex, userId: Id<"users">, tokens: number) {
  await t.run(async (ctx) =>
    ctx.db.insert("usageEvents", {
      userId, requestId: `seed_${++seq}`, kind: "chat", provider: "openai", model: "gpt-4o-mini",
      tokensIn: tokens, tokensOut: 0, characters: 0, costMicros: 1, priceVersion: PRICE_VERSION,
      usageSource: "provider", latencyMs: 1, status: "ok", httpStatus: 200, at: Date.now(),
    }),
  );
}

const holdsOf = (t: TestConvex, userId: Id<"users">) =>
  t.run(async (ctx) => ctx.db.query("quotaHolds").withIndex("by_userId_and_expiresAt", (q) => q.eq("userId", userId)).collect());

describe("holds", () => {
  it("are sized prompt bound + max output, or the plan's default max", async () => {
    const t = newTest();
    const c = await customer(t);
    const a = await t.mutation(internal.quota.begin, beginArgs(c.keyHash, { promptTokens: 120, requestedMaxOutput: 30 }));
    expect(a).toMatchObject({ ok: true, holdTokens: 150, maxOutputTokens: 30 });
    const b = await t.mutation(internal.quota.begin, beginArgs(c.keyHash, { promptTokens: 120, requestedMaxOutput: null }));
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
      Array.from({ length: 20 }, () => t.mutation(internal.quota.begin, beginArgs(c.keyHash, { promptTokens: 100, requestedMaxOutput: 100 }))),
    );
    const admitted = results.filter((r) => r.ok);
    expect(admitted).toHaveLength(7);
    expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.code === "insufficient_quota")).toBe(true);
    const held = (await holdsOf(t, c.userId)).reduce((s, h) => s + h.tokens, 0);
    expect(plan.hardCapTokens - 7 * hold - 150 + held).toBeLessThanOrEqual(plan.hardCapTokens);
  });

  it("limit concurrency to the plan's count of live holds", async () => {
    const t = newTest();
    const c = await customer(t);
    const limit = PLANS.trial.limits.concurrentRequests;
    for (let i = 0; i < limit; i++) expect((await t.mutation(internal.quota.begin, beginArgs(c.keyHash))).ok).toBe(true);
    expect(await t.mutation(internal.quota.begin, beginArgs(c.keyHash))).toMatchObject({
      ok: false,
      status: 429,
      code: "concurrency_limit_exceeded",
      retryAfterSeconds: 1,
    });
  });

  it("expire: a crashed request stops holding quota after its TTL and the cron deletes it", async () => {
    const start = Date.UTC(2026, 10, 10);
    vi.useFakeTimers({ now: start, toFake: ["Date"] });
    const t = newTest();
    const c = await customer(t);
    const limit = PLANS.trial.limits.concurrentRequests;
    for (let i = 0; i < limit; i++) await t.mutation(internal.quota.begin, beginArgs(c.keyHash));
    expect((await t.mutation(internal.quota.begin, beginArgs(c.keyHash))).ok).toBe(false);
    expect(await t.mutation(internal.quota.expireHolds, {})).toBe(0);

    vi.setSystemTime(start + HOLD_TTL_MS);
    // Expired holds no longer count even before the cron runs.
    expect((await t.mutation(internal.quota.begin, beginArgs(c.keyHash))).ok).toBe(true);
    expect(await t.mutation(internal.quota.expireHolds, {})).toBe(limit);
    expect(await holdsOf(t, c.userId)).toHaveLength(1);
  });

  it("refuse a request larger than the plan's tokens per minute without retry", async () => {
    const t = newTest();
    const c = await customer(t);
    const r = await t.mutation(internal.quota.begin, beginArgs(c.keyHash, { promptTokens: PLANS.trial.limits.tokensPerMinute, requestedMaxOutput: 1 }));
    expect(r).toMatchObject({ ok: false, status: 429, code: "request_too_large", shouldRetry: false });
    expect(await holdsOf(t, c.userId)).toEqual([]);
  });

  it("apply the plan's tokens per minute to hold sizes", async () => {
    const t = newTest();
    const c = await customer(t, "basic");
    const tpm = PLANS.basic.limits.tokensPerMinute;
    const big = { promptTokens: tpm / 2 - 1000, requestedMaxOutput: 1000 };
    expect((await t.mutation(internal.quota.begin, beginArgs(c.keyHash, big))).ok).toBe(true);
    expect((await t.mutation(internal.quota.begin, beginArgs(c.keyHash, big))).ok).toBe(true);
    const third = await t.mutation(internal.quota.begin, beginArgs(c.keyHash, big));
    expect(third).toMatchObject({ ok: false, status: 429, type: "tokens", code: "rate_limit_exceeded" });
    if (third.ok) throw new Error("admitted");
    expect(third.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(third.rate?.remainingTokens).toBeLessThan(tpm / 2);
    expect(await holdsOf(t, c.userId)).toHaveLength(2);
  });

  it("refuse unknown models (404), other endpoints' models (400), models outside the plan (403)", async () => {
    const t = newTest();
    const c = await customer(t);
    expect(await t.mutation(internal.quota.begin, beginArgs(c.keyHash, { model: "gpt-9" }))).toMatchObject({ status: 404, code: "model_not_found" });
    expect(await t.mutation(internal.quota.begin, beginArgs(c.keyHash, { model: "tts-1" }))).toMatchObject({ status: 400 });
    expect(await t.mutation(internal.quota.begin, beginArgs(c.keyHash, { model: "gpt-4o" }))).toMatchObject({ status: 403, code: "model_not_in_plan" });
    expect(await holdsOf(t, c.userId)).toEqual([]);
  });

  it("refuse canceled and suspended accounts (403) and unknown keys (401)", async () => {
    const t = newTest();
    const c = await customer(t);
    expect(await t.mutation(internal.quota.begin, beginArgs("f".repeat(64)))).toMatchObject({ status: 401 });
    for (const state of ["suspended", "canceled", "pending"] as const) {
      await t.run(async (ctx) => ctx.db.patch(c.userId, { state }));
      expect(await t.mutation(internal.quota.begin, beginArgs(c.keyHash))).toMatchObject({ status: 403, code: "account_inactive" });
    }
    await t.run(async (ctx) => ctx.db.patch(c.userId, { state: "past_due" }));
    expect((await t.mutation(internal.quota.begin, beginArgs(c.keyHash))).ok).toBe(true);
  });
});

describe("settle", () => {
  it("records one event at the price book, deletes the hold, and is idempotent", async () => {
    const t = newTest();
    const c = await customer(t);
    const args = beginArgs(c.keyHash);
    const grant = await t.mutation(internal.quota.begin, args);
    if (!grant.ok) throw new Error("not admitted");
    const settleArgs = {
      requestId: args.requestId, userId: c.userId, apiKeyId: c.keyId, kind: "chat" as const, provider: "openai",
      model: "gpt-4o-mini", tokensIn: 90, cachedTokensIn: 10, tokensOut: 40, characters: 0,
      usageSource: "provider" as const, status: "ok" as const, httpStatus: 200, latencyMs: 12,
    };
    const first = await t.mutation(internal.quota.settle, settleArgs);
    const again = await t.mutation(internal.quota.settle, settleArgs);
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
      t.mutation(internal.quota.settle, {
        requestId: "req_x", userId: c.userId, kind: "chat", provider: "openai", model: "gpt-9", tokensIn: 1,
        cachedTokensIn: 0, tokensOut: 1, characters: 0, usageSource: "provider", status: "ok", httpStatus: 200, latencyMs: 1,
      }),
    ).rejects.toThrow(/gpt-9/);
    expect(await t.run(async (ctx) => ctx.db.query("usageEvents").collect())).toEqual([]);
  });
});
