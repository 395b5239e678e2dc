// The identity row's life, shared by every identity function: the live identity of an account,
// one persisted state-machine event (model/identity/provisioning.ts `applyStepEvent`, with the
// derived Signal status and timestamps), the runner that starts whatever step is due on the
// identityPool workpool (lib/identityPool.ts), the hook that makes the identity follow the account (activation,
// suspension, cancellation) and the alert support sees when a step stops.
//
// The runner is the only place that starts a step, and it starts one only when dueSteps says it
// is due (one per branch: email and phone provision side by side): the step's workId is written
// by step_started in the same mutation, so a step never runs twice at once and a stale completion
// is recognised by its workId. A deferred step (not ready upstream) is re-enqueued by its outcome
// mutation under a new workId (step_deferred).
import { ConvexError } from "convex/values";
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import { env, type MutationCtx, type QueryCtx } from "../_generated/server";
import { type Actor, audit } from "../lib/audit";
import { identityPool } from "../lib/identityPool";
import { recordStepOutcomes } from "../ops/metricsRecord";
import { raiseOpsAlert } from "../lib/opsAlerts";
import { CAPABILITIES } from "../model/accounts/accountState";
import {
  applyStepEvent,
  branchSteps,
  DEFAULT_IDENTITY_RETENTION_DAYS,
  dueSteps,
  findStep,
  IllegalStepEventError,
  newIdentity,
  planHasIdentity,
  signalStatus,
  STEP_LABELS,
  type Identity,
  type Phase,
  type StepEvent,
  type StepName,
  type StepRecord,
} from "../model/identity/provisioning";

export type IdentityDoc = Doc<"identities">;

/** Phases in which an identity is the account's live one (others are winding down or gone). */
export const LIVE_PHASES: readonly Phase[] = ["provisioning", "active", "suspended"];

/** How long Signal's SMS code may take before the code step fails (the user can retry). */
export const SIGNAL_CODE_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * Each step's retry on the workpool, for transient failures (a 5xx, a 429, a network error): the
 * first retry after about 300 ms, doubling (the workpool jitters each wait), 12 attempts, about
 * 10 min in all. A transient 503 usually passes on the next try, so the first wait is short (a
 * burst of activations would otherwise each lose seconds to one injected failure); the doubling
 * keeps an outage from being hammered, and support hears of it within the quarter hour.
 * Only retryable failures are thrown by the step action; everything else returns an outcome.
 * Upstream "not ready yet" answers are not transient failures: see NOT_READY_RETRY.
 */
export const STEP_RETRY = { maxAttempts: 12, initialBackoffMs: 300, base: 2 } as const;

/**
 * "Not ready yet" (Google's "User creation is not complete" / "Mail service not enabled" after an
 * insert, a Telnyx number order still pending): nothing failed, the provider needs time, often a
 * minute or more for a new mailbox. Retrying at STEP_RETRY's pace would spend the attempts meant
 * for outages on a wait, so the step is deferred instead: the same run continues as a later
 * workpool run (step_deferred), after 2 s doubling to at most 60 s (x0.75-1.25 jitter), for up
 * to 30 min from the step's start before it fails with an alert.
 */
export const NOT_READY_RETRY = { initialMs: 2_000, base: 2, maxMs: 60_000, giveUpAfterMs: 30 * 60 * 1000 } as const;

/** The wait before the next try of a step that was not ready on its `attempts`-th attempt. */
export function notReadyDelayMs(attempts: number, random: () => number = Math.random): number {
  const exp = NOT_READY_RETRY.initialMs * NOT_READY_RETRY.base ** Math.max(0, attempts - 1);
  return Math.round(Math.min(NOT_READY_RETRY.maxMs, exp) * (0.75 + random() * 0.5));
}

/** Changes the runner makes on its own: the audit trail names provisioning, not a person. */
export const IDENTITY_ACTOR: Actor = { label: "identity provisioning" };

const MAX_ROWS_READ = 20;

/** A refusal the dashboard, the admin page and the Dex API can branch on. */
export function identityError(code: string, message: string): never {
  throw new ConvexError({ code, message });
}

