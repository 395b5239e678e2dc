import { describe, expect, test } from "vitest";
import { api } from "../_generated/api";
import { errorCodeOf, newTest, signIn } from "../test.setup";

describe("the support console's signup history", () => {
  test("shows each step of a signup in order, the refused attempts before it, and the onboarding mail", async () => {
    const t = newTest();
    const { as: agent } = await signIn(t, "agent@poindexter.dev", "support");
    const person = t
      .withRequestMetadata({ ip: "198.51.100.30", userAgent: "test" })
      .withIdentity({ subject: "h|1", issuer: "https://issuer", email: "hopper@example.com" });
    const created = await person.mutation(api.signup.account.ensure, {});
    const history = await agent.query(api.admin.signup.history, { userId: created.userId });
    expect(history.attempts.map((a) => a.outcome)).toEqual(["created"]);
    expect(history.steps.map((s) => s.action)).toEqual(["account.created", "apiKey.created", "signup.completed"]);
    expect(history.steps.every((s, i) => i === 0 || s.at >= history.steps[i - 1].at)).toBe(true);
    expect(history.emails.map((m) => [m.template, m.status])).toContainEqual(["welcome", "queued"]);

    const refused = await t
      .withIdentity({ subject: "h|2", issuer: "https://issuer", email: "temp@mailinator.com" })
      .mutation(api.signup.account.ensure, {});
    const refusedHistory = await agent.query(api.admin.signup.history, { userId: refused.userId });
    expect(refusedHistory.attempts).toMatchObject([{ outcome: "refused", reason: "disposable_email" }]);
    expect(refusedHistory.steps.map((s) => s.action)).toEqual(["account.created_pending", "signup.refused"]);
    expect((await agent.query(api.admin.accounts.get, { userId: refused.userId })).account.signupRefusal).toMatchObject({
      reason: "disposable_email",
    });
  });

  test("is for support only", async () => {
    const t = newTest();
    const { userId, as } = await signIn(t, "customer@example.com");
    expect(await errorCodeOf(as.query(api.admin.signup.history, { userId }))).toBe("FORBIDDEN");
  });
});
