import { describe, expect, test } from "vitest";
import {
  DEFAULT_IDENTITY_RETENTION_DAYS,
  type Identity,
  IllegalStepEventError,
  NoIdentityForPlanError,
  type StepEvent,
  type StepName,
  applyStepEvent,
  deprovisioningOrder,
  findStep,
  newIdentity,
  nextStep,
  branchSteps,
  dueSteps,
  overallStatus,
  planHasIdentity,
  signalStatus,
  stepsForPlan,
} from "./provisioning";

const T = 1_700_000_000_000;
const DAY = 24 * 60 * 60 * 1000;
const HOUR = 60 * 60 * 1000;
let clock = T;
let works = 0;

/** Runs the next due step to success (the runner's loop, without the workpool). */
function runNext(identity: Identity): Identity {
  const step = dueSteps(identity, clock)[0];
  if (step === undefined) throw new Error(`nothing to run: ${JSON.stringify(nextStep(identity))}`);
  const started = applyStepEvent(identity, {
    type: "step_started",
    step,
    workId: `w${++works}`,
    at: ++clock,
  });
  return applyStepEvent(started, { type: "step_succeeded", step, at: ++clock });
}

function runUntil(identity: Identity, step: StepName): Identity {
  let id = identity;
  while (dueSteps(id, clock).length > 0 && dueSteps(id, clock)[0] !== step) id = runNext(id);
  return id;
}

function start(identity: Identity): Identity {
  const step = dueSteps(identity, clock)[0];
  if (step === undefined) throw new Error(`nothing to start: ${JSON.stringify(nextStep(identity))}`);
  return applyStepEvent(identity, { type: "step_started", step, workId: "wx", at: ++clock });
}

const fresh = () => newIdentity("basic", T);
const atSignal = () => start(runUntil(fresh(), "signal_register"));
const active = () => {
  let id = applyStepEvent(atSignal(), { type: "step_succeeded", step: "signal_register", at: ++clock });
  id = applyStepEvent(id, { type: "code_received", at: ++clock });
  return runNext(id);
};
const cancelAt = T + DAY;
const deprovisioning = () => applyStepEvent(active(), { type: "cancel", at: cancelAt });
const awaitingDeletion = () => runNext(runNext(runNext(deprovisioning())));

// One identity per dashboard status (plus the two "provisioning" shapes: due and in flight).
const FIXTURES: Record<string, () => Identity> = {
  due: fresh,
  running: () => start(fresh()),
  captcha_needed: () => applyStepEvent(atSignal(), { type: "captcha_demanded", at: ++clock }),
  retry_later: () => applyStepEvent(atSignal(), { type: "rate_limited", until: T + HOUR, at: ++clock }),
  awaiting_code: () => applyStepEvent(atSignal(), { type: "step_succeeded", step: "signal_register", at: ++clock }),
  failed: () =>
    applyStepEvent(start(runUntil(fresh(), "number_order")), {
      type: "step_failed",
      step: "number_order",
      error: "422 invalid area code",
      at: ++clock,
    }),
  active,
  suspended: () => applyStepEvent(active(), { type: "suspend", at: ++clock }),
  deprovisioning,
  awaiting_deletion: awaitingDeletion,
  deprovisioned: () => {
    const id = awaitingDeletion();
    const started = applyStepEvent(id, {
      type: "step_started",
      step: "workspace_delete",
      workId: "wd",
      at: cancelAt + 30 * DAY,
    });
    return applyStepEvent(started, { type: "step_succeeded", step: "workspace_delete", at: cancelAt + 30 * DAY + 1 });
  },
};

/** The step an event is about: the one the fixture is at (or the first step when idle). */
function stepOf(identity: Identity): StepName {
  const next = nextStep(identity);
  return next.kind === "idle" ? "workspace_user" : next.step;
}