/**
 * Identity provisioning is on when the deployment names at least one identity provider. A
 * deployment with none (AI only, or a test of another domain) creates no identities; one with
 * some but not all fails the unconfigured steps with an alert that names the missing variables.
 */
export function provisioningEnabled(): boolean {
  return Boolean(env.GOOGLE_SERVICE_ACCOUNT_EMAIL || env.TELNYX_API_KEY || env.SIGNAL_CLI_URL);
}

/** IDENTITY_RETENTION_DAYS: whole days the Workspace user is kept suspended before deletion. */
export function retentionDays(raw = env.IDENTITY_RETENTION_DAYS): number {
  if (raw === undefined || raw.trim() === "") return DEFAULT_IDENTITY_RETENTION_DAYS;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 && n <= 3650 ? n : DEFAULT_IDENTITY_RETENTION_DAYS;
}

/** The account's identity rows, newest first (older ones may still be deprovisioning). */
export async function identitiesOf(ctx: QueryCtx, userId: Id<"users">, limit = MAX_ROWS_READ): Promise<IdentityDoc[]> {
  return await ctx.db
    .query("identities")
    .withIndex("by_userId", (q) => q.eq("userId", userId))
    .order("desc")
    .take(limit);
}

/** The live identity: the newest row that is provisioning, active or suspended. */
export async function liveIdentity(ctx: QueryCtx, userId: Id<"users">): Promise<IdentityDoc | null> {
  return (await identitiesOf(ctx, userId)).find((row) => LIVE_PHASES.includes(row.phase)) ?? null;
}

/** The row the customer sees: the live one, else the newest (deprovisioning or deprovisioned). */
export async function shownIdentity(ctx: QueryCtx, userId: Id<"users">): Promise<IdentityDoc | null> {
  const rows = await identitiesOf(ctx, userId);
  return rows.find((row) => LIVE_PHASES.includes(row.phase)) ?? rows[0] ?? null;
}

export function machineOf(row: Pick<IdentityDoc, "phase" | "steps">): Identity {
  return { phase: row.phase, steps: row.steps };
}

/** Convex stores no `undefined`: drop the cleared fields of each step. */
function storable(steps: StepRecord[]): StepRecord[] {
  return steps.map((s) => Object.fromEntries(Object.entries(s).filter(([, value]) => value !== undefined)) as unknown as StepRecord);
}

type RowFacts = Partial<
  Pick<
    IdentityDoc,
    | "workspaceEmail"
    | "workspaceUserId"
    | "workspacePasswordEncrypted"
    | "phoneNumber"
    | "telnyxNumberId"
    | "telnyxOrderId"
    | "telnyxMessagingProfileId"
    | "signalCodeSealed"
    | "signalCodeReceivedAt"
    | "wakeAt"
    | "canceledAt"
  >
>;

/**
 * Applies one event to the row and persists it with what follows from it (Signal's status,
 * activatedAt, deprovisionedAt) and any facts the step produced. Throws IllegalStepEventError.
 */
export async function applyEvent(ctx: MutationCtx, row: IdentityDoc, event: StepEvent, facts: RowFacts = {}): Promise<IdentityDoc> {
  const next = applyStepEvent(machineOf(row), event);
  const patch = {
    phase: next.phase,
    steps: storable(next.steps),
    signalStatus: signalStatus(next),
    updatedAt: event.at,
    ...facts,
    ...(next.phase === "active" && row.phase !== "active" ? { activatedAt: event.at } : {}),
    ...(next.phase === "deprovisioned" && row.phase !== "deprovisioned" ? { deprovisionedAt: event.at } : {}),
  };
  await ctx.db.patch("identities", row._id, patch);
  // pdx_identity_steps_total: one insert per step that finished here (no shared counter).
  await recordStepOutcomes(ctx, row.steps, patch.steps);
  return { ...row, ...patch };
}

