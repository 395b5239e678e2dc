import { describe, expect, test } from "vitest";
import { api, internal } from "./_generated/api";
import { newTest, signIn } from "./test.setup";

function errorData(e: unknown): { code?: string; message?: string } {
  return (e as { data?: { code?: string; message?: string } }).data ?? {};
}

async function expectCode(p: Promise<unknown>, code: string) {
  let thrown: unknown;
  try {
    await p;
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected ${code}`).toBeDefined();
  expect(errorData(thrown).code).toBe(code);
}

describe("first sign-in", () => {
  test("creates a trial account with a 14-day trial and an audit row", async () => {
    const t = newTest();
    const ada = t.withIdentity({ subject: "u1", issuer: "https://issuer", email: "Ada@Example.com", name: "Ada" });
    expect(await ada.query(api.users.viewer, {})).toBeNull();
    const before = Date.now();
    const id = await ada.mutation(api.users.ensureViewer, {});
    const viewer = await ada.query(api.users.viewer, {});
    expect(viewer).toMatchObject({ _id: id, email: "ada@example.com", role: "user", state: "trial", plan: "trial" });
    const days = (viewer!.trialEndsAt! - before) / 86_400_000;
    expect(days).toBeGreaterThan(13.99);
    expect(days).toBeLessThan(14.01);
    const log = await t.run((ctx) => ctx.db.query("auditLogs").collect());
    expect(log.map((a) => a.action)).toEqual(["account.created"]);
  });

  test("is idempotent: the second call returns the same account", async () => {
    const t = newTest();
    const ada = t.withIdentity({ subject: "u1", issuer: "https://issuer", email: "ada@example.com" });
    const a = await ada.mutation(api.users.ensureViewer, {});
    const b = await ada.mutation(api.users.ensureViewer, {});
    expect(a).toBe(b);
    expect(await t.run((ctx) => ctx.db.query("users").collect())).toHaveLength(1);
  });

  test("an identity token without a role claim never grants a role", async () => {
    const t = newTest();
    const mallory = t.withIdentity({ subject: "m", issuer: "https://issuer", email: "m@example.com", role: "admin" } as never);
    await mallory.mutation(api.users.ensureViewer, {});
    expect((await mallory.query(api.users.viewer, {}))!.role).toBe("user");
  });

  test("claims a CLI-created account only with a verified email", async () => {
    const t = newTest();
    await t.mutation(internal.accounts.create, { email: "bo@example.com", plan: "basic" });
    const unverified = t.withIdentity({ subject: "x", issuer: "https://issuer", email: "bo@example.com" });
    await unverified.mutation(api.users.ensureViewer, {});
    expect((await unverified.query(api.users.viewer, {}))!.plan).toBe("trial"); // a separate new account

    const t2 = newTest();
    await t2.mutation(internal.accounts.create, { email: "bo@example.com", plan: "basic" });
    const verified = t2.withIdentity({
      subject: "y",
      issuer: "https://issuer",
      email: "bo@example.com",
      emailVerified: true,
    });
    await verified.mutation(api.users.ensureViewer, {});
    expect(await verified.query(api.users.viewer, {})).toMatchObject({ plan: "basic", state: "active" });
    expect(await t2.run((ctx) => ctx.db.query("users").collect())).toHaveLength(1);
  });
});

describe("support actions", () => {
  test("a support agent moves a trial account to basic, and the audit log says who and why", async () => {
    const t = newTest();
    const { as: agent } = await signIn(t, "agent@poindexter.dev", "support");
    const { userId } = await signIn(t, "cus@example.com");
    await agent.mutation(api.admin.setPlan, { userId, plan: "basic", reason: "comp for outage" });
    const detail = await agent.query(api.admin.account, { userId });
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
    await expectCode(agent.mutation(api.admin.setPlan, { userId, plan: "basic", reason: " " }), "INVALID_ARGUMENT");
  });

  test("suspend then unsuspend returns the account to the state it was in", async () => {
    const t = newTest();
    const { as: agent } = await signIn(t, "agent@poindexter.dev", "support");
    const { userId } = await signIn(t, "cus@example.com");
    await t.run((ctx) => ctx.db.patch(userId, { state: "past_due", plan: "basic" }));
    await agent.mutation(api.admin.suspend, { userId, reason: "chargeback" });
    expect((await agent.query(api.admin.account, { userId })).account.state).toBe("suspended");
    await agent.mutation(api.admin.unsuspend, { userId, reason: "resolved" });
    expect((await agent.query(api.admin.account, { userId })).account.state).toBe("past_due");
  });

  test("an illegal move is refused with the state machine's message", async () => {
    const t = newTest();
    const { as: agent } = await signIn(t, "agent@poindexter.dev", "support");
    const { userId } = await signIn(t, "cus@example.com");
    await expectCode(agent.mutation(api.admin.unsuspend, { userId, reason: "nothing to lift" }), "ILLEGAL_TRANSITION");
  });

  test("support cannot change roles; admins can", async () => {
    const t = newTest();
    const { as: agent } = await signIn(t, "agent@poindexter.dev", "support");
    const { as: admin } = await signIn(t, "root@poindexter.dev", "admin");
    const { userId } = await signIn(t, "cus@example.com");
    await expectCode(agent.mutation(api.admin.setRole, { userId, role: "support", reason: "hire" }), "FORBIDDEN");
    await admin.mutation(api.admin.setRole, { userId, role: "support", reason: "new hire" });
    expect((await admin.query(api.admin.account, { userId })).account.role).toBe("support");
  });

  test("account search matches email prefixes", async () => {
    const t = newTest();
    const { as: agent } = await signIn(t, "agent@poindexter.dev", "support");
    await signIn(t, "ada@example.com");
    await signIn(t, "bob@example.com");
    const found = await agent.query(api.admin.listAccounts, { search: "AD" });
    expect(found.map((a) => a.email)).toEqual(["ada@example.com"]);
  });
});

describe("CLI functions", () => {
  test("create, show, set-role and set-plan by email", async () => {
    const t = newTest();
    await t.mutation(internal.accounts.create, { email: "cli@example.com" });
    await expectCode(t.mutation(internal.accounts.create, { email: "CLI@example.com" }), "CONFLICT");
    await t.mutation(internal.accounts.setRole, { email: "cli@example.com", role: "support" });
    const changed = await t.mutation(internal.accounts.setPlan, {
      email: "cli@example.com",
      plan: "pro",
      reason: "enterprise pilot",
    });
    expect(changed).toEqual({ plan: "pro", state: "active" });
    const shown = await t.query(internal.accounts.show, { email: "cli@example.com" });
    expect(shown).toMatchObject({ role: "support", plan: "pro", state: "active", claimed: false });
    expect(shown.audit.map((a: { action: string }) => a.action)).toContain("account.plan_changed");
    await expectCode(t.query(internal.accounts.show, { email: "nobody@example.com" }), "NOT_FOUND");
  });
});
