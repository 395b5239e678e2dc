// The identity provisioning state machine (issue #10, item 1). Pure: no Convex imports, no clock
// (every event carries `at`). The identity row (schema/identity.ts) stores exactly `Identity`;
// every change to it goes through `applyStepEvent`, so an illegal move is rejected in one place.
//
// Two layers:
//  - the phase is the intent: provisioning, active, suspended, deprovisioning, deprovisioned;
//  - the steps are the progress: each step is pending, running (one workpool run, its workId on
//    the step), waiting (for the user or for an outside event), done, failed or skipped.
// "Failed at step", "captcha needed" and the like are derived from both (`overallStatus`), so the
// row cannot hold a status that disagrees with its steps. One step runs at a time per branch:
// provisioning has two independent branches (email; phone then Signal) that run side by side,
// suspension and deprovisioning one each (`phaseBranches`).
//
//   provisioning (steps by plan features; email: the first two, phone: the next two, signal: the
//   last three, which need the number):
//     email branch: workspace_user ─▶ mailbox
//     phone branch: number_order ─▶ messaging_profile ─▶ signal_register
//     signal_register ─captcha_demanded─▶ waiting(captcha) ─captcha_solved─▶ pending (runs again)
//     signal_register ─rate_limited─▶ waiting(retry_after, notBefore) ─retry_step─▶ pending
//                     (only by hand, once the lockout is over: failed tries extend it)
//     signal_register done ─▶ signal_code waiting(sms_code) ─code_received─▶ signal_verify
//     all steps done ─▶ active
//   any running step: step_retrying (lastError, still running) | step_deferred (not ready upstream:
//     still running, as a later workpool run with a new workId) | step_succeeded | step_failed
//   failed step ─retry_step─▶ pending (support re-run, or the user's retry button)
//   provisioning | active ─suspend─▶ suspended (workspace_suspend if the user may exist;
//                                      number and Signal kept; provisioning halts)
//   suspended ─unsuspend─▶ provisioning (workspace_restore first, then what was left) ─▶ active
//   provisioning | active | suspended ─cancel─▶ deprovisioning:
//     signal_unregister ─▶ number_release ─▶ workspace_suspend ─▶ workspace_delete (not before
//     cancel + IDENTITY_RETENTION_DAYS) ─▶ deprovisioned
//   deprovisioned ─resubscribe─▶ a fresh identity (provisioning, new steps)
//
// A deprovisioning step is included when its provisioning counterpart is not pending or skipped
// (running or failed may have acted upstream: the release actions are idempotent lookups).
//
// Open questions for the wiring session:
//  - resubscribe is legal only from deprovisioned. An account that resubscribes during the
//    retention window gets a new row from `newIdentity` while the old row finishes deprovisioning;
//    the live identity is the newest row whose phase is not deprovisioning/deprovisioned.
//  - the captcha token is not part of the machine: the mutation handling captcha_solved passes it
//    to the re-enqueued signal_register action (never stored in plain text).
//  - how long to wait for the SMS code is the wiring's choice: its timeout applies step_failed to
//    the waiting signal_code step; retry_step on signal_code then registers with Signal again.
//  - unsuspend resets failed provisioning steps to pending (a natural retry point).

import { type PlanId, getPlan } from "../plans";

export const PROVISION_STEPS = [
  "workspace_user",
  "mailbox",
  "number_order",
  "messaging_profile",
  "signal_register",
  "signal_code",
  "signal_verify",
] as const;
export const SUSPENSION_STEPS = ["workspace_suspend", "workspace_restore"] as const;
export const DEPROVISION_STEPS = [
  "signal_unregister",
  "number_release",
  "workspace_suspend",
  "workspace_delete",
] as const;

export type ProvisionStep = (typeof PROVISION_STEPS)[number];
export type StepName =
  | ProvisionStep
  | (typeof SUSPENSION_STEPS)[number]
  | (typeof DEPROVISION_STEPS)[number];

export const STEP_NAMES: readonly StepName[] = [
  ...PROVISION_STEPS,
  "workspace_suspend",
  "workspace_restore",
  "signal_unregister",
  "number_release",
  "workspace_delete",
];