const AFTER_RETENTION = cancelAt + 31 * DAY;
const EVENTS: Record<string, (id: Identity) => StepEvent> = {
  step_started: (id) => ({ type: "step_started", step: stepOf(id), workId: "wn", at: AFTER_RETENTION }),
  attempt_started: (id) => ({ type: "attempt_started", step: stepOf(id), at: AFTER_RETENTION }),
  step_succeeded: (id) => ({ type: "step_succeeded", step: stepOf(id), at: AFTER_RETENTION }),
  step_retrying: (id) => ({ type: "step_retrying", step: stepOf(id), error: "503", at: AFTER_RETENTION }),
  step_failed: (id) => ({ type: "step_failed", step: stepOf(id), error: "400 invalid domain", at: AFTER_RETENTION }),
  step_deferred: (id) => ({ type: "step_deferred", step: stepOf(id), workId: "wlater", error: "User creation is not complete", at: AFTER_RETENTION }),
  captcha_demanded: () => ({ type: "captcha_demanded", at: AFTER_RETENTION }),
  captcha_solved: () => ({ type: "captcha_solved", at: AFTER_RETENTION }),
  rate_limited: () => ({ type: "rate_limited", until: AFTER_RETENTION + HOUR, at: AFTER_RETENTION }),
  code_received: () => ({ type: "code_received", at: AFTER_RETENTION }),
  retry_step: (id) => ({ type: "retry_step", step: stepOf(id), at: AFTER_RETENTION }),
  suspend: () => ({ type: "suspend", at: AFTER_RETENTION }),
  unsuspend: () => ({ type: "unsuspend", at: AFTER_RETENTION }),
  cancel: () => ({ type: "cancel", at: AFTER_RETENTION }),
  resubscribe: () => ({ type: "resubscribe", plan: "pro", at: AFTER_RETENTION }),
};

// The whole legal table, written out as "fixture/event" -> the dashboard status afterwards and
// the step it is about; every other pair throws IllegalStepEventError.
const LEGAL: Record<string, string> = {
  "due/step_started": "provisioning@workspace_user",
  "due/suspend": "suspended",
  "due/cancel": "deprovisioned",
  "running/attempt_started": "provisioning@workspace_user",
  "running/step_succeeded": "provisioning@mailbox",
  "running/step_retrying": "provisioning@workspace_user",
  "running/step_deferred": "provisioning@workspace_user",
  "running/step_failed": "failed@workspace_user",
  "running/suspend": "suspended@workspace_user",
  "running/cancel": "deprovisioning@workspace_user",
  "captcha_needed/captcha_solved": "provisioning@signal_register",
  "captcha_needed/suspend": "suspended@workspace_suspend",
  "captcha_needed/cancel": "deprovisioning@signal_unregister",
  "retry_later/retry_step": "provisioning@signal_register",
  "retry_later/suspend": "suspended@workspace_suspend",
  "retry_later/cancel": "deprovisioning@signal_unregister",
  "awaiting_code/code_received": "provisioning@signal_verify",
  "awaiting_code/step_failed": "failed@signal_code",
  "awaiting_code/suspend": "suspended@workspace_suspend",
  "awaiting_code/cancel": "deprovisioning@signal_unregister",
  "failed/retry_step": "provisioning@number_order",
  "failed/suspend": "suspended@workspace_suspend",
  "failed/cancel": "deprovisioning@number_release",
  "active/suspend": "suspended@workspace_suspend",
  "active/cancel": "deprovisioning@signal_unregister",
  "suspended/step_started": "suspended@workspace_suspend",
  "suspended/unsuspend": "active",
  "suspended/cancel": "deprovisioning@signal_unregister",
  "deprovisioning/step_started": "deprovisioning@signal_unregister",
  "awaiting_deletion/step_started": "deprovisioning@workspace_delete",
  "deprovisioned/resubscribe": "provisioning@workspace_user",
};

function describeStatus(identity: Identity): string {
  const s = overallStatus(identity);
  return s.step ? `${s.status}@${s.step}` : s.status;
}

