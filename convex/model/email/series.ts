// The onboarding series: which mails a new account gets, when, and whether the unsubscribe
// stops them. Templates are rendered at send time by templates.ts.
// trial_ending is not part of the series: billing (convex/billing/trials.ts) queues it three
// days before the trial ends.
export type EmailTemplate = "welcome" | "followup_24h" | "followup_72h" | "followup_1w" | "trial_ending";
export type EmailCategory = "transactional" | "marketing";

const HOUR = 60 * 60 * 1000;

export interface SeriesStep {
  template: EmailTemplate;
  category: EmailCategory;
  /** Delay after the account's creation; 0 = send now. */
  delayMs: number;
}

export const ONBOARDING_SERIES: readonly SeriesStep[] = [
  // The welcome mail carries the first key's prefix: it is part of the signup, not a tip.
  { template: "welcome", category: "transactional", delayMs: 0 },
  { template: "followup_24h", category: "marketing", delayMs: 24 * HOUR },
  { template: "followup_72h", category: "marketing", delayMs: 72 * HOUR },
  { template: "followup_1w", category: "marketing", delayMs: 7 * 24 * HOUR },
];

/** Onboarding that starts more than this after the account row was made starts from now. */
export const LATE_START_MS = HOUR;

/**
 * When each step is due: `sendAfter` is undefined for "now", else the account's creation plus
 * the step's delay. An account whose row is older than its onboarding (a signup refused at
 * first and admitted days later) is timed from now instead, so its follow-ups do not all fall
 * due at once.
 */
export function seriesSchedule(createdAt: number, now: number): Array<SeriesStep & { sendAfter: number | undefined }> {
  const anchor = now - createdAt > LATE_START_MS ? now : createdAt;
  return ONBOARDING_SERIES.map((step) => ({ ...step, sendAfter: step.delayMs === 0 ? undefined : anchor + step.delayMs }));
}