/** What the dashboard and the admin page call each step. */
export const STEP_LABELS: Record<StepName, string> = {
  workspace_user: "Creating email account",
  mailbox: "Preparing mailbox",
  number_order: "Provisioning phone number",
  messaging_profile: "Connecting SMS",
  signal_register: "Registering Signal",
  signal_code: "Receiving Signal code",
  signal_verify: "Verifying Signal",
  workspace_suspend: "Suspending email account",
  workspace_restore: "Restoring email account",
  signal_unregister: "Unregistering Signal",
  number_release: "Releasing phone number",
  workspace_delete: "Deleting email account",
};

export type Phase = "provisioning" | "active" | "suspended" | "deprovisioning" | "deprovisioned";
export const PHASES: readonly Phase[] = [
  "provisioning",
  "active",
  "suspended",
  "deprovisioning",
  "deprovisioned",
];

export type StepStatus = "pending" | "running" | "waiting" | "done" | "failed" | "skipped";
/** Why a step waits: the user's captcha, the SMS code (Telnyx webhook), or Signal's 429 lockout. */
export type WaitReason = "captcha" | "sms_code" | "retry_after";

export interface StepRecord {
  name: StepName;
  status: StepStatus;
  /** The workpool run while running; attempts, backoff and errors live in its status. */
  workId?: string;
  waitingFor?: WaitReason;
  /** Not to start before (Signal's retry-after; the end of the retention window for deletion). */
  notBefore?: number;
  /** The last error seen (a retry in flight, or the failure that stopped the step). */
  lastError?: string;
  /** Attempts of the current run so far (each workpool attempt counts itself in). */
  attempts?: number;
  startedAt?: number;
  finishedAt?: number;
  updatedAt: number;
}

export interface Identity {
  phase: Phase;
  /** Unique names: provisioning steps in order, then suspension and deprovisioning ones as added. */
  steps: StepRecord[];
}

export const DEFAULT_IDENTITY_RETENTION_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

export type StepEvent =
  | { type: "step_started"; step: StepName; workId: string; at: number }
  | { type: "attempt_started"; step: StepName; at: number }
  | { type: "step_succeeded"; step: StepName; at: number }
  | { type: "step_retrying"; step: StepName; error: string; at: number }
  /** Not ready upstream yet (Google's new user, a pending number order): the same run continues as a later workpool run. */
  | { type: "step_deferred"; step: StepName; workId: string; error: string; at: number }
  | { type: "step_failed"; step: StepName; error: string; at: number }
  | { type: "captcha_demanded"; at: number }
  | { type: "captcha_solved"; at: number }
  | { type: "rate_limited"; until: number; at: number }
  | { type: "code_received"; at: number }
  | { type: "retry_step"; step: StepName; at: number }
  | { type: "suspend"; at: number }
  | { type: "unsuspend"; at: number }
  | { type: "cancel"; at: number; retentionDays?: number }
  | { type: "resubscribe"; plan: PlanId; at: number };

export type StepEventType = StepEvent["type"];

export class IllegalStepEventError extends Error {
  constructor(
    readonly phase: Phase,
    readonly event: StepEventType,
    readonly step: StepName | null,
    reason: string,
  ) {
    super(
      `An identity that is ${phase} cannot take ${event}${step ? ` for ${step}` : ""}: ${reason}.`,
    );
    this.name = "IllegalStepEventError";
  }
}

export class NoIdentityForPlanError extends Error {
  constructor(readonly plan: PlanId) {
    super(`The ${plan} plan includes no identity.`);
    this.name = "NoIdentityForPlanError";
  }
}

/** The provisioning steps a plan's features call for (trial: none). Signal needs the number. */
export function stepsForPlan(plan: PlanId): ProvisionStep[] {
  const features = getPlan(plan).features;
  const steps: ProvisionStep[] = [];
  if (features.includes("email")) steps.push("workspace_user", "mailbox");
  if (features.includes("phone")) {
    steps.push("number_order", "messaging_profile");
    if (features.includes("signal")) steps.push("signal_register", "signal_code", "signal_verify");
  }
  return steps;
}

