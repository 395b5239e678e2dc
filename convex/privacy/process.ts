// The account deletion process (model/privacy/deletion.ts is its state machine; README.md beside
// this file shows the steps and what is kept). `run` is the one runner: it looks at the request's
// current step and does it, records the outcome, and schedules itself for what comes next, so a
// request moves on its own from its door to done. Every step is idempotent, and `sweep` (cron)
// re-kicks a request whose scheduled run was lost, so a crash anywhere only delays it.
import { v } from "convex/values";
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { internalMutation, internalQuery } from "../functions";
import { applyStateEvent } from "../lib/accounts";
import { type Actor, audit } from "../lib/audit";
import { endSessions, revokeAllCredentials } from "../credentials/store";
import { advance, applyRequested, liveIdentity } from "../identity/lifecycle";
import {
  AWAIT_POLL_MS,
  AWAIT_PROVIDERS_MAX_MS,
  completeStep,
  currentStep,
  failStep,
  isStale,
  newSteps,
  noteStep,
  requestStatus,
  type Step,
  type StepName,
  startStep,
} from "../model/privacy/deletion";
import { mentions, personalStrings, REMOVED_TEXT } from "../model/privacy/erasePlan";
import { ERASE_START, eraseBatch, subjectOf } from "./erase";

/** The audit trail names the process, not a person, for what the steps do. */
export const DELETION_ACTOR: Actor = { label: "account deletion" };

/** The rollup's cursor row (usage/rollup.ts keeps its historical name). */
const ROLLUP_CURSOR = "usageMonthly";

type Request = Doc<"deletionRequests">;

function target(requestId: Id<"deletionRequests">) {
  return { type: "deletionRequest", id: requestId };
}

async function save(ctx: MutationCtx, request: Request, steps: Step[], extra: Partial<Request> = {}): Promise<void> {
  const status = requestStatus(steps);
  await ctx.db.patch("deletionRequests", request._id, { steps, status, updatedAt: Date.now(), ...extra });
}

/** An open request for the account (requested or in progress), if any. */
export async function openRequestOf(ctx: MutationCtx, userId: Id<"users">): Promise<Request | null> {
  const rows = await ctx.db.query("deletionRequests").withIndex("by_userId", (q) => q.eq("userId", userId)).take(10);
  return rows.find((r) => r.status !== "done") ?? null;
}

/**
 * Opens a deletion request from one of the doors (or returns the account's open one: asking twice
 * deletes once) and starts it. The audit row names the request; the account's own audit rows are
 * scrubbed by the erase step like every other.
 */
export async function requestDeletion(
  ctx: MutationCtx,
  args: { userId?: Id<"users">; clerkUserId?: string; source: Request["source"]; requestedBy: string; reason?: string },
  actor: Actor,
): Promise<{ requestId: Id<"deletionRequests">; existing: boolean }> {
  if (args.userId !== undefined) {
    const open = await openRequestOf(ctx, args.userId);
    if (open !== null) return { requestId: open._id, existing: true };
  }
  const now = Date.now();
  const requestId = await ctx.db.insert("deletionRequests", {
    userId: args.userId,
    clerkUserId: args.clerkUserId,
    requestedAt: now,
    source: args.source,
    status: "requested",
    requestedBy: args.requestedBy,
    reason: args.reason,
    steps: newSteps(),
    updatedAt: now,
  });
  await audit(ctx, actor, "account.deletion_requested", target(requestId), args.reason, { source: args.source });
  await ctx.scheduler.runAfter(0, internal.privacy.process.run, { requestId });
  return { requestId, existing: false };
}

/**
 * A request written elsewhere (the Clerk webhook's insert) joins the process: its steps start,
 * unless the account already has an open request, which then carries the deletion alone.
 */
export async function startDeletion(ctx: MutationCtx, requestId: Id<"deletionRequests">): Promise<void> {
  const request = await ctx.db.get("deletionRequests", requestId);
  if (request === null || request.steps !== undefined) return;
  if (request.userId !== undefined) {
    const others = await ctx.db.query("deletionRequests").withIndex("by_userId", (q) => q.eq("userId", request.userId)).take(10);
    const carrier = others.find((r) => r._id !== requestId && r.status !== "done");
    if (carrier !== undefined) {
      const at = Date.now();
      const steps = newSteps().map((s) => ({ ...s, status: "done" as const, finishedAt: at, note: `carried out by request ${carrier._id}` }));
      await save(ctx, request, steps, { userId: undefined, clerkUserId: undefined, finishedAt: at });
      return;
    }
  }
  await save(ctx, request, newSteps());
  await ctx.scheduler.runAfter(0, internal.privacy.process.run, { requestId });
}