describe("identity provisioning state machine", () => {
  test("the fixtures are the statuses they are named after", () => {
    const statuses = Object.fromEntries(
      Object.entries(FIXTURES).map(([name, make]) => [name, overallStatus(make()).status]),
    );
    expect(statuses).toEqual({
      due: "provisioning",
      running: "provisioning",
      captcha_needed: "captcha_needed",
      retry_later: "retry_later",
      awaiting_code: "provisioning",
      failed: "failed",
      active: "active",
      suspended: "suspended",
      deprovisioning: "deprovisioning",
      awaiting_deletion: "awaiting_deletion",
      deprovisioned: "deprovisioned",
    });
  });

  for (const [name, make] of Object.entries(FIXTURES)) {
    for (const [type, eventOf] of Object.entries(EVENTS)) {
      const key = `${name}/${type}`;
      const expected = LEGAL[key];
      if (expected) {
        test(`${name} --${type}--> ${expected}`, () => {
          const id = make();
          expect(describeStatus(applyStepEvent(id, eventOf(id)))).toBe(expected);
        });
      } else {
        test(`${name} rejects ${type}`, () => {
          const id = make();
          expect(() => applyStepEvent(id, eventOf(id))).toThrow(IllegalStepEventError);
        });
      }
    }
  }

  test("events never change the identity they are given", () => {
    const id = FIXTURES.running();
    const copy = structuredClone(id);
    applyStepEvent(id, { type: "step_succeeded", step: "workspace_user", at: ++clock });
    expect(id).toEqual(copy);
  });

  test("a running step keeps its workId; a retry records the error and keeps running", () => {
    let id = start(fresh());
    expect(findStep(id, "workspace_user")).toMatchObject({ status: "running", workId: "wx" });
    expect(nextStep(id)).toEqual({ kind: "in_flight", step: "workspace_user", workId: "wx" });
    id = applyStepEvent(id, { type: "step_retrying", step: "workspace_user", error: "User creation is not complete", at: ++clock });
    expect(findStep(id, "workspace_user")).toMatchObject({ status: "running", lastError: "User creation is not complete" });
    id = applyStepEvent(id, { type: "step_succeeded", step: "workspace_user", at: ++clock });
    expect(findStep(id, "workspace_user")?.workId).toBeUndefined();
    expect(findStep(id, "workspace_user")?.finishedAt).toBe(clock);
  });

  test("a completion for a step that is not running is rejected (stale onComplete)", () => {
    expect(() =>
      applyStepEvent(FIXTURES.running(), { type: "step_succeeded", step: "mailbox", at: ++clock }),
    ).toThrow(IllegalStepEventError);
  });

  test("a step starts only when it is due, and in order within its branch", () => {
    expect(() =>
      applyStepEvent(fresh(), { type: "step_started", step: "mailbox", workId: "w", at: ++clock }),
    ).toThrow(IllegalStepEventError);
    expect(() =>
      applyStepEvent(fresh(), { type: "step_started", step: "messaging_profile", workId: "w", at: ++clock }),
    ).toThrow(IllegalStepEventError);
    // Signal needs the number: it is on the phone branch, after the messaging profile.
    expect(() =>
      applyStepEvent(fresh(), { type: "step_started", step: "signal_register", workId: "w", at: ++clock }),
    ).toThrow(IllegalStepEventError);
  });

  test("email and phone run side by side: one step at a time per branch", () => {
    let id = fresh();
    expect(dueSteps(id, clock)).toEqual(["workspace_user", "number_order"]);
    id = applyStepEvent(id, { type: "step_started", step: "workspace_user", workId: "we", at: ++clock });
    id = applyStepEvent(id, { type: "step_started", step: "number_order", workId: "wp", at: ++clock });
    expect(dueSteps(id, clock)).toEqual([]);
    expect(branchSteps(id)).toEqual([
      { kind: "in_flight", step: "workspace_user", workId: "we" },
      { kind: "in_flight", step: "number_order", workId: "wp" },
    ]);
    // A second run of a running step is refused: its branch is busy.
    expect(() =>
      applyStepEvent(id, { type: "step_started", step: "workspace_user", workId: "we2", at: ++clock }),
    ).toThrow(IllegalStepEventError);
    id = applyStepEvent(id, { type: "step_succeeded", step: "number_order", at: ++clock });
    expect(dueSteps(id, clock)).toEqual(["messaging_profile"]);
    id = applyStepEvent(id, { type: "step_started", step: "messaging_profile", workId: "wm", at: ++clock });
    id = applyStepEvent(id, { type: "step_succeeded", step: "messaging_profile", at: ++clock });
    id = applyStepEvent(id, { type: "step_succeeded", step: "workspace_user", at: ++clock });
    expect(dueSteps(id, clock)).toEqual(["mailbox", "signal_register"]);
  });

  test("a failed branch stops only itself; the identity shows the failure and is never active without it", () => {
    let id = applyStepEvent(fresh(), { type: "step_started", step: "workspace_user", workId: "we", at: ++clock });
    id = applyStepEvent(id, { type: "step_started", step: "number_order", workId: "wp", at: ++clock });
    id = applyStepEvent(id, { type: "step_failed", step: "workspace_user", error: "400 invalid domain", at: ++clock });
    // The phone branch's run is still in flight and finishes; its next step is due.
    id = applyStepEvent(id, { type: "step_succeeded", step: "number_order", at: ++clock });
    expect(dueSteps(id, clock)).toEqual(["messaging_profile"]);
    expect(overallStatus(id)).toMatchObject({ status: "failed", step: "workspace_user", error: "400 invalid domain" });
    while (dueSteps(id, clock).length > 0) id = runNext(id);
    expect(findStep(id, "signal_code")?.status).toBe("waiting");
    id = runNext(applyStepEvent(id, { type: "code_received", at: ++clock }));
    expect(id.phase).toBe("provisioning");
    expect(overallStatus(id)).toMatchObject({ status: "failed", step: "workspace_user" });
  });

  test("the identity's status is the most urgent branch: the customer's captcha, then a failure, then work", () => {
    let id = applyStepEvent(fresh(), { type: "step_started", step: "workspace_user", workId: "we", at: ++clock });
    // Email in flight, phone due: the work in flight speaks.
    expect(nextStep(id)).toEqual({ kind: "in_flight", step: "workspace_user", workId: "we" });
    id = applyStepEvent(id, { type: "step_failed", step: "workspace_user", error: "400 invalid domain", at: ++clock });
    expect(overallStatus(id)).toMatchObject({ status: "failed", step: "workspace_user" });
    id = start(runUntil(id, "signal_register"));
    id = applyStepEvent(id, { type: "captcha_demanded", at: ++clock });
    // Only the customer can solve the captcha; support was alerted of the failure on its own.
    expect(overallStatus(id)).toMatchObject({ status: "captcha_needed", step: "signal_register" });
    id = applyStepEvent(id, { type: "captcha_solved", at: ++clock });
    expect(overallStatus(id)).toMatchObject({ status: "failed", step: "workspace_user" });
  });

  test("a deferred run (not ready upstream) keeps the step running under the later run's workId", () => {
    let id = start(fresh());
    id = applyStepEvent(id, { type: "attempt_started", step: "workspace_user", at: ++clock });
    id = applyStepEvent(id, { type: "step_deferred", step: "workspace_user", workId: "wlater", error: "User creation is not complete", at: ++clock });
    expect(findStep(id, "workspace_user")).toMatchObject({ status: "running", workId: "wlater", attempts: 1, lastError: "User creation is not complete" });
    expect(() =>
      applyStepEvent(id, { type: "step_deferred", step: "mailbox", workId: "w", error: "x", at: ++clock }),
    ).toThrow(IllegalStepEventError);
  });

  test("suspended or canceled with both branches in flight: nothing else starts until both outcomes are in", () => {
    let id = applyStepEvent(fresh(), { type: "step_started", step: "workspace_user", workId: "we", at: ++clock });
    id = applyStepEvent(id, { type: "step_started", step: "number_order", workId: "wp", at: ++clock });
    id = applyStepEvent(id, { type: "cancel", at: cancelAt });
    expect(dueSteps(id, cancelAt)).toEqual([]);
    id = applyStepEvent(id, { type: "step_succeeded", step: "workspace_user", at: ++clock });
    expect(branchSteps(id)).toEqual([{ kind: "in_flight", step: "number_order", workId: "wp" }]);
    id = applyStepEvent(id, { type: "step_succeeded", step: "number_order", at: ++clock });
    expect(dueSteps(id, cancelAt)).toEqual(["number_release"]);
  });

  test("the whole happy path ends active without a person when no captcha is demanded", () => {
    const id = active();
    expect(id.phase).toBe("active");
    expect(overallStatus(id).steps.map((s) => `${s.name}:${s.status}`)).toEqual([
      "workspace_user:done",
      "mailbox:done",
      "number_order:done",
      "messaging_profile:done",
      "signal_register:done",
      "signal_code:done",
      "signal_verify:done",
    ]);
    expect(signalStatus(id)).toBe("verified");
  });

  test("the captcha path: demanded, solved, registered again", () => {
    let id = FIXTURES.captcha_needed();
    expect(signalStatus(id)).toBe("captcha_needed");
    id = applyStepEvent(id, { type: "captcha_solved", at: ++clock });
    expect(nextStep(id)).toEqual({ kind: "run", step: "signal_register" });
    id = start(id);
    id = applyStepEvent(id, { type: "step_succeeded", step: "signal_register", at: ++clock });
    expect(signalStatus(id)).toBe("awaiting_code");
    expect(nextStep(id)).toMatchObject({ kind: "waiting", step: "signal_code", reason: "sms_code" });
  });

  test("Signal's 429: no retry until the lockout is over, then only by hand", () => {
    const id = FIXTURES.retry_later();
    expect(overallStatus(id)).toMatchObject({ status: "retry_later", until: T + HOUR });
    expect(() => applyStepEvent(id, { type: "retry_step", step: "signal_register", at: T + HOUR - 1 })).toThrow(
      IllegalStepEventError,
    );
    const retried = applyStepEvent(id, { type: "retry_step", step: "signal_register", at: T + HOUR });
    expect(nextStep(retried)).toEqual({ kind: "run", step: "signal_register" });
  });

  test("a failed step is shown with its error, and the identity is blocked until retried", () => {
    const id = FIXTURES.failed();
    expect(overallStatus(id)).toMatchObject({ status: "failed", step: "number_order", error: "422 invalid area code" });
    expect(nextStep(id)).toEqual({ kind: "blocked", step: "number_order", error: "422 invalid area code" });
  });

  test("a code that never arrives fails by timeout; retrying it asks Signal again", () => {
    let id = FIXTURES.awaiting_code();
    expect(() => applyStepEvent(id, { type: "retry_step", step: "signal_code", at: ++clock })).toThrow(
      IllegalStepEventError,
    );
    id = applyStepEvent(id, { type: "step_failed", step: "signal_code", error: "no code in 10 minutes", at: ++clock });
    expect(overallStatus(id)).toMatchObject({ status: "failed", step: "signal_code", error: "no code in 10 minutes" });
    id = applyStepEvent(id, { type: "retry_step", step: "signal_code", at: ++clock });
    expect(nextStep(id)).toEqual({ kind: "run", step: "signal_register" });
  });

  test("a code Signal refused is spent: retrying the verification registers again for a new code", () => {
    let id = applyStepEvent(FIXTURES.awaiting_code(), { type: "code_received", at: ++clock });
    id = start(id);
    id = applyStepEvent(id, { type: "step_failed", step: "signal_verify", error: "invalid code", at: ++clock });
    id = applyStepEvent(id, { type: "retry_step", step: "signal_verify", at: ++clock });
    expect(["signal_register", "signal_code", "signal_verify"].map((n) => findStep(id, n as StepName)?.status)).toEqual([
      "pending",
      "pending",
      "pending",
    ]);
    expect(nextStep(id)).toEqual({ kind: "run", step: "signal_register" });
  });

  test("each attempt of a run counts itself in; a new run starts from zero", () => {
    let id = start(fresh());
    id = applyStepEvent(id, { type: "attempt_started", step: "workspace_user", at: ++clock });
    id = applyStepEvent(id, { type: "step_retrying", step: "workspace_user", error: "503", at: ++clock });
    id = applyStepEvent(id, { type: "attempt_started", step: "workspace_user", at: ++clock });
    expect(findStep(id, "workspace_user")).toMatchObject({ attempts: 2, lastError: "503", status: "running" });
    id = applyStepEvent(id, { type: "step_failed", step: "workspace_user", error: "400", at: ++clock });
    id = start(applyStepEvent(id, { type: "retry_step", step: "workspace_user", at: ++clock }));
    expect(findStep(id, "workspace_user")?.attempts).toBe(0);
  });
});

