// The console's searches: accounts by state, plan and email prefix (each combination one index
// range, paginated), and the audit log by target, actor, action and time range.
import { describe, expect, test } from "vitest";
import { api } from "../_generated/api";
import type { Doc } from "../_generated/dataModel";
import { errorCodeOf, newTest, signIn, type TestConvex } from "../test.setup";

type State = Doc<"users">["state"];
type Plan = Doc<"users">["plan"];

async function account(t: TestConvex, email: string, state: State, plan: Plan, lastSeenAt: number) {
  return await t.run((ctx) => ctx.db.insert("users", { tokenIdentifier: `x|${email}`, email, role: "user", state, plan, lastSeenAt }));
}

const all = { numItems: 50, cursor: null };

describe("accounts by state, plan and email", () => {
  test("every combination of filters lists exactly the matching accounts", async () => {
    const t = newTest();
    const { as: agent } = await signIn(t, "agent@poindexter.dev", "support");
    await account(t, "ada@example.com", "active", "basic", 5);
    await account(t, "adam@example.com", "past_due", "basic", 4);
    await account(t, "bea@example.com", "active", "pro", 3);
    await account(t, "cy@example.com", "trial", "trial", 2);
    await account(t, "ada.pro@example.com", "active", "pro", 1);
    const emails = async (args: { search?: string; state?: State; plan?: Plan }) =>
      (await agent.query(api.admin.accounts.list, { ...args, paginationOpts: all })).page.map((a) => a.email);

    expect(await emails({ state: "active" })).toEqual(["ada.pro@example.com", "ada@example.com", "bea@example.com"]);
    expect(await emails({ plan: "basic" })).toEqual(["ada@example.com", "adam@example.com"]);
    expect(await emails({ state: "active", plan: "pro" })).toEqual(["ada.pro@example.com", "bea@example.com"]);
    expect(await emails({ state: "active", search: "ADA" })).toEqual(["ada.pro@example.com", "ada@example.com"]);
    expect(await emails({ state: "active", plan: "pro", search: "bea" })).toEqual(["bea@example.com"]);
    expect(await emails({ plan: "basic", search: "adam" })).toEqual(["adam@example.com"]);
    expect(await emails({ state: "canceled" })).toEqual([]);
    // Unfiltered: most recently seen first (the agent signed in last).
    expect((await emails({})).slice(0, 3)).toEqual(["agent@poindexter.dev", "ada@example.com", "adam@example.com"]);
  });

  test("pages through a filter without repeating or skipping anyone", async () => {
    const t = newTest();
    const { as: agent } = await signIn(t, "agent@poindexter.dev", "support");
    for (let i = 0; i < 7; i++) await account(t, `u${i}@example.com`, "active", "basic", i);
    await account(t, "other@example.com", "active", "pro", 99);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page: { page: Array<{ email: string }>; isDone: boolean; continueCursor: string } = await agent.query(api.admin.accounts.list, {
        state: "active",
        plan: "basic",
        paginationOpts: { numItems: 3, cursor },
      });
      seen.push(...page.page.map((a) => a.email));
      if (page.isDone) break;
      cursor = page.continueCursor;
    }
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `u${i}@example.com`));
  });

  test("customers are refused; a bad state is a validation error", async () => {
    const t = newTest();
    const { as } = await signIn(t, "c@example.com");
    expect(await errorCodeOf(as.query(api.admin.accounts.list, { state: "active", paginationOpts: all }))).toBe("FORBIDDEN");
  });
});

describe("audit log search", () => {
  async function seed(t: TestConvex) {
    await t.run(async (ctx) => {
      const rows: Array<[string, string, string, number]> = [
        ["agent@x.com", "account.suspended", "u1", 1_000],
        ["agent@x.com", "apiKey.revoked_by_support", "u2", 2_000],
        ["boss@x.com", "account.suspended", "u2", 3_000],
        ["stripe", "account.state_changed", "u1", 4_000],
        ["agent@x.com", "account.suspended", "u1", 5_000],
      ];
      for (const [actorLabel, action, targetId, at] of rows) await ctx.db.insert("auditLogs", { actorLabel, action, targetType: "user", targetId, at });
    });
  }
  const search = async (t: TestConvex, as: Awaited<ReturnType<typeof signIn>>["as"], args: Record<string, unknown>) =>
    (await as.query(api.admin.auditLog.search, { ...args, paginationOpts: all })).page
      .filter((r) => r.at < 10_000)
      .map((r) => `${r.actorLabel} ${r.action} ${r.targetId} ${r.at}`);

  test("by target, actor, action and time range, alone and together, newest first", async () => {
    const t = newTest();
    const { as: agent } = await signIn(t, "agent@poindexter.dev", "support");
    await seed(t);
    expect(await search(t, agent, { targetId: "u1" })).toEqual([
      "agent@x.com account.suspended u1 5000",
      "stripe account.state_changed u1 4000",
      "agent@x.com account.suspended u1 1000",
    ]);
    expect(await search(t, agent, { actor: "agent@x.com", action: "account.suspended" })).toEqual([
      "agent@x.com account.suspended u1 5000",
      "agent@x.com account.suspended u1 1000",
    ]);
    expect(await search(t, agent, { action: "account.suspended", targetId: "u2" })).toEqual(["boss@x.com account.suspended u2 3000"]);
    expect(await search(t, agent, { from: 2_000, to: 4_000 })).toEqual([
      "stripe account.state_changed u1 4000",
      "boss@x.com account.suspended u2 3000",
      "agent@x.com apiKey.revoked_by_support u2 2000",
    ]);
    expect(await search(t, agent, { targetId: "u1", from: 4_500 })).toEqual(["agent@x.com account.suspended u1 5000"]);
    expect(await search(t, agent, { actor: "nobody" })).toEqual([]);
  });

  test("a backwards time range is refused; customers cannot search", async () => {
    const t = newTest();
    const { as: agent } = await signIn(t, "agent@poindexter.dev", "support");
    const { as } = await signIn(t, "c@example.com");
    expect(await errorCodeOf(agent.query(api.admin.auditLog.search, { from: 5, to: 1, paginationOpts: all }))).toBe("INVALID_ARGUMENT");
    expect(await errorCodeOf(as.query(api.admin.auditLog.search, { paginationOpts: all }))).toBe("FORBIDDEN");
  });
});
