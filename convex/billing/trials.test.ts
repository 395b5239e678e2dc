// The end of a trial, on the fake clock: the hourly sweep's warning three days before (the mail,
// delivered through the provider simulator's email API, and the in-app alert), the expiry the
// warning schedules at the exact end, and the sweep catching any trial already past its end.
import { describe, expect, test, vi } from "vitest";
import { api, internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { newTest, signIn, type TestConvex } from "../test.setup";
import { APP_URL, inbox, mailClock, useEmailSimulator } from "../email/simulator.setup";

const DAY = 86_400_000;
const HOUR = 3_600_000;
const START = Date.UTC(2026, 10, 10, 9);
const ENDS = START + 5 * DAY;

const sim = useEmailSimulator();

async function trialAccount(t: TestConvex, email: string, trialEndsAt = ENDS) {
  const { userId, as } = await signIn(t, email);
  await t.run(async (ctx) => ctx.db.patch("users", userId, { trialEndsAt }));
  return { userId, as };
}

async function account(t: TestConvex, userId: Id<"users">) {
  return await t.run(async (ctx) => ({
    user: (await ctx.db.get("users", userId))!,
    outbox: await ctx.db.query("emailOutbox").withIndex("by_userId_and_queuedAt", (q) => q.eq("userId", userId)).collect(),
    audits: await ctx.db
      .query("auditLogs")
      .withIndex("by_targetType_and_targetId", (q) => q.eq("targetType", "user").eq("targetId", userId))
      .collect(),
  }));
}

describe("trial end", () => {
  test("3 days before: one mail and one alert; at the end: trial_expired by the scheduled function", async () => {
    const clock = mailClock(START);
    const t = newTest();
    const { userId, as } = await trialAccount(t, "trial@example.com");

    expect(await t.mutation(internal.billing.trials.sweep, {})).toEqual({ warned: 0, expired: 0, done: true });
    vi.setSystemTime(ENDS - 3 * DAY);
    expect(await t.mutation(internal.billing.trials.sweep, {})).toEqual({ warned: 1, expired: 0, done: true });
    // The next hourly sweep finds the warning already given.
    vi.setSystemTime(ENDS - 3 * DAY + HOUR);
    expect(await t.mutation(internal.billing.trials.sweep, {})).toEqual({ warned: 0, expired: 0, done: true });

    const alerts = await as.query(api.usage.alerts.mine, {});
    expect(alerts).toEqual([expect.objectContaining({ kind: "trial_ending", severity: "info", message: expect.stringContaining("November 15, 2026") })]);
    await clock.settle(t, ENDS - 2 * DAY);
    const mail = await inbox(sim, "trial@example.com");
    expect(mail).toHaveLength(1);
    expect(mail[0].subject).toBe("Your Poindexter trial ends on November 15, 2026");
    expect(mail[0].text).toContain(`${APP_URL}/billing`);
    expect(mail[0].text).toContain("Basic, $50/month");
    expect((await account(t, userId)).user.state).toBe("trial");

    await clock.settle(t);
    const after = await account(t, userId);
    expect(after.user.state).toBe("canceled");
    expect(after.audits.filter((a) => a.action === "account.trial_expired")).toEqual([
      expect.objectContaining({ actorLabel: "billing", reason: "the trial period ended", metadata: { fromState: "trial", toState: "canceled" } }),
    ]);
    expect(after.outbox.map((r) => [r.template, r.category, r.status])).toEqual([["trial_ending", "transactional", "sent"]]);
  });

  test("an account that bought a plan after the warning is left alone at the trial's end", async () => {
    const clock = mailClock(ENDS - 3 * DAY);
    const t = newTest();
    const { userId } = await trialAccount(t, "buyer@example.com");
    await t.mutation(internal.billing.trials.sweep, {});
    await t.run(async (ctx) => ctx.db.patch("users", userId, { state: "active", plan: "basic" }));
    await clock.settle(t);
    expect((await account(t, userId)).user.state).toBe("active");
  });

  test("a trial support extended after the warning is not expired early; a later sweep expires it on time", async () => {
    const clock = mailClock(ENDS - 3 * DAY);
    const t = newTest();
    const { userId } = await trialAccount(t, "extended@example.com");
    await t.mutation(internal.billing.trials.sweep, {});
    await t.run(async (ctx) => ctx.db.patch("users", userId, { trialEndsAt: ENDS + 7 * DAY }));
    await clock.settle(t);
    expect((await account(t, userId)).user.state).toBe("trial");
    vi.setSystemTime(ENDS + 7 * DAY);
    expect(await t.mutation(internal.billing.trials.sweep, {})).toMatchObject({ expired: 1 });
    expect((await account(t, userId)).user.state).toBe("canceled");
  });

  test("the sweep expires trials already past their end, and walks every trial account a page at a time", async () => {
    const clock = mailClock(ENDS + HOUR);
    const t = newTest();
    const ids: Id<"users">[] = [];
    for (let i = 0; i < 130; i++) ids.push((await trialAccount(t, `late${i}@example.com`)).userId);
    const { userId: fresh } = await trialAccount(t, "fresh@example.com", ENDS + 30 * DAY);
    const first = await t.mutation(internal.billing.trials.sweep, {});
    expect(first).toEqual({ warned: 0, expired: 100, done: false });
    await clock.settle(t);
    const states = await t.run(async (ctx) => Promise.all(ids.map(async (id) => (await ctx.db.get("users", id))!.state)));
    expect(new Set(states)).toEqual(new Set(["canceled"]));
    expect((await account(t, fresh)).user.state).toBe("trial");
  });
});