describe("steps follow the plan's features", () => {
  test("trial has no identity", () => {
    expect(stepsForPlan("trial")).toEqual([]);
    expect(planHasIdentity("trial")).toBe(false);
    expect(() => newIdentity("trial", T)).toThrow(NoIdentityForPlanError);
  });

  test("basic and pro run every step, in order", () => {
    const all = [
      "workspace_user",
      "mailbox",
      "number_order",
      "messaging_profile",
      "signal_register",
      "signal_code",
      "signal_verify",
    ];
    expect(stepsForPlan("basic")).toEqual(all);
    expect(stepsForPlan("pro")).toEqual(all);
    expect(newIdentity("pro", T).steps.map((s) => s.status)).toEqual(all.map(() => "pending"));
  });

  test("resubscribing starts a fresh identity with no trace of the old one", () => {
    const id = applyStepEvent(FIXTURES.deprovisioned(), { type: "resubscribe", plan: "basic", at: ++clock });
    expect(id).toEqual(newIdentity("basic", clock));
  });
});

describe("suspension", () => {
  test("suspends the Workspace user, keeps the number and Signal, restores on unsuspend", () => {
    let id = FIXTURES.suspended();
    expect(nextStep(id)).toEqual({ kind: "run", step: "workspace_suspend" });
    id = runNext(id);
    expect(nextStep(id)).toEqual({ kind: "idle" });
    expect(signalStatus(id)).toBe("verified");
    id = applyStepEvent(id, { type: "unsuspend", at: ++clock });
    expect(overallStatus(id).status).toBe("provisioning");
    expect(nextStep(id)).toEqual({ kind: "run", step: "workspace_restore" });
    id = runNext(id);
    expect(id.phase).toBe("active");
  });

  test("suspending halts provisioning; unsuspending resumes where it stopped", () => {
    let id = runUntil(fresh(), "number_order");
    id = applyStepEvent(id, { type: "suspend", at: ++clock });
    id = runNext(id); // workspace_suspend
    expect(nextStep(id)).toEqual({ kind: "idle" });
    id = applyStepEvent(id, { type: "unsuspend", at: ++clock });
    id = runNext(id);
    expect(nextStep(id)).toEqual({ kind: "run", step: "number_order" });
  });

  test("an identity suspended before any upstream work has nothing to suspend or restore", () => {
    let id = applyStepEvent(fresh(), { type: "suspend", at: ++clock });
    expect(nextStep(id)).toEqual({ kind: "idle" });
    id = applyStepEvent(id, { type: "unsuspend", at: ++clock });
    expect(nextStep(id)).toEqual({ kind: "run", step: "workspace_user" });
  });
});

