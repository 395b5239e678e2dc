// Dex API operations as usage: each recorded event counts once under its kind, on the usage
// page's card and in GET /v1/usage, apart from the AI models and without touching the meter.
import { describe, expect, it, vi } from "vitest";
import { api, internal } from "../_generated/api";
import { monthOf } from "../model/calendar";
import { customer, newTest, usageEvent } from "../test.setup";

vi.setConfig({ testTimeout: 30_000 });

describe("Dex API usage counts", () => {
  it("counts recorded operations by kind for the account's month; AI usage and other accounts stay apart", async () => {
    const t = newTest();
    const { userId, as, secret } = await customer(t, "basic", "counts@example.com");
    const other = await customer(t, "basic", "other@example.com");
    const record = (uid: typeof userId, kind: "email_sent" | "signal_sent" | "calendar_write", n: number) =>
      t.mutation(internal.dexApi.record.operation, { userId: uid, kind, provider: kind === "signal_sent" ? "signal" : "google", requestId: `req_${kind}_${n}`, latencyMs: 10, httpStatus: 200 });
    await record(userId, "email_sent", 1);
    await record(userId, "email_sent", 2);
    await record(userId, "calendar_write", 1);
    await record(other.userId, "signal_sent", 1);
    await usageEvent(t, userId);

    const month = monthOf(Date.now());
    expect(await as.query(api.dexApi.usageCounts.mine, { month })).toEqual({ email_sent: 2, email_deleted: 0, signal_sent: 0, calendar_write: 1 });
    expect(await other.as.query(api.dexApi.usageCounts.mine, { month })).toEqual({ email_sent: 0, email_deleted: 0, signal_sent: 1, calendar_write: 0 });

    const res = await t.fetch("/v1/usage", { headers: { authorization: `Bearer ${secret}` } });
    const report = (await res.json()) as { operations: Record<string, number>; models: { model: string }[]; requests: number };
    expect(report.operations).toEqual({ email_sent: 2, email_deleted: 0, signal_sent: 0, calendar_write: 1 });
    expect(report.models.map((m) => m.model)).toEqual(["gpt-4o-mini"]);
    // The meter counts AI requests only: operations are not billed.
    expect(report.requests).toBe(1);
  });
});
