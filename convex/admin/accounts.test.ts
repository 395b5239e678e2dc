import { describe, expect, test } from "vitest";
import { api } from "../_generated/api";
import { errorCodeOf, newTest, signIn } from "../test.setup";

async function expectCode(p: Promise<unknown>, code: string) {
  expect(await errorCodeOf(p)).toBe(code);
}

describe("support actions", () => {
  test("a support agent moves a trial account to basic, and the audit log says who and why", async () => {
    const t = newTest();
    const { as: agent } = await signIn(t, "agent@poindexter.dev", "support");
    const { userId } = await signIn(t, "cus@example.com");
    await agent.mutation(api.admin.accounts.overrideAccountPlan, { userId, plan: "basic", reason: "comp for outage" });
    const detail = await agent.query(api.admin.accounts.get, { userId });
    expect(detail.account).toMatchObject({ plan: "basic", state: "active" });
    expect(detail.audit[0]).toMatchObject({
      actor: "agent@poindexter.dev",
      action: "account.plan_changed",
      reason: "comp for outage",
    });
  });

  test("a plan change needs a reason", async () => {
    const t = newTest();
    const { as: agent } = await signIn(t, "agent@poindexter.dev", "support");
    const { userId } = await signIn(t, "cus@example.com");
    await expectCode(agent.mutation(api.admin.accounts.overrideAccountPlan, { userId, plan: "basic", reason: " " }), "INVALID_ARGUMENT");
  });

  test("suspend then unsuspend returns the account to the state it was in", async () => {
    const t = newTest();
    const { as: agent } = await signIn(t, "agent@poindexter.dev", "support");
    const { userId } = await signIn(t, "cus@example.com");
    await t.run((ctx) => ctx.db.patch("users", userId, { state: "past_due", plan: "basic" }));
    await agent.mutation(api.admin.accounts.suspend, { userId, reason: "chargeback" });
    expect((await agent.query(api.admin.accounts.get, { userId })).account.state).toBe("suspended");
    await agent.mutation(api.admin.accounts.unsuspend, { userId, reason: "resolved" });
    expect((await agent.query(api.admin.accounts.get, { userId })).account.state).toBe("past_due");
  });

  test("an illegal move is refused with the state machine's message", async () => {
    const t = newTest();
    const { as: agent } = await signIn(t, "agent@poindexter.dev", "support");
    const { userId } = await signIn(t, "cus@example.com");
    await expectCode(agent.mutation(api.admin.accounts.unsuspend, { userId, reason: "nothing to lift" }), "ILLEGAL_TRANSITION");
  });

  test("support cannot change roles; admins can", async () => {
    const t = newTest();
    const { as: agent } = await signIn(t, "agent@poindexter.dev", "support");
    const { as: admin } = await signIn(t, "root@poindexter.dev", "admin");
    const { userId } = await signIn(t, "cus@example.com");
    await expectCode(agent.mutation(api.admin.accounts.setRole, { userId, role: "support", reason: "hire" }), "FORBIDDEN");
    await admin.mutation(api.admin.accounts.setRole, { userId, role: "support", reason: "new hire" });
    expect((await admin.query(api.admin.accounts.get, { userId })).account.role).toBe("support");
  });

  test("account search matches email prefixes, a page at a time", async () => {
    const t = newTest();
    const { as: agent } = await signIn(t, "agent@poindexter.dev", "support");
    for (const name of ["ada", "adam", "adele", "bob"]) await signIn(t, `${name}@example.com`);
    const first = await agent.query(api.admin.accounts.list, { search: "AD", paginationOpts: { numItems: 2, cursor: null } });
    expect(first.page.map((a) => a.email)).toEqual(["ada@example.com", "adam@example.com"]);
    expect(first.isDone).toBe(false);
    const next = await agent.query(api.admin.accounts.list, {
      search: "AD",
      paginationOpts: { numItems: 2, cursor: first.continueCursor },
    });
    expect(next.page.map((a) => a.email)).toEqual(["adele@example.com"]);
  });

  test("without a search, the most recently seen accounts come first", async () => {
    const t = newTest();
    const { as: agent } = await signIn(t, "agent@poindexter.dev", "support");
    const { userId: early } = await signIn(t, "early@example.com");
    await signIn(t, "middle@example.com");
    // The first account created is the one seen last.
    await t.run((ctx) => ctx.db.patch("users", early, { lastSeenAt: Date.now() + 60_000 }));
    const page = await agent.query(api.admin.accounts.list, { paginationOpts: { numItems: 10, cursor: null } });
    expect(page.page[0].email).toBe("early@example.com");
    expect(page.page.map((a) => a.email)).toHaveLength(3);
  });
});
