import { describe, expect, test, vi } from "vitest";
import { api, internal } from "../_generated/api";
import { newTest, type TestConvex } from "../test.setup";

describe("first sign-in (signup)", () => {
  test("creates a trial account with a 14-day trial and an audit row", async () => {
    const t = newTest();
    const ada = t.withIdentity({ subject: "u1", issuer: "https://issuer", email: "Ada@Example.com", name: "Ada" });
    expect(await ada.query(api.users.viewer.get, {})).toBeNull();
    const before = Date.now();
    const { userId: id } = await ada.mutation(api.signup.account.ensure, {});
    const viewer = await ada.query(api.users.viewer.get, {});
    expect(viewer).toMatchObject({ _id: id, email: "ada@example.com", role: "user", state: "trial", plan: "trial" });
    const days = (viewer!.trialEndsAt! - before) / 86_400_000;
    expect(days).toBeGreaterThan(13.99);
    expect(days).toBeLessThan(14.01);
    const log = await t.run((ctx) => ctx.db.query("auditLogs").collect());
    expect(log.map((a) => a.action)).toEqual(["account.created", "apiKey.created", "signup.completed"]);
  });

  test("is idempotent: the second call returns the same account", async () => {
    const t = newTest();
    const ada = t.withIdentity({ subject: "u1", issuer: "https://issuer", email: "ada@example.com" });
    const a = await ada.mutation(api.signup.account.ensure, {});
    const b = await ada.mutation(api.signup.account.ensure, {});
    expect(a.status).toBe("created");
    expect(b).toEqual({ status: "existing", userId: a.userId });
    expect(await t.run((ctx) => ctx.db.query("users").collect())).toHaveLength(1);
    // One key and one welcome: the repeat created nothing.
    expect(await t.run((ctx) => ctx.db.query("apiKeys").collect())).toHaveLength(1);
  });

  test("an identity token without a role claim never grants a role", async () => {
    const t = newTest();
    const mallory = t.withIdentity({ subject: "m", issuer: "https://issuer", email: "m@example.com", role: "admin" } as never);
    await mallory.mutation(api.signup.account.ensure, {});
    expect((await mallory.query(api.users.viewer.get, {}))!.role).toBe("user");
  });

  test("claims a CLI-created account only with a verified email", async () => {
    const t = newTest();
    await t.mutation(internal.cli.createAccount, { email: "bo@example.com", plan: "basic" });
    const unverified = t.withIdentity({ subject: "x", issuer: "https://issuer", email: "bo@example.com" });
    await unverified.mutation(api.signup.account.ensure, {});
    expect((await unverified.query(api.users.viewer.get, {}))!.plan).toBe("trial"); // a separate new account

    const t2 = newTest();
    await t2.mutation(internal.cli.createAccount, { email: "bo@example.com", plan: "basic" });
    const verified = t2.withIdentity({
      subject: "y",
      issuer: "https://issuer",
      email: "bo@example.com",
      emailVerified: true,
    });
    await verified.mutation(api.signup.account.ensure, {});
    expect(await verified.query(api.users.viewer.get, {})).toMatchObject({ plan: "basic", state: "active" });
    expect(await t2.run((ctx) => ctx.db.query("users").collect())).toHaveLength(1);
  });
});

