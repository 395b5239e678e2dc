import { describe, expect, test } from "vitest";
import { api, internal } from "../_generated/api";
import { newTest } from "../test.setup";

describe("first sign-in", () => {
  test("creates a trial account with a 14-day trial and an audit row", async () => {
    const t = newTest();
    const ada = t.withIdentity({ subject: "u1", issuer: "https://issuer", email: "Ada@Example.com", name: "Ada" });
    expect(await ada.query(api.users.viewer.get, {})).toBeNull();
    const before = Date.now();
    const id = await ada.mutation(api.users.viewer.ensure, {});
    const viewer = await ada.query(api.users.viewer.get, {});
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
    const a = await ada.mutation(api.users.viewer.ensure, {});
    const b = await ada.mutation(api.users.viewer.ensure, {});
    expect(a).toBe(b);
    expect(await t.run((ctx) => ctx.db.query("users").collect())).toHaveLength(1);
  });

  test("an identity token without a role claim never grants a role", async () => {
    const t = newTest();
    const mallory = t.withIdentity({ subject: "m", issuer: "https://issuer", email: "m@example.com", role: "admin" } as never);
    await mallory.mutation(api.users.viewer.ensure, {});
    expect((await mallory.query(api.users.viewer.get, {}))!.role).toBe("user");
  });

  test("claims a CLI-created account only with a verified email", async () => {
    const t = newTest();
    await t.mutation(internal.cli.createAccount, { email: "bo@example.com", plan: "basic" });
    const unverified = t.withIdentity({ subject: "x", issuer: "https://issuer", email: "bo@example.com" });
    await unverified.mutation(api.users.viewer.ensure, {});
    expect((await unverified.query(api.users.viewer.get, {}))!.plan).toBe("trial"); // a separate new account

    const t2 = newTest();
    await t2.mutation(internal.cli.createAccount, { email: "bo@example.com", plan: "basic" });
    const verified = t2.withIdentity({
      subject: "y",
      issuer: "https://issuer",
      email: "bo@example.com",
      emailVerified: true,
    });
    await verified.mutation(api.users.viewer.ensure, {});
    expect(await verified.query(api.users.viewer.get, {})).toMatchObject({ plan: "basic", state: "active" });
    expect(await t2.run((ctx) => ctx.db.query("users").collect())).toHaveLength(1);
  });
});