export function planHasIdentity(plan: PlanId): boolean {
  return stepsForPlan(plan).length > 0;
}

/** A new identity for an activated subscription: every step of the plan pending. */
export function newIdentity(plan: PlanId, at: number): Identity {
  const names = stepsForPlan(plan);
  if (names.length === 0) throw new NoIdentityForPlanError(plan);
  return { phase: "provisioning", steps: names.map((name) => ({ name, status: "pending", updatedAt: at })) };
}

export function findStep(identity: Identity, name: StepName): StepRecord | undefined {
  return identity.steps.find((s) => s.name === name);
}

export type NextStep =
  /** Enqueue this step's action now (then apply step_started with its workId). */
  | { kind: "run"; step: StepName }
  /** A workpool run is in flight; wait for its onComplete. */
  | { kind: "in_flight"; step: StepName; workId?: string }
  /** Start at `at`, not before (workspace deletion after the retention window). */
  | { kind: "scheduled"; step: StepName; at: number }
  /** Waiting for the user (captcha, retry after Signal's lockout) or the SMS code. */
  | { kind: "waiting"; step: StepName; reason: WaitReason; until?: number }
  /** A step failed; support or the user must retry it. */
  | { kind: "blocked"; step: StepName; error: string }
  /** Nothing to do in this phase. */
  | { kind: "idle" };

const DONE: readonly StepStatus[] = ["done", "skipped"];

/**
 * The branches the current phase works through: each an ordered list, one step at a time per
 * branch. Provisioning has two that share nothing: email (the Workspace user, restored first
 * after a suspension, then its mailbox) and phone (the number, its messaging profile, then
 * Signal on that number), so an identity's email and phone come up side by side. Suspension and
 * deprovisioning are one branch each: Signal must be unregistered before its number is released.
 */
function phaseBranches(identity: Identity): StepName[][] {
  switch (identity.phase) {
    case "provisioning":
      return [
        ["workspace_restore", "workspace_user", "mailbox"],
        ["number_order", "messaging_profile", "signal_register", "signal_code", "signal_verify"],
      ];
    case "suspended":
      return [["workspace_suspend"]];
    case "deprovisioning":
      return [[...DEPROVISION_STEPS]];
    case "active":
    case "deprovisioned":
      return [];
  }
}

/** Every step of the current phase, in display order. */
function phaseSteps(identity: Identity): StepName[] {
  return phaseBranches(identity).flat();
}

/** The first step of a branch that is not done: what that branch does next (null: finished). */
function branchNext(identity: Identity, branch: readonly StepName[]): NextStep | null {
  for (const name of branch) {
    const s = findStep(identity, name);
    if (!s || DONE.includes(s.status)) continue;
    if (s.status === "running") return { kind: "in_flight", step: name, workId: s.workId };
    if (s.status === "failed") return { kind: "blocked", step: name, error: s.lastError ?? "failed" };
    if (s.status === "waiting") {
      return { kind: "waiting", step: name, reason: s.waitingFor ?? "sms_code", until: s.notBefore };
    }
    if (s.notBefore !== undefined) return { kind: "scheduled", step: name, at: s.notBefore };
    return { kind: "run", step: name };
  }
  return null;
}

/**
 * What each branch of the current phase does next, in branch order (finished branches left out).
 * A running step outside the phase's branches (a provisioning step still in flight when the
 * account was suspended or canceled) holds everything back until its outcome is recorded: the
 * undoing must not race the doing.
 */
export function branchSteps(identity: Identity): NextStep[] {
  const branches = phaseBranches(identity);
  const inPhase = new Set(branches.flat());
  const stray = identity.steps.find((s) => s.status === "running" && !inPhase.has(s.name));
  if (stray) return [{ kind: "in_flight", step: stray.name, workId: stray.workId }];
  return branches.map((b) => branchNext(identity, b)).filter((n): n is NextStep => n !== null);
}

/** The steps the runner should start now (due to run, or scheduled and due at `now`). */
export function dueSteps(identity: Identity, now: number): StepName[] {
  return branchSteps(identity)
    .filter((n) => n.kind === "run" || (n.kind === "scheduled" && now >= n.at))
    .map((n) => (n as { step: StepName }).step);
}