/** applyEvent for a user's or support's request: an illegal move is a clear ILLEGAL_TRANSITION. */
export async function applyRequested(ctx: MutationCtx, row: IdentityDoc, event: StepEvent): Promise<IdentityDoc> {
  try {
    return await applyEvent(ctx, row, event);
  } catch (e) {
    if (e instanceof IllegalStepEventError) identityError("ILLEGAL_TRANSITION", e.message);
    throw e;
  }
}

/** A new identity for the plan, and its first step started. */
export async function createIdentity(ctx: MutationCtx, user: Doc<"users">, actor: Actor, reason: string): Promise<Id<"identities">> {
  const now = Date.now();
  const identity = newIdentity(user.plan, now);
  const identityId = await ctx.db.insert("identities", {
    userId: user._id,
    phase: identity.phase,
    steps: storable(identity.steps),
    signalStatus: signalStatus(identity),
    createdAt: now,
    updatedAt: now,
  });
  await audit(ctx, actor, "identity.provisioning_started", { type: "identity", id: identityId }, reason, { userId: user._id, plan: user.plan });
  await advance(ctx, identityId);
  return identityId;
}

/** Cancel: deprovision in order (Signal, number, Workspace suspended, deleted after retention). */
export async function deprovision(ctx: MutationCtx, row: IdentityDoc, actor: Actor, reason: string): Promise<void> {
  const now = Date.now();
  await applyRequested(ctx, row, { type: "cancel", at: now, retentionDays: retentionDays() });
  await ctx.db.patch("identities", row._id, { canceledAt: now });
  await audit(ctx, actor, "identity.deprovisioning_started", { type: "identity", id: row._id }, reason, { userId: row.userId });
  await advance(ctx, row._id);
}

export interface AdvanceOptions {
  /** The sealed captcha answer for a signal_register run the person just unblocked. */
  captchaSealed?: string;
}

/**
 * Starts what is due: enqueues the next step of every branch that has one due (each workId
 * recorded by its step_started in this same mutation), schedules a wake-up for a step due later
 * (deletion after retention) or for the SMS code's timeout, and consumes a Signal code that
 * arrived before its step was waiting.
 */
export async function advance(ctx: MutationCtx, identityId: Id<"identities">, options: AdvanceOptions = {}): Promise<void> {
  // A handful of hops at most: code_received then signal_verify is the longest chain.
  for (let hop = 0; hop < 4; hop++) {
    let row = await ctx.db.get("identities", identityId);
    if (row === null) return;
    const now = Date.now();
    for (const step of dueSteps(machineOf(row), now)) row = await startStep(ctx, row, step, now, options);
    const codeWait = branchSteps(machineOf(row)).find((n) => n.kind === "waiting" && n.reason === "sms_code");
    if (codeWait !== undefined && row.signalCodeSealed !== undefined) {
      await applyEvent(ctx, row, { type: "code_received", at: now }, { wakeAt: undefined });
      continue;
    }
    if (codeWait !== undefined) {
      const started = findStep(machineOf(row), "signal_code")?.startedAt ?? now;
      await wakeAt(ctx, row, started + SIGNAL_CODE_TIMEOUT_MS);
      return;
    }
    const later = branchSteps(machineOf(row)).find((n) => n.kind === "scheduled" && n.at > now);
    if (later !== undefined && later.kind === "scheduled") await wakeAt(ctx, row, later.at);
    return;
  }
}

/** One step's run on the identity pool, with its retry and onComplete; `runAfter` defers it. */
export async function enqueueStep(
  ctx: MutationCtx,
  identityId: Id<"identities">,
  step: StepName,
  sealed: string | undefined,
  runAfter = 0,
): Promise<string> {
  return await identityPool.enqueueAction(
    ctx,
    internal.identity.steps.run,
    { identityId, step, ...(sealed !== undefined ? { sealed } : {}) },
    {
      retry: STEP_RETRY,
      onComplete: internal.identity.steps.recordOutcome,
      context: { identityId, step },
      name: `identity:${step}`,
      ...(runAfter > 0 ? { runAfter } : {}),
    },
  );
}

