// Background work the console lists: which identity steps need a person, which queued mail is
// overdue. Pure.

/** A step still pending or running this long after its last change has stalled. */
export const STEP_STUCK_MS = 15 * 60 * 1000;
/** Mail still queued this long after it was due has stalled (readiness uses the same bound). */
export const MAIL_OVERDUE_MS = 15 * 60 * 1000;

export interface StepLike {
  name: string;
  status: "pending" | "running" | "waiting" | "done" | "failed" | "skipped";
  updatedAt: number;
  waitingFor?: "captcha" | "sms_code" | "retry_after";
  notBefore?: number;
  lastError?: string;
}

export type StepTrouble = { step: string; kind: "failed" | "stuck"; since: number; error?: string };

/**
 * Failed steps, and steps stuck: pending or running with no change for STEP_STUCK_MS, or
 * waiting for a retry whose time passed that long ago. Waiting for a person (captcha, the SMS
 * code) is not stuck: the customer has to act.
 */
export function troubledSteps(steps: readonly StepLike[], asOf: number): StepTrouble[] {
  const out: StepTrouble[] = [];
  for (const s of steps) {
    if (s.status === "failed") out.push({ step: s.name, kind: "failed", since: s.updatedAt, error: s.lastError });
    else if ((s.status === "pending" || s.status === "running") && asOf - s.updatedAt >= STEP_STUCK_MS) {
      out.push({ step: s.name, kind: "stuck", since: s.updatedAt, error: s.lastError });
    } else if (s.status === "waiting" && s.waitingFor === "retry_after" && s.notBefore !== undefined && asOf - s.notBefore >= STEP_STUCK_MS) {
      out.push({ step: s.name, kind: "stuck", since: s.notBefore, error: s.lastError });
    }
  }
  return out;
}

/** Rounds a time down to the minute: queries take it as an argument so their result is cacheable. */
export function minuteOf(at: number): number {
  return Math.floor(at / 60_000) * 60_000;
}