/**
 * Which branch's state speaks for the identity: the customer's own move first (Signal's captcha
 * or lockout: nobody else can make it, and support is alerted of failures separately), then a
 * stop, then the SMS code's wait, then work under way, then work due.
 */
function urgency(n: NextStep): number {
  if (n.kind === "waiting") return n.reason === "sms_code" ? 2 : 0;
  return { blocked: 1, in_flight: 3, run: 4, scheduled: 5, idle: 6 }[n.kind];
}

/**
 * The one thing to show or act on for the whole identity: the most urgent of its branches
 * (`urgency`; the first branch on a tie). The runner starts every due step (`dueSteps`); this is
 * for statuses and single actions.
 */
export function nextStep(identity: Identity): NextStep {
  const nexts = branchSteps(identity);
  if (nexts.length === 0) return { kind: "idle" };
  return nexts.reduce((best, n) => (urgency(n) < urgency(best) ? n : best));
}

/** The next state, or IllegalStepEventError. Pure: callers persist the result. */
export function applyStepEvent(identity: Identity, event: StepEvent): Identity {
  const fail = (reason: string, step: StepName | null = null): never => {
    throw new IllegalStepEventError(identity.phase, event.type, step, reason);
  };
  const steps = identity.steps.map((s) => ({ ...s }));
  const get = (name: StepName) => steps.find((s) => s.name === name);
  const running = (name: StepName) => {
    const s = get(name);
    if (!s || s.status !== "running") fail("the step is not running", name);
    return s as StepRecord;
  };
  const put = (name: StepName, record: Omit<StepRecord, "name">) => {
    const i = steps.findIndex((s) => s.name === name);
    if (i >= 0) steps[i] = { name, ...record };
    else steps.push({ name, ...record });
  };
  const phase = identity.phase;
  const at = event.at;
  /**
   * Back to pending for another run. A code comes from a registration, and a code Signal refused
   * is spent: both ask Signal again (a new registration texts a new code).
   */
  const reset = (name: StepName) => {
    Object.assign(get(name) as StepRecord, { status: "pending", waitingFor: undefined, notBefore: undefined, updatedAt: at });
    if (name === "signal_code") reset("signal_register");
    if (name === "signal_verify") {
      const code = get("signal_code");
      if (code) Object.assign(code, { status: "pending", waitingFor: undefined, updatedAt: at });
      reset("signal_register");
    }
  };

  switch (event.type) {
    case "step_started": {
      if (!dueSteps(identity, at).includes(event.step)) fail("the step is not due", event.step);
      const s = get(event.step) as StepRecord;
      s.status = "running";
      s.workId = event.workId;
      s.startedAt = at;
      s.finishedAt = undefined;
      s.attempts = 0;
      s.updatedAt = at;
      return settle({ phase, steps });
    }
    case "attempt_started": {
      const s = running(event.step);
      s.attempts = (s.attempts ?? 0) + 1;
      s.updatedAt = at;
      return { phase, steps };
    }
    case "step_succeeded": {
      const s = running(event.step);
      s.status = "done";
      s.workId = undefined;
      s.finishedAt = at;
      s.updatedAt = at;
      const code = get("signal_code");
      if (event.step === "signal_register" && code && code.status === "pending") {
        Object.assign(code, { status: "waiting", waitingFor: "sms_code", startedAt: at, updatedAt: at });
      }
      return settle({ phase, steps });
    }
    case "step_retrying": {
      const s = running(event.step);
      s.lastError = event.error;
      s.updatedAt = at;
      return { phase, steps };
    }
    case "step_deferred": {
      // Still running, now as the later run: its workId is the one whose outcome counts.
      const s = running(event.step);
      s.workId = event.workId;
      s.lastError = event.error;
      s.updatedAt = at;
      return { phase, steps };
    }
    case "step_failed": {
      // A code that never arrives: the runner's timeout fails the waiting signal_code step.
      const codeTimeout = event.step === "signal_code" && get("signal_code")?.status === "waiting";
      const s = codeTimeout ? (get("signal_code") as StepRecord) : running(event.step);
      s.waitingFor = undefined;
      s.status = "failed";
      s.workId = undefined;
      s.lastError = event.error;
      s.finishedAt = at;
      s.updatedAt = at;
      return { phase, steps };
    }
    case "captcha_demanded":
    case "rate_limited": {
      const s = running("signal_register");
      s.status = "waiting";
      s.workId = undefined;
      s.waitingFor = event.type === "captcha_demanded" ? "captcha" : "retry_after";
      s.notBefore = event.type === "rate_limited" ? event.until : undefined;
      s.updatedAt = at;
      return { phase, steps };
    }
    case "captcha_solved": {
      const s = get("signal_register");
      if (!s || s.status !== "waiting" || s.waitingFor !== "captcha") {
        fail("no captcha is pending", "signal_register");
      }
      const r = s as StepRecord;
      Object.assign(r, { status: "pending", waitingFor: undefined, updatedAt: at });
      return { phase, steps };
    }
    case "code_received": {
      const s = get("signal_code");
      if (!s || s.status !== "waiting") fail("no Signal code is awaited", "signal_code");
      Object.assign(s as StepRecord, { status: "done", waitingFor: undefined, finishedAt: at, updatedAt: at });
      return settle({ phase, steps });
    }
    case "retry_step": {
      const s = get(event.step);
      if (phase === "deprovisioned" || phase === "active") fail("nothing runs in this phase", event.step);
      const lockoutOver =
        s?.status === "waiting" && s.waitingFor === "retry_after" && at >= (s.notBefore ?? 0);
      if (!s || !(s.status === "failed" || lockoutOver)) fail("the step has not failed", event.step);
      reset(event.step);
      return { phase, steps };
    }
    case "suspend": {
      if (phase !== "provisioning" && phase !== "active") fail("only a live identity can be suspended");
      const user = get("workspace_user");
      const restore = get("workspace_restore");
      if (restore && restore.status !== "running") restore.status = "skipped";
      if (user && !["pending", "skipped"].includes(user.status)) {
        put("workspace_suspend", { status: "pending", updatedAt: at });
      }
      return { phase: "suspended", steps };
    }
    case "unsuspend": {
      if (phase !== "suspended") fail("the identity is not suspended");
      const suspendStep = get("workspace_suspend");
      if (suspendStep && suspendStep.status !== "pending") {
        put("workspace_restore", { status: "pending", updatedAt: at });
      } else if (suspendStep) {
        suspendStep.status = "skipped";
      }
      for (const s of steps) {
        if (s.status === "failed" && (PROVISION_STEPS as readonly string[]).includes(s.name)) reset(s.name);
      }
      return settle({ phase: "provisioning", steps });
    }
    case "cancel": {
      if (phase !== "provisioning" && phase !== "active" && phase !== "suspended") {
        fail("the identity is already being deprovisioned");
      }
      const touched = (name: StepName) => {
        const s = get(name);
        return s !== undefined && !["pending", "skipped"].includes(s.status);
      };
      const include = {
        signal_unregister: touched("signal_register"),
        number_release: touched("number_order"),
        workspace_suspend: touched("workspace_user"),
        workspace_delete: touched("workspace_user"),
      };
      // Steps not yet running will not run: the runner would only have to undo them.
      for (const s of steps) {
        if (s.status === "pending" || s.status === "waiting") {
          Object.assign(s, { status: "skipped", waitingFor: undefined, updatedAt: at });
        }
      }
      const days = event.retentionDays ?? DEFAULT_IDENTITY_RETENTION_DAYS;
      const suspended = get("workspace_suspend");
      const restored = get("workspace_restore");
      const alreadySuspended =
        suspended?.status === "done" && !(restored && ["running", "done"].includes(restored.status));
      for (const name of DEPROVISION_STEPS) {
        if (name === "workspace_suspend" && (suspended?.status === "running" || alreadySuspended)) continue;
        put(name, {
          status: include[name] ? "pending" : "skipped",
          notBefore: name === "workspace_delete" && include[name] ? at + days * DAY_MS : undefined,
          updatedAt: at,
        });
      }
      return settle({ phase: "deprovisioning", steps });
    }
    case "resubscribe": {
      if (phase !== "deprovisioned") fail("only a deprovisioned identity starts over");
      return newIdentity(event.plan, at);
    }
  }
}