// ---------------------------------------------------------------------------------------------
// The steps done inside the runner's mutation. Each returns a note for the progress view, or
// `{ wait }` to be looked at again later.

type Outcome = { note: string } | { wait: number; note: string } | { continue: Partial<Request>; note: string };

/** Access ends now: identity deprovisioning (no retention wait), account canceled, credentials revoked. */
async function blockAccess(ctx: MutationCtx, request: Request): Promise<Outcome> {
  if (request.userId === undefined) return { note: "no account: nothing to stop" };
  const user = await ctx.db.get("users", request.userId);
  if (user === null) return { note: "the account row is already gone" };
  const now = Date.now();
  const done: string[] = [];
  // Before the cancel event: followAccount would otherwise deprovision with the usual retention
  // (the Workspace user kept for IDENTITY_RETENTION_DAYS); a deletion keeps nothing.
  const live = await liveIdentity(ctx, user._id);
  if (live !== null) {
    await applyRequested(ctx, live, { type: "cancel", at: now, retentionDays: 0 });
    await ctx.db.patch("identities", live._id, { canceledAt: now });
    await audit(ctx, DELETION_ACTOR, "identity.deprovisioning_started", { type: "identity", id: live._id }, "account deletion", { deletionRequestId: request._id });
    await advance(ctx, live._id);
    done.push("identity deprovisioning started");
  }
  if (user.state !== "canceled") {
    await applyStateEvent(ctx, user, { type: "cancel" }, DELETION_ACTOR, "account deletion");
    done.push("account canceled");
  }
  const keys = await ctx.db.query("apiKeys").withIndex("by_userId_and_revokedAt", (q) => q.eq("userId", user._id).eq("revokedAt", undefined)).take(500);
  for (const key of keys) await ctx.db.patch("apiKeys", key._id, { revokedAt: now, graceEndsAt: undefined });
  const grants = await ctx.db.query("oauthGrants").withIndex("by_userId_and_revokedAt", (q) => q.eq("userId", user._id).eq("revokedAt", undefined)).take(500);
  for (const grant of grants) {
    await ctx.db.patch("oauthGrants", grant._id, { revokedAt: now, revokedBy: request.source === "support" ? "support" : "user" });
    const tokens = await ctx.db.query("oauthTokens").withIndex("by_grantId_and_expiresAt", (q) => q.eq("grantId", grant._id)).take(200);
    for (const token of tokens) if (token.revokedAt === undefined) await ctx.db.patch("oauthTokens", token._id, { revokedAt: now });
  }
  // Credentials and browser session tokens stop working now, through the credentials domain's
  // own revocation (audited like support's).
  const revokedCredentials = await revokeAllCredentials(ctx, user._id, DELETION_ACTOR, "account deleted", now);
  await endSessions(ctx, user._id, now);
  done.push(`${keys.length} API key(s), ${grants.length} grant(s), ${revokedCredentials} credential(s) revoked`);
  return { note: done.join("; ") };
}

/**
 * Waits until nothing more will arrive for the person: the provider confirmed each cancellation
 * (its webhook ended the subscription), every identity is deprovisioned, and the usage rollup
 * folded the last events (raw events are deleted, the rollups kept). Bounded by
 * AWAIT_PROVIDERS_MAX_MS: past it the deletion goes on and the note says what was missing.
 */
async function awaitProviders(ctx: MutationCtx, request: Request, step: Step): Promise<Outcome> {
  if (request.userId === undefined) return { note: "no account: nothing to wait for" };
  const userId = request.userId;
  const now = Date.now();
  const open = (await ctx.db.query("subscriptions").withIndex("by_userId", (q) => q.eq("userId", userId)).take(50)).filter((s) => !s.ended).length;
  const identities = (await ctx.db.query("identities").withIndex("by_userId", (q) => q.eq("userId", userId)).take(50)).filter((i) => i.phase !== "deprovisioned").length;
  const cursor = (await ctx.db.query("rollupState").withIndex("by_name", (q) => q.eq("name", ROLLUP_CURSOR)).unique())?.cursor ?? 0;
  const unfolded = (await ctx.db.query("usageEvents").withIndex("by_userId_and_at", (q) => q.eq("userId", userId).gt("at", cursor)).first()) !== null;
  const missing = [
    ...(open > 0 ? [`${open} subscription(s) not yet ended by the provider`] : []),
    ...(identities > 0 ? [`${identities} identity(ies) still deprovisioning`] : []),
    ...(unfolded ? ["usage events not yet rolled up"] : []),
  ];
  if (missing.length === 0) return { note: "providers confirmed; identity deprovisioned; usage rolled up" };
  if (now - (step.startedAt ?? now) >= AWAIT_PROVIDERS_MAX_MS) return { note: `went on without: ${missing.join(", ")}` };
  return { wait: AWAIT_POLL_MS, note: `waiting: ${missing.join(", ")}` };
}

