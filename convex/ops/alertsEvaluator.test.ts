// The evaluator's cost: one run folds a full page of events with a bounded number of documents
// read and written, whatever the history, and a backlog continues in later runs.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { PRICE_VERSION } from "../model/pricing";
import { countingCtx } from "../quota/countingDb.setup";
import { customer, newTest } from "../test.setup";
import { EVALUATOR_BATCH, evaluateHandler } from "./alertsEvaluator";

const NOW = Date.UTC(2026, 10, 29, 12, 30, 0);

beforeEach(() => vi.useFakeTimers({ now: NOW, toFake: ["Date"] }));
afterEach(() => vi.useRealTimers());

describe("the evaluator's cost", () => {
  test("a full page (500 events, 50 keys, 2 addresses each) reads and writes a bounded number of documents", async () => {
    const t = newTest();
    const keys: { userId: Id<"users">; keyId: Id<"apiKeys"> }[] = [];
    for (let k = 0; k < 50; k++) keys.push(await customer(t, "pro", `k${k}@example.com`));
    // Earlier history that must not be read again: 2,000 events an hour ago, already folded.
    await t.run(async (ctx) => {
      for (let i = 0; i < 2_500; i++) {
        const { userId, keyId } = keys[i % 50];
        await ctx.db.insert("usageEvents", {
          userId, apiKeyId: keyId, requestId: `req_cost_${i}`, kind: "chat", provider: i % 5 === 0 ? "anthropic" : "openai",
          model: "gpt-4o-mini", tokensIn: 100, tokensOut: 50, characters: 0, costMicros: 45, priceVersion: PRICE_VERSION,
          usageSource: "provider", latencyMs: 5, status: "ok", httpStatus: 200, ipHash: `ip-${i % 100}`,
          ttfbMs: 100, at: i < 2_000 ? NOW - 40 * 60_000 + i : NOW - 20_000 - (i % 500),
        });
      }
    });
    // The first run starts an hour back: the older events take four pages and a bit.
    for (let i = 0; i < 4; i++) await t.mutation(internal.ops.alertsEvaluator.evaluate, {});

    const { result, counts } = await t.run(async (ctx) => {
      const counted = countingCtx(ctx);
      return { result: await evaluateHandler(counted.ctx), counts: counted.counts };
    });
    // A page stops short of its last millisecond, which the next page takes whole.
    expect(result.events).toBeGreaterThan(EVALUATOR_BATCH - 10);
    // 500 events + 2 minute rows + 50 key-hours + 100 sightings + 50 keys' recent sightings (2 each)
    // + the window's minute rows, active alerts, signup window and prune probes.
    // (706 when measured.)
    expect(counts.read).toBeLessThanOrEqual(800);
    // A few minute rows + 50 key-hours + 100 sightings + the cursor (158 when measured).
    expect(counts.written).toBeLessThanOrEqual(170);
  });
});