/** Phase changes that follow from the steps: provisioning -> active, deprovisioning -> deprovisioned. */
function settle(identity: Identity): Identity {
  const finished = (names: readonly StepName[]) =>
    identity.steps.every((s) => !names.includes(s.name) || DONE.includes(s.status)) &&
    !identity.steps.some((s) => s.status === "running");
  if (identity.phase === "provisioning" && finished(phaseSteps(identity))) {
    return { ...identity, phase: "active" };
  }
  if (identity.phase === "deprovisioning" && finished(DEPROVISION_STEPS)) {
    return { ...identity, phase: "deprovisioned" };
  }
  return identity;
}

export function canApply(identity: Identity, event: StepEvent): boolean {
  try {
    applyStepEvent(identity, event);
    return true;
  } catch {
    return false;
  }
}

/** The dashboard's one word for the identity card, derived from the phase and the steps. */
export type OverallStatus =
  | "provisioning"
  | "captcha_needed"
  | "retry_later"
  | "failed"
  | "active"
  | "suspended"
  | "deprovisioning"
  | "awaiting_deletion"
  | "deprovisioned";

export interface IdentityStatus {
  status: OverallStatus;
  /** The step the status is about (the failed one, the captcha one, the one in flight). */
  step?: StepName;
  error?: string;
  /** retry_later: when Signal allows another try; awaiting_deletion: when the user is deleted. */
  until?: number;
  /** Every step of the current phase, in order, for the card and the admin page. */
  steps: Array<{ name: StepName; label: string; status: StepStatus }>;
}