/** The random users row that carries what is kept (invoices, rollups): nothing in it is the person's. */
async function ensureTombstone(ctx: MutationCtx, request: Request): Promise<Id<"users">> {
  if (request.tombstoneId !== undefined) return request.tombstoneId;
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  const random = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  const user = request.userId === undefined ? null : await ctx.db.get("users", request.userId);
  return await ctx.db.insert("users", {
    tokenIdentifier: `tombstone|${random}`,
    email: `deleted-${random}@tombstone.invalid`,
    role: "user",
    state: "canceled",
    plan: user?.plan ?? "trial",
    lastSeenAt: 0,
  });
}

async function erase(ctx: MutationCtx, request: Request): Promise<Outcome> {
  const tombstoneId = await ensureTombstone(ctx, request);
  const cursor = request.eraseCursor ?? ERASE_START;
  const next = await eraseBatch(ctx, request, tombstoneId, cursor);
  if (next === null) return { note: `${cursor.rows} row(s) erased or re-keyed to the tombstone` };
  return { continue: { tombstoneId, eraseCursor: next }, note: `${next.rows} row(s) so far` };
}

/** The account row goes; the request forgets whom it was about and keeps the tombstone. */
async function finalize(ctx: MutationCtx, request: Request): Promise<Outcome> {
  // Support's reason may quote the person; the request keeps it only if it does not.
  if (request.reason !== undefined && mentions(request.reason, personalStrings(await subjectOf(ctx, request)))) {
    await ctx.db.patch("deletionRequests", request._id, { reason: REMOVED_TEXT });
  }
  if (request.userId !== undefined && (await ctx.db.get("users", request.userId)) !== null) {
    await ctx.db.delete("users", request.userId);
  }
  return { note: request.tombstoneId === undefined ? "nothing was kept" : "account removed; invoices and aggregated usage kept under the tombstone" };
}

const MUTATION_STEPS: Partial<Record<StepName, (ctx: MutationCtx, request: Request, step: Step) => Promise<Outcome>>> = {
  block_access: blockAccess,
  await_providers: awaitProviders,
  erase,
  finalize,
};

async function runHandler(ctx: MutationCtx, { requestId }: { requestId: Id<"deletionRequests"> }): Promise<null> {
  const request = await ctx.db.get("deletionRequests", requestId);
  if (request === null || request.status === "done") return null;
  const steps = request.steps ?? newSteps();
  const step = currentStep(steps);
  const now = Date.now();
  if (step === null || step.status === "failed") return null;
  // A retry's backoff or a wait: a run before then (a sweep, a duplicate) leaves it alone.
  if (request.wakeAt !== undefined && request.wakeAt > now) return null;
  if (step.name === "cancel_subscription") {
    if (step.status === "running" && !isStale(step, request.updatedAt ?? now, now)) return null;
    await save(ctx, request, startStep(steps, step.name, now), { wakeAt: undefined });
    await ctx.scheduler.runAfter(0, internal.privacy.providers.cancelSubscriptions, { requestId });
    return null;
  }
  const work = MUTATION_STEPS[step.name]!;
  const started = step.status === "running" ? steps : startStep(steps, step.name, now);
  let outcome: Outcome;
  try {
    outcome = await work(ctx, request, started.find((s) => s.name === step.name)!);
  } catch (e) {
    // The work done before the throw stays (each step is idempotent); the step is retried.
    const failed = failStep(started, step.name, now, (e as Error).message);
    await save(ctx, request, failed.steps, { wakeAt: failed.retryAt ?? undefined });
    if (failed.retryAt !== null) await ctx.scheduler.runAt(failed.retryAt, internal.privacy.process.run, { requestId });
    else await audit(ctx, DELETION_ACTOR, "account.deletion_step_failed", target(requestId), (e as Error).message.slice(0, 500), { step: step.name });
    return null;
  }
  if ("wait" in outcome) {
    await save(ctx, request, noteStep(started, step.name, outcome.note), { wakeAt: now + outcome.wait });
    await ctx.scheduler.runAfter(outcome.wait, internal.privacy.process.run, { requestId });
    return null;
  }
  if ("continue" in outcome) {
    await save(ctx, request, noteStep(started, step.name, outcome.note), { ...outcome.continue, wakeAt: undefined });
    await ctx.scheduler.runAfter(0, internal.privacy.process.run, { requestId });
    return null;
  }
  const completed = completeStep(started, step.name, now, outcome.note);
  await audit(ctx, DELETION_ACTOR, `account.deletion_${step.name}`, target(requestId), undefined, { note: outcome.note.slice(0, 200) });
  if (step.name === "finalize") {
    await save(ctx, request, completed, { userId: undefined, clerkUserId: undefined, finishedAt: now, wakeAt: undefined, eraseCursor: undefined });
    await audit(ctx, DELETION_ACTOR, "account.deleted", target(requestId), undefined, request.tombstoneId === undefined ? {} : { tombstoneId: request.tombstoneId });
    return null;
  }
  await save(ctx, request, completed, { wakeAt: undefined });
  await ctx.scheduler.runAfter(0, internal.privacy.process.run, { requestId });
  return null;
}