describe("signup checks", () => {
  const person = (t: TestConvex, email: string, ip = "198.51.100.7", subject = `s|${email}`) =>
    t.withRequestMetadata({ ip, userAgent: "test" }).withIdentity({ subject, issuer: "https://issuer", email });

  test("creates the trial, its first key and the onboarding mail in one go", async () => {
    const t = newTest();
    const r = await person(t, "grace@example.com").mutation(api.signup.account.ensure, {});
    if (r.status !== "created") throw new Error(`not created: ${JSON.stringify(r)}`);
    expect(r.firstKey.secret).toMatch(/^pk_live_[0-9A-Za-z]{43}$/);
    const stored = await t.run((ctx) => ctx.db.get("apiKeys", r.firstKey.keyId));
    expect(stored).toMatchObject({ userId: r.userId, createdBy: "signup", prefix: r.firstKey.prefix });
    expect(JSON.stringify(stored)).not.toContain(r.firstKey.secret);
    const mails = await t.run((ctx) => ctx.db.query("emailOutbox").collect());
    expect(mails.map((m) => [m.template, m.category]).sort()).toEqual([
      ["followup_1w", "marketing"],
      ["followup_24h", "marketing"],
      ["followup_72h", "marketing"],
      ["welcome", "transactional"],
    ]);
    const [attempt] = await t.run((ctx) => ctx.db.query("signupAttempts").collect());
    expect(attempt).toMatchObject({ outcome: "created", userId: r.userId, mailbox: "grace@example.com" });
    // The IP is counted, never stored.
    expect(attempt.ipHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(attempt)).not.toContain("198.51.100.7");
  });

  test("refuses disposable domains (subdomains, any case), keeps the account pending with the reason, and creates nothing else", async () => {
    const t = newTest();
    for (const email of ["x@mailinator.com", "y@Eu.MailInator.COM"]) {
      const who = person(t, email);
      const r = await who.mutation(api.signup.account.ensure, {});
      expect(r).toMatchObject({ status: "refused", reason: "disposable_email", message: "Disposable email addresses can't be used; use your own address." });
      expect(await who.query(api.users.viewer.get, {})).toMatchObject({
        state: "pending",
        signupRefusal: { reason: "disposable_email" },
      });
    }
    expect(await t.run((ctx) => ctx.db.query("apiKeys").collect())).toEqual([]);
    expect(await t.run((ctx) => ctx.db.query("emailOutbox").collect())).toEqual([]);
    const attempts = await t.run((ctx) => ctx.db.query("signupAttempts").collect());
    expect(attempts.map((a) => [a.outcome, a.reason])).toEqual([["refused", "disposable_email"], ["refused", "disposable_email"]]);
  });

  test("allows 3 signups per mailbox per day, however the Gmail address is spelled", async () => {
    const t = newTest();
    const spellings = ["ada.l@gmail.com", "adal+one@gmail.com", "A.D.A.L@googlemail.com", "adal+four@gmail.com"];
    const results = [];
    for (const [i, email] of spellings.entries()) {
      results.push(await person(t, email, `203.0.113.${i + 1}`).mutation(api.signup.account.ensure, {}));
    }
    expect(results.map((r) => r.status)).toEqual(["created", "created", "created", "refused"]);
    expect(results[3]).toMatchObject({ reason: "too_many_for_email" });
  });

  test("allows 10 signups per client IP per hour; another IP still gets through", async () => {
    const t = newTest();
    const statuses = [];
    for (let i = 0; i < 11; i++) {
      statuses.push((await person(t, `flood${i}@example.com`, "192.0.2.50").mutation(api.signup.account.ensure, {})).status);
    }
    expect(statuses.filter((s) => s === "created")).toHaveLength(10);
    expect(statuses[10]).toBe("refused");
    expect((await person(t, "elsewhere@example.com", "192.0.2.51").mutation(api.signup.account.ensure, {})).status).toBe("created");
  });

  test("a refused signup passes on a later sign-in once its limit resets, and only then gets a key", async () => {
    const start = Date.UTC(2026, 10, 10, 9);
    vi.useFakeTimers({ now: start, toFake: ["Date"] });
    try {
      const t = newTest();
      for (let i = 0; i < 10; i++) await person(t, `n${i}@example.com`, "192.0.2.9").mutation(api.signup.account.ensure, {});
      const late = person(t, "late@example.com", "192.0.2.9");
      expect(await late.mutation(api.signup.account.ensure, {})).toMatchObject({ status: "refused", reason: "too_many_from_ip" });
      vi.setSystemTime(start + 61 * 60_000);
      const again = await late.mutation(api.signup.account.ensure, {});
      expect(again.status).toBe("created");
      expect(await late.query(api.users.viewer.get, {})).toMatchObject({ state: "trial" });
      expect((await late.query(api.users.viewer.get, {}))?.signupRefusal).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });
});