export function overallStatus(identity: Identity): IdentityStatus {
  const next = nextStep(identity);
  const shown = identity.phase === "active" ? [...PROVISION_STEPS] : phaseSteps(identity);
  const steps = identity.steps
    .filter((s) => shown.includes(s.name) && s.status !== "skipped")
    .sort((a, b) => shown.indexOf(a.name) - shown.indexOf(b.name))
    .map((s) => ({ name: s.name, label: STEP_LABELS[s.name], status: s.status }));
  const base = { steps };
  if (next.kind === "blocked") return { ...base, status: "failed", step: next.step, error: next.error };
  if (next.kind === "waiting" && next.reason === "captcha") {
    return { ...base, status: "captcha_needed", step: next.step };
  }
  if (next.kind === "waiting" && next.reason === "retry_after") {
    return { ...base, status: "retry_later", step: next.step, until: next.until };
  }
  if (identity.phase === "deprovisioning" && next.kind === "scheduled") {
    return { ...base, status: "awaiting_deletion", step: next.step, until: next.at };
  }
  const step = next.kind === "idle" ? undefined : next.step;
  return { ...base, status: identity.phase, ...(step ? { step } : {}) };
}

export type SignalStatus =
  | "none"
  | "unregistered"
  | "registering"
  | "captcha_needed"
  | "awaiting_code"
  | "verified"
  | "failed";

/** Signal's status for the Dex API and the keep-alive cron (stored on the row beside the steps). */
export function signalStatus(identity: Identity): SignalStatus {
  const reg = findStep(identity, "signal_register");
  if (!reg) return "none";
  const status = (name: StepName) => findStep(identity, name)?.status;
  if (status("signal_unregister") === "done") return "unregistered";
  if (["signal_register", "signal_code", "signal_verify"].some((n) => status(n as StepName) === "failed")) {
    return "failed";
  }
  if (status("signal_verify") === "done") return "verified";
  if (reg.status === "waiting" && reg.waitingFor === "captcha") return "captcha_needed";
  if (status("signal_code") === "waiting") return "awaiting_code";
  if (reg.status === "running" || reg.status === "waiting" || reg.startedAt !== undefined) return "registering";
  return "unregistered";
}

/** The order in which a canceled identity is taken apart (only the included steps). */
export function deprovisioningOrder(identity: Identity): StepName[] {
  return DEPROVISION_STEPS.filter((name) => {
    const s = findStep(identity, name);
    return s !== undefined && s.status !== "skipped";
  });
}
