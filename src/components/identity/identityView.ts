// How identity provisioning reads to a person: step markers, the card's headline, the captcha
// token check and step timings. The shapes come from convex/identity/ (view.mine for the
// customer, support.get for staff); step labels come from the backend. Pure, so it is
// unit-tested (identityView.test.ts).
import type { FunctionReturnType } from "convex/server";
import type { api } from "../../../convex/_generated/api";
import type { Label } from "../../lib/labels";
import { labelsByTone } from "../../lib/labels";
import { formatOffset } from "../../lib/format";
import { captchaTokenProblem } from "../../../convex/model/identity/secrets";

type IdentityView = NonNullable<FunctionReturnType<typeof api.identity.view.mine>>;
export type StepStatus = IdentityView["steps"][number]["status"];
export type IdentityPhase = IdentityView["phase"];
export type OverallStatus = IdentityView["status"];
export type SignalStatus = IdentityView["signalStatus"];


/** A step as the checklist draws it: the marker, the words a screen reader gets, the class. */
export interface StepMark {
  icon: string;
  /** Read after the label ("Registering Signal, in progress"). */
  spoken: string;
  className: string;
}

const STEP_MARKS: Record<StepStatus, StepMark> = {
  pending: { icon: "○", spoken: "not started", className: "is-pending" },
  running: { icon: "◐", spoken: "in progress", className: "is-running" },
  waiting: { icon: "…", spoken: "waiting", className: "is-waiting" },
  done: { icon: "✓", spoken: "done", className: "is-done" },
  failed: { icon: "✕", spoken: "failed", className: "is-failed" },
  skipped: { icon: "–", spoken: "skipped", className: "is-skipped" },
};

export function stepMark(status: string, waitingFor?: string): StepMark {
  const mark = STEP_MARKS[status as StepStatus] ?? { icon: "?", spoken: status, className: "is-pending" };
  if (status !== "waiting" || waitingFor === undefined) return mark;
  const spoken = WAITING_WORDS[waitingFor] ?? "waiting";
  return { ...mark, spoken };
}

const WAITING_WORDS: Record<string, string> = {
  captcha: "waiting for you to solve a captcha",
  sms_code: "waiting for the code Signal texts to your number",
  retry_after: "waiting: Signal asked us to try later",
};

/** Staff's badge for one step's status. */
const STEP_STATUS: Record<StepStatus, Label> = labelsByTone({
  neutral: { pending: "Pending", skipped: "Skipped" },
  info: { running: "Running" },
  warning: { waiting: "Waiting" },
  success: { done: "Done" },
  critical: { failed: "Failed" },
});

export function stepStatusLabel(status: string): Label {
  return STEP_STATUS[status as StepStatus] ?? { label: status, tone: "neutral" };
}

/** What support sees a waiting step wait for. */
export const WAITING_FOR_LABELS: Record<string, string> = {
  captcha: "the customer's captcha",
  sms_code: "the SMS code",
  retry_after: "Signal's lockout to end",
};

/** The overall status of `view.mine` / `support.get` (the model's `overallStatus`) as a badge. */
const STATUS: Record<OverallStatus, Label> = labelsByTone({
  info: { provisioning: "Setting up" },
  warning: {
    captcha_needed: "Needs you",
    retry_later: "Waiting to retry",
    suspended: "Suspended",
    deprovisioning: "Being removed",
    awaiting_deletion: "Being removed",
  },
  success: { active: "Active" },
  critical: { failed: "Needs attention" },
  neutral: { deprovisioned: "Removed" },
});

export function identityStatusLabel(status: string): Label {
  return STATUS[status as OverallStatus] ?? { label: status.replace(/_/g, " "), tone: "neutral" };
}

/** The phase of an identity as support reads it. */
const PHASE_LABELS: Record<IdentityPhase, Label> = labelsByTone({
  info: { provisioning: "Provisioning" },
  success: { active: "Active" },
  warning: { suspended: "Suspended", deprovisioning: "Deprovisioning" },
  neutral: { deprovisioned: "Deprovisioned" },
});

export function phaseLabel(phase: string): Label {
  return PHASE_LABELS[phase as IdentityPhase] ?? { label: phase, tone: "neutral" };
}

/** Signal's registration status, in words. */
export const SIGNAL_STATUS_LABELS: Record<SignalStatus, string> = {
  none: "Not on this plan",
  unregistered: "Not registered",
  registering: "Registering",
  captcha_needed: "Waiting for a captcha",
  awaiting_code: "Waiting for the SMS code",
  verified: "Registered",
  failed: "Failed",
};

export type CaptchaCheck = { ok: true; token: string } | { ok: false; message: string };

/**
 * The token Signal's captcha page hands over (the "Open Signal" link: `signalcaptcha://` and the
 * token). Checked in the page with the server's own rule (`captchaTokenProblem`, which
 * `identity.view.submitCaptcha` applies again), so a pasted page address or a half-copied link
 * is caught before it is sent, in the same words.
 */
export function checkCaptchaToken(raw: string): CaptchaCheck {
  const token = raw.trim();
  if (token === "") return { ok: false, message: "Paste the signalcaptcha:// link from Signal's captcha page." };
  const problem = captchaTokenProblem(token);
  return problem === null ? { ok: true, token } : { ok: false, message: problem };
}

/** A step's time from start to finish ("3.2 s", "2 min 5 s"), or how long it has been running. */
export function stepDuration(step: { startedAt?: number | null; finishedAt?: number | null }, now: number): string | null {
  if (step.startedAt == null) return null;
  const end = step.finishedAt ?? now;
  return formatOffset(Math.max(0, end - step.startedAt)).replace(/^\+/, "");
}

/** Whether the user can press "Retry" now: only once the lockout's `notBefore` has passed. */
export function retryOpen(notBefore: number | null | undefined, now: number): boolean {
  return notBefore == null || now >= notBefore;
}
