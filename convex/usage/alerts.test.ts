import { describe, expect, it } from "vitest";
import { api } from "../_generated/api";
import { newTest, signIn } from "../test.setup";

describe("in-app alerts", () => {
  it("never hide an undismissed alert behind many newer dismissed ones", async () => {
    const t = newTest();
    const { userId, as } = await signIn(t, "alerts-order@example.com");
    const at = Date.UTC(2026, 10, 1);
    await t.run(async (ctx) => {
      await ctx.db.insert("alerts", { userId, kind: "quota_80", severity: "warning", message: "still open", at });
      for (let i = 1; i <= 250; i++) {
        await ctx.db.insert("alerts", { userId, kind: "quota_80", severity: "warning", message: `old ${i}`, at: at + i, dismissedAt: at + i });
      }
    });
    expect((await as.query(api.usage.alerts.mine, {})).map((a) => a.message)).toEqual(["still open"]);
  });

  it("list the newest first, and a dismissed alert leaves the list", async () => {
    const t = newTest();
    const { userId, as } = await signIn(t, "alerts-dismiss@example.com");
    const [first, second] = await t.run(async (ctx) => [
      await ctx.db.insert("alerts", { userId, kind: "quota_80", severity: "warning", message: "80%", at: 1 }),
      await ctx.db.insert("alerts", { userId, kind: "quota_100", severity: "critical", message: "100%", at: 2 }),
    ]);
    expect((await as.query(api.usage.alerts.mine, {})).map((a) => a._id)).toEqual([second, first]);
    await as.mutation(api.usage.alerts.dismiss, { alertId: second });
    await as.mutation(api.usage.alerts.dismiss, { alertId: second });
    expect((await as.query(api.usage.alerts.mine, {})).map((a) => a._id)).toEqual([first]);
  });

  it("refuse to dismiss another customer's alert", async () => {
    const t = newTest();
    const owner = await signIn(t, "owner@example.com");
    const other = await signIn(t, "other@example.com");
    const alertId = await t.run((ctx) =>
      ctx.db.insert("alerts", { userId: owner.userId, kind: "quota_80", severity: "warning", message: "x", at: 1 }),
    );
    await expect(other.as.mutation(api.usage.alerts.dismiss, { alertId })).rejects.toThrow(/No such alert/);
  });
});