describe("deprovisioning", () => {
  test("unregister Signal, release the number, suspend, then delete after the retention window", () => {
    let id = deprovisioning();
    expect(deprovisioningOrder(id)).toEqual([
      "signal_unregister",
      "number_release",
      "workspace_suspend",
      "workspace_delete",
    ]);
    const order: StepName[] = [];
    for (let i = 0; i < 3; i++) {
      order.push((nextStep(id) as { step: StepName }).step);
      id = runNext(id);
    }
    expect(order).toEqual(["signal_unregister", "number_release", "workspace_suspend"]);
    const deleteAt = cancelAt + DEFAULT_IDENTITY_RETENTION_DAYS * DAY;
    expect(nextStep(id)).toEqual({ kind: "scheduled", step: "workspace_delete", at: deleteAt });
    expect(overallStatus(id)).toMatchObject({ status: "awaiting_deletion", until: deleteAt });
    expect(signalStatus(id)).toBe("unregistered");
    expect(() =>
      applyStepEvent(id, { type: "step_started", step: "workspace_delete", workId: "w", at: deleteAt - 1 }),
    ).toThrow(IllegalStepEventError);
    id = applyStepEvent(id, { type: "step_started", step: "workspace_delete", workId: "w", at: deleteAt });
    id = applyStepEvent(id, { type: "step_succeeded", step: "workspace_delete", at: deleteAt + 1 });
    expect(id.phase).toBe("deprovisioned");
  });

  test("the retention window comes from IDENTITY_RETENTION_DAYS", () => {
    const id = applyStepEvent(active(), { type: "cancel", at: cancelAt, retentionDays: 7 });
    expect(findStep(id, "workspace_delete")?.notBefore).toBe(cancelAt + 7 * DAY);
  });

  test("only what was started upstream is undone", () => {
    const id = applyStepEvent(FIXTURES.failed(), { type: "cancel", at: cancelAt });
    expect(deprovisioningOrder(id)).toEqual(["number_release", "workspace_suspend", "workspace_delete"]);
    expect(findStep(id, "messaging_profile")?.status).toBe("skipped");
  });

  test("a step in flight at cancel finishes first, then deprovisioning runs", () => {
    let id = applyStepEvent(start(runUntil(fresh(), "number_order")), { type: "cancel", at: cancelAt });
    expect(nextStep(id)).toMatchObject({ kind: "in_flight", step: "number_order" });
    id = applyStepEvent(id, { type: "step_succeeded", step: "number_order", at: ++clock });
    expect(nextStep(id)).toEqual({ kind: "run", step: "number_release" });
  });

  test("an account suspended before cancel is not suspended twice", () => {
    let id = runNext(FIXTURES.suspended());
    id = applyStepEvent(id, { type: "cancel", at: cancelAt });
    expect(findStep(id, "workspace_suspend")?.status).toBe("done");
    id = runNext(runNext(id));
    expect(nextStep(id)).toMatchObject({ kind: "scheduled", step: "workspace_delete" });
  });

  test("a restored account is suspended again on cancel", () => {
    let id = runNext(FIXTURES.suspended());
    id = runNext(applyStepEvent(id, { type: "unsuspend", at: ++clock }));
    id = applyStepEvent(id, { type: "cancel", at: cancelAt });
    expect(findStep(id, "workspace_suspend")?.status).toBe("pending");
  });

  test("nothing provisioned: deprovisioned at once", () => {
    const id = applyStepEvent(fresh(), { type: "cancel", at: cancelAt });
    expect(id.phase).toBe("deprovisioned");
    expect(deprovisioningOrder(id)).toEqual([]);
  });
});

describe("unsuspending retries what had failed", () => {
  test("a failed SMS code asks Signal again after unsuspend, rather than running the wait", () => {
    let id = structuredClone(FIXTURES.awaiting_code());
    Object.assign(findStep(id, "signal_code")!, { status: "failed", lastError: "no code" });
    id = applyStepEvent(id, { type: "suspend", at: ++clock });
    id = runNext(id);
    id = runNext(applyStepEvent(id, { type: "unsuspend", at: ++clock }));
    expect(nextStep(id)).toEqual({ kind: "run", step: "signal_register" });
  });
});
