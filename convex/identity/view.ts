// The signed-in customer's identity (the dashboard card): progress, the captcha step when Signal
// demands one, and the retry the customer may do themselves (a Signal registration again).
import { v } from "convex/values";
import { env } from "../_generated/server";
import { userMutation, userQuery } from "../functions";
import { actorOf, audit } from "../lib/audit";
import { branchSteps, findStep, nextStep } from "../model/identity/provisioning";
import { captchaTokenProblem, seal } from "../model/identity/secrets";
import { advance, applyRequested, identityError, liveIdentity, machineOf, shownIdentity } from "./lifecycle";
import { myIdentityOf, myIdentityValidator, USER_RETRYABLE_STEPS } from "./views";

/** null: no identity (a trial, or no paid plan yet). */
export const mine = userQuery({
  args: {},
  returns: v.union(v.null(), myIdentityValidator),
  handler: async (ctx) => {
    const row = await shownIdentity(ctx, ctx.user._id);
    return row === null ? null : myIdentityOf(row);
  },
});

/** The person's answer to Signal's captcha: the registration runs again with it (sealed, never stored in plain text). */
export const submitCaptcha = userMutation({
  args: { token: v.string() },
  returns: v.null(),
  handler: async (ctx, { token }) => {
    const problem = captchaTokenProblem(token);
    if (problem !== null) identityError("INVALID_ARGUMENT", problem);
    const row = await liveIdentity(ctx, ctx.user._id);
    const register = row === null ? undefined : findStep(machineOf(row), "signal_register");
    if (row === null || register?.status !== "waiting" || register.waitingFor !== "captcha") {
      identityError("NO_CAPTCHA_PENDING", "Signal is not waiting for a captcha on your identity; there is nothing to submit.");
    }
    const key = env.ENCRYPTION_KEY;
    if (!key) identityError("NOT_CONFIGURED", "This deployment cannot accept captcha answers (ENCRYPTION_KEY is not set). Contact support.");
    const captchaSealed = await seal(key, token.trim());
    await applyRequested(ctx, row, { type: "captcha_solved", at: Date.now() });
    await audit(ctx, actorOf(ctx.user), "identity.captcha_submitted", { type: "identity", id: row._id });
    await advance(ctx, row._id, { captchaSealed });
    return null;
  },
});

/** Re-runs what the customer may retry: Signal after its lockout, or a failed Signal step. */
export const retry = userMutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    const row = await liveIdentity(ctx, ctx.user._id);
    if (row === null) identityError("NO_IDENTITY", "Your account has no identity to retry: Basic and Pro plans include one.");
    // The branch the person can act on (Signal's), even while the other branch is stopped or busy.
    const machine = machineOf(row);
    const next =
      branchSteps(machine).find((n) => (n.kind === "waiting" && n.reason === "retry_after") || (n.kind === "blocked" && USER_RETRYABLE_STEPS.includes(n.step))) ??
      nextStep(machine);
    const now = Date.now();
    if (next.kind === "waiting" && next.reason === "retry_after") {
      if (next.until !== undefined && now < next.until) {
        identityError("RETRY_TOO_EARLY", `Signal asked us to wait until ${new Date(next.until).toISOString()} before trying again; every early try extends the wait.`);
      }
    } else if (!(next.kind === "blocked" && USER_RETRYABLE_STEPS.includes(next.step))) {
      identityError("NOTHING_TO_RETRY", "Nothing on your identity can be retried by you right now. If a step failed, support has been alerted.");
    }
    const step = next.step;
    await applyRequested(ctx, row, { type: "retry_step", step, at: now });
    await audit(ctx, actorOf(ctx.user), "identity.step_retried", { type: "identity", id: row._id }, undefined, { step });
    await advance(ctx, row._id);
    return null;
  },
});
