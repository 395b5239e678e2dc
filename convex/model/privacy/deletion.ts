// The account deletion process as a pure state machine: an ordered list of steps, each pending,
// running, done or failed, changed only through the functions below so the Convex side
// (convex/privacy/process.ts) cannot skip, repeat or reorder one. Every step is idempotent: a
// step run twice (a lost acknowledgement, a sweep kicking a request that was already moving)
// does nothing the first run did not already do.
//
//   block_access -> cancel_subscription -> await_providers -> erase -> finalize
//
// block_access       the account stops working at once: identity deprovisioning starts (no
//                    retention wait), the account is canceled, keys, grants, tokens and
//                    credentials are revoked.
// cancel_subscription  each live subscription is canceled through its billing provider.
// await_providers    waits (bounded) until the provider confirmed the cancellation, the identity
//                    is deprovisioned and the usage rollup folded the last events, so nothing
//                    arrives for the person after their data is gone.
// erase              personal rows deleted, audit rows scrubbed, invoices and aggregated usage
//                    re-keyed to the tombstone, in bounded batches (model/privacy/erasePlan.ts).
// finalize           the users row deleted; the request keeps only the tombstone and progress.
//
// A step that throws is retried with backoff up to MAX_STEP_ATTEMPTS, then `failed`: the request
// waits for support, who re-runs it (`retryStep`) once the cause is fixed.

export const STEP_NAMES = ["block_access", "cancel_subscription", "await_providers", "erase", "finalize"] as const;
export type StepName = (typeof STEP_NAMES)[number];
export type StepStatus = "pending" | "running" | "done" | "failed";

export interface Step {
  name: StepName;
  status: StepStatus;
  attempts: number;
  startedAt?: number;
  finishedAt?: number;
  note?: string;
  lastError?: string;
}

export type RequestStatus = "requested" | "in_progress" | "done";

export const STEP_LABELS: Record<StepName, string> = {
  block_access: "Stop access (keys, grants, tokens, identity)",
  cancel_subscription: "Cancel the subscription with the billing provider",
  await_providers: "Wait for the providers to confirm",
  erase: "Erase personal data",
  finalize: "Remove the account",
};

export const MAX_STEP_ATTEMPTS = 8;
const BACKOFF_BASE_MS = 30_000;
const BACKOFF_MAX_MS = 60 * 60_000;

/**
 * How long await_providers waits before going on without a confirmation. The provider's webhook
 * normally lands within seconds and identity deprovisioning within minutes; past these the
 * deletion proceeds (GDPR's one-month clock matters more) and the note says what was missing.
 */
export const AWAIT_PROVIDERS_MAX_MS = 24 * 60 * 60_000;
/** How often await_providers looks again while it waits. */
export const AWAIT_POLL_MS = 30_000;

export class IllegalStepError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IllegalStepError";
  }
}

export function newSteps(): Step[] {
  return STEP_NAMES.map((name) => ({ name, status: "pending", attempts: 0 }));
}

/** The step the process is on: the first one not done (null when all are). */
export function currentStep(steps: readonly Step[]): Step | null {
  return steps.find((s) => s.status !== "done") ?? null;
}

export function requestStatus(steps: readonly Step[]): RequestStatus {
  if (steps.every((s) => s.status === "done")) return "done";
  if (steps.some((s) => s.attempts > 0 || s.status !== "pending")) return "in_progress";
  return "requested";
}

function replace(steps: readonly Step[], name: StepName, change: (s: Step) => Step): Step[] {
  const current = currentStep(steps);
  if (current === null || current.name !== name) {
    throw new IllegalStepError(`The deletion is not on the step ${name} (it is on ${current?.name ?? "nothing: it is done"}).`);
  }
  return steps.map((s) => (s.name === name ? change(s) : s));
}

/** The current step starts (or starts again): running, one more attempt. */
export function startStep(steps: readonly Step[], name: StepName, at: number): Step[] {
  return replace(steps, name, (s) => {
    if (s.status === "failed") throw new IllegalStepError(`The step ${name} failed; support re-runs it with retryStep.`);
    return { ...s, status: "running", attempts: s.attempts + 1, startedAt: s.startedAt ?? at, lastError: undefined };
  });
}

/** The current step finished its work. */
export function completeStep(steps: readonly Step[], name: StepName, at: number, note?: string): Step[] {
  return replace(steps, name, (s) => ({ ...s, status: "done", finishedAt: at, note: note ?? s.note, lastError: undefined }));
}

/** Progress within a step that runs in several batches or waits: stays running, the note updated. */
export function noteStep(steps: readonly Step[], name: StepName, note: string): Step[] {
  return replace(steps, name, (s) => ({ ...s, note }));
}

/** The delay before attempt `attempts + 1`: 30 s doubling, at most an hour. */
export function retryDelayMs(attempts: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
}

/**
 * The current step threw: back to pending with the error (retried after retryDelayMs), or failed
 * once it used MAX_STEP_ATTEMPTS. Returns the steps and when to try again (null when failed).
 */
export function failStep(steps: readonly Step[], name: StepName, at: number, error: string): { steps: Step[]; retryAt: number | null } {
  let retryAt: number | null = null;
  const next = replace(steps, name, (s) => {
    const lastError = error.slice(0, 500);
    if (s.attempts >= MAX_STEP_ATTEMPTS) return { ...s, status: "failed", finishedAt: at, lastError };
    retryAt = at + retryDelayMs(s.attempts);
    return { ...s, status: "pending", lastError };
  });
  return { steps: next, retryAt };
}

/** Support re-runs a failed step: pending again with fresh attempts. */
export function retryStep(steps: readonly Step[], name: StepName): Step[] {
  return replace(steps, name, (s) => {
    if (s.status !== "failed") throw new IllegalStepError(`The step ${name} has not failed (it is ${s.status}); nothing to re-run.`);
    return { ...s, status: "pending", attempts: 0, finishedAt: undefined };
  });
}

/**
 * A running step whose scheduled run vanished (the backend restarted mid-run, an action was
 * lost): after this long without progress the sweep runs it again, which is safe because every
 * step is idempotent.
 */
export const STALE_RUNNING_MS = 10 * 60_000;

export function isStale(step: Step, updatedAt: number, now: number): boolean {
  return step.status === "running" && now - updatedAt > STALE_RUNNING_MS;
}

/** The typed confirmation on the Settings page: the account's email, compared without case or spaces. */
export function confirmationMatches(typed: string, email: string): boolean {
  return typed.trim().toLowerCase() === email.trim().toLowerCase() && email.trim() !== "";
}
