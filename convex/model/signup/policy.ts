// Who may open an account, decided without the database: the address must be one, and not a
// throwaway; the limits every signup passes; the words a refused person reads. Pure.
import { isDisposableAddress } from "./disposable";
import { canonicalMailbox } from "./emailIdentity";
import { normalizeEmail } from "../accounts/email";

export type SignupRefusalReason =
  | "invalid_email"
  | "disposable_email"
  | "too_many_for_email"
  | "too_many_from_ip"
  | "signups_busy";

/** What the sign-in and onboarding screens show for each refusal. */
export const SIGNUP_REFUSAL_MESSAGES: Record<SignupRefusalReason, string> = {
  invalid_email: "Your sign-in has no valid email address. Sign in with an account that has one.",
  disposable_email: "Disposable email addresses can't be used; use your own address.",
  too_many_for_email: "This email address was used for too many signups today. Try again tomorrow, or sign in with the account you already made.",
  too_many_from_ip: "Too many signups came from your network in the last hour. Try again later.",
  signups_busy: "Signups are very busy right now. Try again in a minute.",
};

/** Signups per canonical mailbox per day, per client IP per hour, and for everyone per minute. */
export const SIGNUP_LIMITS = {
  perMailboxPerDay: 3,
  perIpPerHour: 10,
  globalPerMinute: 600,
  /** The global bucket is sharded so concurrent signups of different people rarely conflict. */
  globalShards: 10,
} as const;

export type CheckedEmail =
  | { ok: true; email: string; mailbox: string }
  | { ok: false; reason: "invalid_email" | "disposable_email"; mailbox: string };

/** The address as stored, the mailbox it reaches, or why it cannot open an account. */
export function checkSignupEmail(raw: string): CheckedEmail {
  const email = normalizeEmail(raw);
  const mailbox = email === null ? null : canonicalMailbox(email);
  if (email === null || mailbox === null) return { ok: false, reason: "invalid_email", mailbox: raw.trim().toLowerCase().slice(0, 320) };
  if (isDisposableAddress(email)) return { ok: false, reason: "disposable_email", mailbox };
  return { ok: true, email, mailbox };
}
