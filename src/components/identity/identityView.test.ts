import { describe, expect, it } from "vitest";
import {
  checkCaptchaToken,
  identityStatusLabel,
  phaseLabel,
  retryOpen,
  stepDuration,
  stepMark,
  stepStatusLabel,
} from "./identityView";
import { captchaTokenProblem } from "../../../convex/model/identity/secrets";

describe("the captcha token check", () => {
  it("accepts a signalcaptcha:// token, trimmed of what a paste adds", () => {
    expect(checkCaptchaToken("  signalcaptcha://signal-hcaptcha.5fad97ac.registration.P1_eyJ0eXAi\n")).toEqual({
      ok: true,
      token: "signalcaptcha://signal-hcaptcha.5fad97ac.registration.P1_eyJ0eXAi",
    });
  });

  it("refuses an empty field, the page's own address, a bare scheme and a token cut by spaces, in the server's words", () => {
    const refusal = (raw: string) => {
      const check = checkCaptchaToken(raw);
      return check.ok ? null : check.message;
    };
    expect(refusal("   ")).toMatch(/^Paste the signalcaptcha:\/\/ link/);
    expect(refusal("https://signalcaptchas.org/registration/generate.html")).toMatch(/must start with signalcaptcha:\/\//);
    expect(refusal("signalcaptcha://")).toMatch(/too short/);
    expect(refusal("signalcaptcha://signal-hcaptcha.abc def.registration")).toMatch(/spaces/);
    for (const raw of ["https://example.com", "signalcaptcha://x", "signalcaptcha://signal-hcaptcha.abc def"]) {
      expect(refusal(raw)).toBe(captchaTokenProblem(raw));
    }
  });
});

describe("steps as the checklist and the support table show them", () => {
  it("marks each status with its own icon and spoken words", () => {
    expect(stepMark("done")).toMatchObject({ icon: "✓", spoken: "done", className: "is-done" });
    expect(stepMark("running")).toMatchObject({ icon: "◐", spoken: "in progress" });
    expect(stepMark("failed")).toMatchObject({ icon: "✕", className: "is-failed" });
    expect(stepMark("waiting", "captcha").spoken).toBe("waiting for you to solve a captcha");
    expect(stepMark("waiting", "sms_code").spoken).toMatch(/code Signal texts/);
    expect(stepMark("teleporting")).toMatchObject({ icon: "?", spoken: "teleporting" });
  });

  it("gives support a badge per step status and per phase, unknown ones as they are", () => {
    expect(stepStatusLabel("failed")).toEqual({ label: "Failed", tone: "critical" });
    expect(stepStatusLabel("waiting")).toEqual({ label: "Waiting", tone: "warning" });
    expect(stepStatusLabel("new_status")).toEqual({ label: "new_status", tone: "neutral" });
    expect(phaseLabel("deprovisioning")).toEqual({ label: "Deprovisioning", tone: "warning" });
  });

  it("reads the overall status for the card's badge", () => {
    expect(identityStatusLabel("active")).toEqual({ label: "Active", tone: "success" });
    expect(identityStatusLabel("captcha_needed")).toEqual({ label: "Needs you", tone: "warning" });
    expect(identityStatusLabel("failed").tone).toBe("critical");
    expect(identityStatusLabel("something_new")).toEqual({ label: "something new", tone: "neutral" });
  });

  it("times a step from start to finish, or so far while it runs", () => {
    expect(stepDuration({}, 10_000)).toBeNull();
    expect(stepDuration({ startedAt: 1_000, finishedAt: 4_200 }, 99_000)).toBe("3.2 s");
    expect(stepDuration({ startedAt: 0, finishedAt: null }, 125_000)).toBe("2 min 5 s");
    // A finish recorded before the start (clock skew between writers) is not a negative time.
    expect(stepDuration({ startedAt: 5_000, finishedAt: 4_000 }, 0)).toBe("0 s");
  });
});

describe("the retry button after Signal's lockout", () => {
  it("opens only once notBefore has passed", () => {
    expect(retryOpen(2_000, 1_999)).toBe(false);
    expect(retryOpen(2_000, 2_000)).toBe(true);
    expect(retryOpen(null, 0)).toBe(true);
  });
});
