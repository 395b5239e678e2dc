import { describe, expect, test } from "vitest";
import { internal } from "./_generated/api";
import { errorCodeOf, newTest, signIn } from "./test.setup";

async function expectCode(p: Promise<unknown>, code: string) {
  expect(await errorCodeOf(p)).toBe(code);
}

describe("CLI functions", () => {
  test("create, show, set-role and set-plan by email", async () => {
    const t = newTest();
    await t.mutation(internal.cli.createAccount, { email: "cli@example.com" });
    await expectCode(t.mutation(internal.cli.createAccount, { email: "CLI@example.com" }), "CONFLICT");
    await t.mutation(internal.cli.setAccountRole, { email: "cli@example.com", role: "support" });
    const changed = await t.mutation(internal.cli.setAccountPlan, {
      email: "cli@example.com",
      plan: "pro",
      reason: "enterprise pilot",
    });
    expect(changed).toEqual({ plan: "pro", state: "active" });
    const shown = await t.query(internal.cli.showAccount, { email: "cli@example.com" });
    expect(shown).toMatchObject({ role: "support", plan: "pro", state: "active", claimed: false });
    expect(shown.audit.map((a) => a.action)).toContain("account.plan_changed");
    await expectCode(t.query(internal.cli.showAccount, { email: "nobody@example.com" }), "NOT_FOUND");
  });

  test("creates keys for the CLI by email", async () => {
    const t = newTest();
    const { userId } = await signIn(t, "cli@example.com");
    const created = await t.mutation(internal.cli.createApiKey, { email: "CLI@example.com", name: "ops" });
    const stored = await t.run(async (ctx) => ctx.db.get("apiKeys", created.keyId));
    expect(stored).toMatchObject({ userId, name: "ops", createdBy: "cli" });
    await expect(t.mutation(internal.cli.createApiKey, { email: "nobody@example.com" })).rejects.toThrow(/No account/);
  });
});