async function startStep(ctx: MutationCtx, row: IdentityDoc, step: StepName, now: number, options: AdvanceOptions): Promise<IdentityDoc> {
  // The verification carries the code, sealed; a registration the captcha answer, sealed. The
  // workpool stores its arguments, so neither is ever there in plain text.
  const sealed = step === "signal_verify" ? row.signalCodeSealed : step === "signal_register" ? options.captchaSealed : undefined;
  const workId = await enqueueStep(ctx, row._id, step, sealed);
  // A new registration makes Signal text a new code: an older one is worthless from now on.
  const facts: RowFacts = step === "signal_register" ? { signalCodeSealed: undefined, signalCodeReceivedAt: undefined, wakeAt: undefined } : { wakeAt: undefined };
  return await applyEvent(ctx, row, { type: "step_started", step, workId, at: now }, facts);
}

/**
 * Wake-ups more than this far ahead go in hops: a 30-day retention is longer than a 32-bit
 * setTimeout (what the offline runtime and convex-test schedule with), which would fire at once.
 */
const MAX_WAKE_HOP_MS = 20 * 24 * 60 * 60 * 1000;

/** One scheduled wake-up per due time (re-planning the same time schedules nothing). */
async function wakeAt(ctx: MutationCtx, row: IdentityDoc, at: number): Promise<void> {
  if (row.wakeAt === at) return;
  const now = Date.now();
  await ctx.scheduler.runAt(Math.min(Math.max(at, now), now + MAX_WAKE_HOP_MS), internal.identity.steps.wake, { identityId: row._id });
  await ctx.db.patch("identities", row._id, { wakeAt: at });
}

/** A step that stopped: an alert for support (not on the customer's dashboard) and an audit row. */
export async function alertStepFailed(ctx: MutationCtx, row: IdentityDoc, step: StepName, error: string): Promise<void> {
  const user = await ctx.db.get("users", row.userId);
  await ctx.db.insert("alerts", {
    kind: "identity_step_failed",
    severity: "critical",
    message: `${STEP_LABELS[step]} failed for ${user?.email ?? row.userId} (identity ${row._id}): ${error} Re-run the step from the account's identity panel once the cause is fixed.`,
    at: Date.now(),
  });
  await raiseOpsAlert(ctx, {
    rule: "provisioning_failed",
    subject: `${row.userId}:${step}`,
    userId: row.userId,
    message: `${STEP_LABELS[step]} failed for identity ${row._id}: ${error}`,
  });
}

/**
 * Makes the identity follow the account: a paid plan in a state that keeps an identity
 * (active, past_due, suspended) has a live one, suspended while the account is; any other
 * combination (canceled, back on trial) has none. Idempotent: called after every account state
 * or plan change, in the same transaction.
 */
export async function followAccount(ctx: MutationCtx, userId: Id<"users">, actor: Actor): Promise<void> {
  const user = await ctx.db.get("users", userId);
  if (user === null) return;
  const live = await liveIdentity(ctx, userId);
  const wanted = CAPABILITIES[user.state].keepIdentity && planHasIdentity(user.plan);
  if (!wanted) {
    if (live !== null) await deprovision(ctx, live, actor, `account ${user.state} on the ${user.plan} plan`);
    return;
  }
  if (live === null) {
    if (provisioningEnabled()) await createIdentity(ctx, user, actor, `account ${user.state} on the ${user.plan} plan`);
    return;
  }
  const now = Date.now();
  if (user.state === "suspended" && (live.phase === "provisioning" || live.phase === "active")) {
    await applyEvent(ctx, live, { type: "suspend", at: now });
    await audit(ctx, actor, "identity.suspended", { type: "identity", id: live._id }, "account suspended", { userId });
    await advance(ctx, live._id);
  } else if (user.state !== "suspended" && live.phase === "suspended") {
    await applyEvent(ctx, live, { type: "unsuspend", at: now });
    await audit(ctx, actor, "identity.unsuspended", { type: "identity", id: live._id }, `account ${user.state}`, { userId });
    await advance(ctx, live._id);
  }
}