export const run = internalMutation({
  args: { requestId: v.id("deletionRequests") },
  returns: v.null(),
  handler: runHandler,
});

/** The cancel action's result, recorded on the request; the runner goes on (or retries). */
export const recordCancel = internalMutation({
  args: {
    requestId: v.id("deletionRequests"),
    result: v.union(v.object({ ok: v.literal(true), note: v.string() }), v.object({ ok: v.literal(false), error: v.string() })),
  },
  returns: v.null(),
  handler: async (ctx, { requestId, result }) => {
    const request = await ctx.db.get("deletionRequests", requestId);
    if (request === null || request.steps === undefined) return null;
    const step = currentStep(request.steps);
    // A late or repeated result for a step already recorded changes nothing.
    if (step === null || step.name !== "cancel_subscription" || step.status !== "running") return null;
    const now = Date.now();
    if (result.ok) {
      await save(ctx, request, completeStep(request.steps, step.name, now, result.note));
      await audit(ctx, DELETION_ACTOR, "account.deletion_cancel_subscription", target(requestId), undefined, { note: result.note.slice(0, 200) });
      await ctx.scheduler.runAfter(0, internal.privacy.process.run, { requestId });
      return null;
    }
    const failed = failStep(request.steps, step.name, now, result.error);
    await save(ctx, request, failed.steps, { wakeAt: failed.retryAt ?? undefined });
    if (failed.retryAt !== null) await ctx.scheduler.runAt(failed.retryAt, internal.privacy.process.run, { requestId });
    else await audit(ctx, DELETION_ACTOR, "account.deletion_step_failed", target(requestId), result.error.slice(0, 500), { step: step.name });
    return null;
  },
});

/** What cancel_subscription needs: the account's subscriptions that have not ended. */
export const liveSubscriptions = internalQuery({
  args: { requestId: v.id("deletionRequests") },
  returns: v.array(v.object({ provider: v.union(v.literal("stripe"), v.literal("polar")), providerSubscriptionId: v.string() })),
  handler: async (ctx, { requestId }) => {
    const request = await ctx.db.get("deletionRequests", requestId);
    if (request?.userId === undefined) return [];
    const userId = request.userId;
    const rows = await ctx.db.query("subscriptions").withIndex("by_userId", (q) => q.eq("userId", userId)).take(50);
    return rows.filter((s) => !s.ended).map((s) => ({ provider: s.provider, providerSubscriptionId: s.providerSubscriptionId }));
  },
});

const SWEEP_BATCH = 50;

/**
 * Re-kicks open requests whose scheduled run was lost (a restart, an action that never reported):
 * those due (wakeAt passed) or whose running step has not moved for STALE_RUNNING_MS. A request
 * still moving is left alone by the runner's own checks.
 */
export const sweep = internalMutation({
  args: {},
  returns: v.number(),
  handler: async (ctx) => {
    const now = Date.now();
    let kicked = 0;
    for (const status of ["requested", "in_progress"] as const) {
      const rows = await ctx.db.query("deletionRequests").withIndex("by_status_and_requestedAt", (q) => q.eq("status", status)).take(SWEEP_BATCH);
      for (const r of rows) {
        if (r.steps === undefined) {
          await startDeletion(ctx, r._id);
          kicked += 1;
          continue;
        }
        const step = currentStep(r.steps);
        if (step === null || step.status === "failed") continue;
        const due = r.wakeAt === undefined ? now - (r.updatedAt ?? r.requestedAt) > 60_000 : r.wakeAt <= now;
        if (due || isStale(step, r.updatedAt ?? r.requestedAt, now)) {
          if (isStale(step, r.updatedAt ?? r.requestedAt, now) && step.name === "cancel_subscription") {
            // The action never reported: run the step again from pending (the cancel is idempotent).
            await ctx.db.patch("deletionRequests", r._id, {
              steps: r.steps.map((s) => (s.name === step.name ? { ...s, status: "pending" as const } : s)),
              updatedAt: now,
            });
          }
          await ctx.scheduler.runAfter(0, internal.privacy.process.run, { requestId: r._id });
          kicked += 1;
        }
      }
    }
    return kicked;
  },
});
