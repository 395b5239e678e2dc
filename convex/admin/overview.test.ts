// The overview: a refresh walks usage, invoices and accounts in bounded batches and the page
// reads the sums; its figures equal the rows they came from.
import { afterEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { monthOf, shiftMonth } from "../model/calendar";
import { errorCodeOf, newTest, signIn, type TestConvex } from "../test.setup";
import { BATCH } from "./overview";

afterEach(() => {
  vi.useRealTimers();
});

const NOW = Date.UTC(2026, 10, 20, 12);
const THIS = monthOf(NOW);
const LAST = shiftMonth(THIS, -1);

async function usage(t: TestConvex, userId: Id<"users">, month: string, tokensIn: number, tokensOut: number, costMicros: number, requests: number) {
  await t.run((ctx) =>
    ctx.db.insert("usageMonthly", { userId, month, tokensIn, tokensOut, characters: 0, costMicros, requests, alertedPercent: 0, holds: [] }),
  );
}

async function invoice(t: TestConvex, userId: Id<"users">, status: "paid" | "open" | "partially_refunded" | "refunded", amountMicros: number, createdAt: number) {
  return await t.run((ctx) =>
    ctx.db.insert("invoices", {
      userId,
      provider: "stripe",
      providerInvoiceId: `in_${Math.random().toString(36).slice(2)}`,
      amountMicros,
      currency: "usd",
      status,
      createdAt,
      providerUpdatedAt: createdAt,
    }),
  );
}

async function refresh(t: TestConvex) {
  await t.mutation(internal.admin.overview.refreshScheduled, {});
  await t.finishAllScheduledFunctions(vi.runAllTimers);
}

describe("the overview", () => {
  test("usage, revenue net of refunds and accounts by state and plan, over more rows than one batch", async () => {
    vi.useFakeTimers({ now: NOW });
    const t = newTest();
    const { as: agent } = await signIn(t, "agent@poindexter.dev", "support");
    // More balance rows than one step reads, to cross a page boundary.
    const many = BATCH + 30;
    const ids = await t.run(async (ctx) => {
      const out: Id<"users">[] = [];
      for (let i = 0; i < many; i++) {
        out.push(await ctx.db.insert("users", { tokenIdentifier: `x|${i}`, email: `u${i}@example.com`, role: "user", state: i % 3 === 0 ? "active" : "trial", plan: i % 3 === 0 ? "basic" : "trial", lastSeenAt: i }));
      }
      return out;
    });
    for (const id of ids) await usage(t, id, THIS, 100, 50, 10, 2);
    await usage(t, ids[0], LAST, 1_000, 500, 700, 9);
    await usage(t, ids[1], LAST, 0, 0, 0, 0);
    await invoice(t, ids[0], "paid", 50_000_000, NOW - 1000);
    const refunded = await invoice(t, ids[3], "partially_refunded", 250_000_000, NOW - 2000);
    await t.run((ctx) =>
      ctx.db.insert("invoiceRefunds", {
        invoiceId: refunded, userId: ids[3], provider: "stripe", providerInvoiceId: "in_x", amountMicros: 20_000_000, currency: "usd",
        idempotencyKey: "k-overview-1", reason: "r", actorLabel: "agent", status: "succeeded", requestedAt: NOW,
      }),
    );
    await invoice(t, ids[6], "open", 50_000_000, NOW - 3000);
    await invoice(t, ids[9], "refunded", 50_000_000, Date.UTC(2026, 9, 5)); // last month, refunded in the provider's dashboard

    expect((await agent.query(api.admin.overview.get, {})).computedAt).toBeNull();
    await refresh(t);
    const view = await agent.query(api.admin.overview.get, {});
    expect(view.months).toHaveLength(12);
    const byMonth = Object.fromEntries(view.months.map((m) => [m.month, m]));
    expect(byMonth[THIS]).toEqual({
      month: THIS,
      tokensIn: 100 * many,
      tokensOut: 50 * many,
      characters: 0,
      costMicros: 10 * many,
      requests: 2 * many,
      activeAccounts: many,
      revenueMicros: 300_000_000,
      refundedMicros: 20_000_000,
      paidInvoices: 2,
    });
    expect(byMonth[LAST]).toMatchObject({ tokensIn: 1_000, requests: 9, activeAccounts: 1, revenueMicros: 50_000_000, refundedMicros: 50_000_000, paidInvoices: 1 });
    expect(view.months[11].month).toBe(THIS);
    const active = Math.ceil(many / 3);
    expect(view.accounts).toEqual({
      total: many + 1,
      byState: { active, trial: many - active + 1 },
      byPlan: { basic: active, trial: many - active + 1 },
    });
    expect(view.computedAt).toBe(Date.now());
    expect(view.refreshing).toBeNull();
  });

  test("one refresh at a time; a refresh presumed dead after 30 minutes is replaced", async () => {
    vi.useFakeTimers({ now: NOW });
    const t = newTest();
    const { as: agent } = await signIn(t, "agent@poindexter.dev", "support");
    expect(await agent.mutation(api.admin.overview.refresh, {})).toEqual({ started: true });
    expect(await agent.mutation(api.admin.overview.refresh, {})).toEqual({ started: false });
    expect((await agent.query(api.admin.overview.get, {})).refreshing).toMatchObject({ phase: "usage" });
    vi.setSystemTime(NOW + 31 * 60_000);
    expect(await agent.mutation(api.admin.overview.refresh, {})).toEqual({ started: true });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const view = await agent.query(api.admin.overview.get, {});
    expect(view.refreshing).toBeNull();
    expect(view.accounts?.total).toBe(1);
  });

  test("customers cannot read or refresh it", async () => {
    const t = newTest();
    const { as } = await signIn(t, "c@example.com");
    expect(await errorCodeOf(as.query(api.admin.overview.get, {}))).toBe("FORBIDDEN");
    expect(await errorCodeOf(as.mutation(api.admin.overview.refresh, {}))).toBe("FORBIDDEN");
  });
});
