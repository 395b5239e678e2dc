// How the signup story reads in the SPA: refusal reasons, the onboarding mails and their
// states. The codes come from the backend's validators (convex/schema/validators.ts); the
// person-facing refusal message itself comes from the server, never from here.
import type { FunctionReturnType } from "convex/server";
import type { api } from "../../convex/_generated/api";
import type { Tone } from "./accountState";

export type EnsureResult = FunctionReturnType<typeof api.signup.account.ensure>;
export type FirstKey = Extract<EnsureResult, { status: "created" }>["firstKey"];
export type SignupRefusalReason = Extract<EnsureResult, { status: "refused" }>["reason"];
export type SignupHistory = FunctionReturnType<typeof api.admin.signup.history>;
export type SignupAttempt = SignupHistory["attempts"][number];
export type SignupStep = SignupHistory["steps"][number];
export type OnboardingEmail = SignupHistory["emails"][number];
export type OnboardingProgress = FunctionReturnType<typeof api.signup.onboarding.progress>;

/** Support's short name for each refusal (the customer reads the server's full message). */
export const REFUSAL_LABELS: Record<SignupRefusalReason, string> = {
  invalid_email: "No valid email address",
  disposable_email: "Disposable email address",
  too_many_for_email: "Too many signups for this mailbox today",
  too_many_from_ip: "Too many signups from this network this hour",
  signups_busy: "Global signup limit reached",
};

/** Refusals that pass on their own later (limits); the others need another address. */
export function refusalIsTemporary(reason: SignupRefusalReason): boolean {
  return reason === "too_many_for_email" || reason === "too_many_from_ip" || reason === "signups_busy";
}

export const EMAIL_TEMPLATE_LABELS: Record<OnboardingEmail["template"], string> = {
  welcome: "Welcome",
  followup_24h: "Follow-up after 1 day",
  followup_72h: "Follow-up after 3 days",
  followup_1w: "Follow-up after 1 week",
  trial_ending: "Trial ending (3 days before)",
  ops_alert: "Ops alert (staff)",
};

export const EMAIL_STATUS: Record<OnboardingEmail["status"], { label: string; tone: Tone }> = {
  queued: { label: "Queued", tone: "neutral" },
  sending: { label: "Sending", tone: "info" },
  sent: { label: "Sent", tone: "success" },
  failed: { label: "Failed", tone: "critical" },
  skipped: { label: "Skipped", tone: "warning" },
};

/** Readable names of the audit actions that make up a signup; others show their code only. */
const SIGNUP_STEP_LABELS: Record<string, string> = {
  "account.created": "Account created on the trial",
  "account.created_pending": "Account created, pending (signup refused)",
  "account.claimed": "Account made by support claimed at sign-in",
  "account.trial_started": "Trial started",
  "signup.completed": "Signup completed",
  "signup.refused": "Signup refused",
  "apiKey.created": "API key created",
};

const EMAIL_STEP = /^email\.([a-z0-9_]+)\.([a-z_]+)$/;

/** "signup.completed" -> "Signup completed"; "email.welcome.sent" -> "Welcome mail sent". */
export function signupStepLabel(action: string): string | undefined {
  const known = SIGNUP_STEP_LABELS[action];
  if (known !== undefined) return known;
  const mail = EMAIL_STEP.exec(action);
  if (mail === null) return undefined;
  const [, template, outcome] = mail;
  const name = Object.hasOwn(EMAIL_TEMPLATE_LABELS, template)
    ? EMAIL_TEMPLATE_LABELS[template as OnboardingEmail["template"]]
    : template;
  return `${name} mail ${outcome.replaceAll("_", " ")}`;
}
