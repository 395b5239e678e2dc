import { describe, expect, it } from "vitest";
import { refusalIsTemporary, signupStepLabel } from "./signup";

describe("signup wording", () => {
  it("names the signup's audit steps, mail steps included, and leaves unknown ones to their code", () => {
    expect(signupStepLabel("signup.completed")).toBe("Signup completed");
    expect(signupStepLabel("account.created_pending")).toBe("Account created, pending (signup refused)");
    expect(signupStepLabel("email.welcome.sent")).toBe("Welcome mail sent");
    expect(signupStepLabel("email.followup_24h.failed")).toBe("Follow-up after 1 day mail failed");
    expect(signupStepLabel("email.newsletter.sent")).toBe("newsletter mail sent");
    expect(signupStepLabel("account.plan_changed")).toBeUndefined();
  });

  it("offers a retry only for refusals that lift by themselves", () => {
    expect(refusalIsTemporary("too_many_from_ip")).toBe(true);
    expect(refusalIsTemporary("signups_busy")).toBe(true);
    expect(refusalIsTemporary("too_many_for_email")).toBe(true);
    expect(refusalIsTemporary("disposable_email")).toBe(false);
    expect(refusalIsTemporary("invalid_email")).toBe(false);
  });
});
