// One identity step as workpool work. The runner (lifecycle.ts `advance`) enqueues `run` on the
// identityPool with STEP_RETRY and `recordOutcome` as onComplete; the workpool's status is the
// record of attempts and backoff, the row keeps the workId and the business state.
//
// `run` classifies every provider answer once (providers/identity/types.ts): what may pass on
// another attempt is thrown (the workpool retries with backoff; `noteRetry` puts the error on the
// row meanwhile), everything else comes back as an outcome that `recordOutcome` applies in ONE
// mutation: done (with the facts the step produced), captcha, rate limited, failed (+ alert), or
// not ready upstream yet (deferred: re-enqueued for later under a new workId, NOT_READY_RETRY).
// Every step is idempotent on retry: the Workspace user is looked up by its address before it is
// created (the address is reserved on the row first), the Telnyx order is found by its
// customer_reference (the account id) before one is placed, and the release steps treat
// "already gone" as done.
import { vOnCompleteArgs, type RunResult } from "@convex-dev/workpool";
import { v, type Infer } from "convex/values";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { env, type ActionCtx, type MutationCtx } from "../_generated/server";
import { internalAction, internalMutation } from "../functions";
import { audit } from "../lib/audit";
import { findStep, IllegalStepEventError, type StepName } from "../model/identity/provisioning";
import { generatePassword, seal, SealedSecretError, shortId, unseal, workspaceAddress } from "../model/identity/secrets";
import * as google from "../providers/identity/google";
import * as signal from "../providers/identity/signal";
import * as telnyx from "../providers/identity/telnyx";
import { RetryableProviderError, type ProviderFailure } from "../providers/identity/types";
import { identityStepNameValidator } from "../schema/identity";
import {
  advance,
  alertStepFailed,
  applyEvent,
  enqueueStep,
  IDENTITY_ACTOR,
  machineOf,
  NOT_READY_RETRY,
  notReadyDelayMs,
  SIGNAL_CODE_TIMEOUT_MS,
  type IdentityDoc,
} from "./lifecycle";

/** Signal did not say when its lockout ends: the person may try again after this. */
const DEFAULT_SIGNAL_LOCKOUT_MS = 60 * 60 * 1000;
/** Fresh addresses tried before the step gives up this attempt (a collision is rare: 40 bits). */
const ADDRESS_TRIES = 5;

const factsValidator = v.object({
  workspaceUserId: v.optional(v.string()),
  phoneNumber: v.optional(v.string()),
  telnyxNumberId: v.optional(v.string()),
  telnyxOrderId: v.optional(v.string()),
  telnyxMessagingProfileId: v.optional(v.string()),
});
type StepFacts = Infer<typeof factsValidator>;

const outcomeValidator = v.union(
  v.object({ kind: v.literal("done"), facts: factsValidator }),
  v.object({ kind: v.literal("captcha"), message: v.string() }),
  v.object({ kind: v.literal("rate_limited"), until: v.number(), message: v.string() }),
  v.object({ kind: v.literal("failed"), error: v.string(), alert: v.boolean() }),
  /** Upstream not ready yet (a new Google user, a pending number order): deferred, not retried. */
  v.object({ kind: v.literal("not_ready"), error: v.string() }),
  v.object({ kind: v.literal("stale") }),
);
type StepOutcome = Infer<typeof outcomeValidator>;

const stepArgs = { identityId: v.id("identities"), step: identityStepNameValidator };

// ---- the attempt's view of the row ----

const attemptFacts = v.union(
  v.null(),
  v.object({
    userId: v.id("users"),
    workspaceEmail: v.optional(v.string()),
    workspacePasswordSealed: v.optional(v.string()),
    phoneNumber: v.optional(v.string()),
    telnyxNumberId: v.optional(v.string()),
  }),
);

/** Counts the attempt in (the row's `attempts`) and hands the action what it needs; null when the step no longer runs. */
async function beginAttemptHandler(ctx: MutationCtx, args: { identityId: Id<"identities">; step: StepName }): Promise<Infer<typeof attemptFacts>> {
  const row = await ctx.db.get("identities", args.identityId);
  if (row === null || findStep(machineOf(row), args.step)?.status !== "running") return null;
  await applyEvent(ctx, row, { type: "attempt_started", step: args.step, at: Date.now() });
  return {
    userId: row.userId,
    workspaceEmail: row.workspaceEmail,
    workspacePasswordSealed: row.workspacePasswordEncrypted,
    phoneNumber: row.phoneNumber,
    telnyxNumberId: row.telnyxNumberId,
  };
}

export const beginAttempt = internalMutation({ args: stepArgs, returns: attemptFacts, handler: beginAttemptHandler });

/** A retryable failure: on the row while the workpool waits to try again. */
export const noteRetry = internalMutation({
  args: { ...stepArgs, error: v.string() },
  returns: v.null(),
  handler: async (ctx, { identityId, step, error }) => {
    const row = await ctx.db.get("identities", identityId);
    if (row === null || findStep(machineOf(row), step)?.status !== "running") return null;
    await applyEvent(ctx, row, { type: "step_retrying", step, error: error.slice(0, 500), at: Date.now() });
    return null;
  },
});

/**
 * Reserves a Workspace address (and the sealed password) on the row before the user is created,
 * so a retry after a crash looks up this same address instead of making a second user. False
 * when another identity holds the address or this row already has one.
 */
export const reserveAddress = internalMutation({
  args: { identityId: v.id("identities"), address: v.string(), passwordSealed: v.optional(v.string()) },
  returns: v.boolean(),
  handler: async (ctx, { identityId, address, passwordSealed }) => {
    const row = await ctx.db.get("identities", identityId);
    if (row === null || row.workspaceEmail !== undefined) return false;
    const taken = await ctx.db.query("identities").withIndex("by_workspaceEmail", (q) => q.eq("workspaceEmail", address)).first();
    if (taken !== null) return false;
    await ctx.db.patch("identities", identityId, { workspaceEmail: address, workspacePasswordEncrypted: passwordSealed });
    return true;
  },
});

/** An alias or group owns the reserved address: forget it so the next attempt picks another. */
export const releaseAddress = internalMutation({
  args: { identityId: v.id("identities"), address: v.string() },
  returns: v.null(),
  handler: async (ctx, { identityId, address }) => {
    const row = await ctx.db.get("identities", identityId);
    if (row !== null && row.workspaceEmail === address && row.workspaceUserId === undefined) {
      await ctx.db.patch("identities", identityId, { workspaceEmail: undefined, workspacePasswordEncrypted: undefined });
    }
    return null;
  },
});

// ---- the action ----

function failed(failure: ProviderFailure): StepOutcome {
  switch (failure.kind) {
    case "captcha_required":
      return { kind: "captcha", message: failure.message };
    case "rate_limited_until":
      return { kind: "rate_limited", until: failure.until ?? Date.now() + DEFAULT_SIGNAL_LOCKOUT_MS, message: failure.message };
    case "conflict":
      return { kind: "failed", error: `${failure.provider}: ${failure.message}`, alert: true };
    case "permanent":
      // A wrong SMS code is the person's to retry (a new registration); the rest is support's.
      return {
        kind: "failed",
        error: `${failure.provider}${failure.code ? ` (${failure.code})` : ""}: ${failure.message}`,
        alert: failure.code !== "invalid_code",
      };
  }
}

const notConfigured = (what: string, vars: string): StepOutcome => ({
  kind: "failed",
  error: `${what} is not configured on this deployment: set ${vars}.`,
  alert: true,
});

const done = (facts: StepFacts = {}): StepOutcome => ({ kind: "done", facts });

type Facts = NonNullable<Infer<typeof attemptFacts>>;

async function workspaceUser(ctx: ActionCtx, identityId: Id<"identities">, facts: Facts): Promise<StepOutcome> {
  const config = google.googleConfigFromEnv();
  const domain = env.WORKSPACE_DOMAIN;
  if (!config || !domain) {
    return notConfigured("Google Workspace", "GOOGLE_SERVICE_ACCOUNT_EMAIL, GOOGLE_SERVICE_ACCOUNT_PRIVATE_KEY, GOOGLE_ADMIN_EMAIL and WORKSPACE_DOMAIN");
  }
  const key = env.ENCRYPTION_KEY ?? "";
  let address = facts.workspaceEmail;
  let password: string | null = null;
  if (address !== undefined && facts.workspacePasswordSealed !== undefined && key) {
    password = await unseal(key, facts.workspacePasswordSealed);
  }
  // True when this attempt looked the address up itself and found it free: no attempt before it
  // used this address (it was not on the row), so ensureUser's own lookup would only repeat that
  // answer. An address already on the row may have a user an earlier attempt made: look it up.
  let checkedFree = false;
  for (let i = 0; address === undefined && i < ADDRESS_TRIES; i++) {
    const candidate = workspaceAddress(shortId(), domain);
    const existing = await google.getUser(config, candidate);
    if (existing.kind !== "ok") return failed(existing);
    if (existing.value !== null) continue;
    password = generatePassword();
    // Kept sealed (or not at all without ENCRYPTION_KEY): Dex reaches the mailbox by delegation.
    const passwordSealed = key ? await seal(key, password) : undefined;
    if (await ctx.runMutation(internal.identity.steps.reserveAddress, { identityId, address: candidate, passwordSealed })) {
      address = candidate;
      checkedFree = true;
    }
  }
  if (address === undefined) throw new RetryableProviderError("google", `No free address found in ${ADDRESS_TRIES} tries.`);
  const local = address.split("@")[0];
  const user = { primaryEmail: address, givenName: "Dex", familyName: local, password: password ?? generatePassword() };
  const result = checkedFree ? await insertChecked(config, user) : await google.ensureUser(config, user);
  if (result.kind === "ok") return done({ workspaceUserId: result.value.user.id });
  if (result.kind === "conflict") {
    await ctx.runMutation(internal.identity.steps.releaseAddress, { identityId, address });
    throw new RetryableProviderError("google", `${address} is taken by an alias or group; the next attempt picks a new address.`, 409);
  }
  return failed(result);
}

/**
 * users.insert for an address this attempt just saw free; a 409 (someone took it meanwhile) is
 * resolved as ensureUser does: a user under the address is ours only if the lookup finds one.
 */
async function insertChecked(config: google.GoogleConfig, user: google.NewUser): ReturnType<typeof google.ensureUser> {
  const inserted = await google.insertUser(config, user);
  if (inserted.kind === "ok") return { kind: "ok", value: { user: inserted.value, created: true } };
  if (inserted.kind !== "conflict") return inserted;
  const after = await google.getUser(config, user.primaryEmail);
  if (after.kind !== "ok") return after;
  return after.value ? { kind: "ok", value: { user: after.value, created: false } } : inserted;
}

/** Searches and orders tried within one attempt when the searched number keeps going to others. */
const NUMBER_RACE_TRIES = 3;

/**
 * ensureNumber, searching again at once when the order loses its number to a concurrent one
 * (Telnyx 85001): activations in a burst search at the same moment and see the same numbers.
 * That is a lost race, not a provider failing, so it gets no backoff; past NUMBER_RACE_TRIES it
 * is thrown for the workpool's retry like any retryable answer. Each try looks the account's
 * order up first (ensureNumber), so a retry never orders a second number.
 */
async function ensureNumberRacing(config: telnyx.TelnyxConfig, customerReference: string): ReturnType<typeof telnyx.ensureNumber> {
  for (let tries = 1; ; tries++) {
    try {
      return await telnyx.ensureNumber(config, customerReference);
    } catch (e) {
      if (tries >= NUMBER_RACE_TRIES || !(e instanceof RetryableProviderError && e.provider === "telnyx" && e.code === "85001")) throw e;
    }
  }
}

/**
 * A wait, not a failure: Google's user or mailbox not there yet right after the insert, a number
 * order Telnyx has not completed. Deferred at NOT_READY_RETRY's pace instead of spending the
 * workpool's retries (meant for outages) on it.
 */
class NotReadyError extends RetryableProviderError {}

function isNotReady(e: unknown): e is RetryableProviderError {
  if (e instanceof NotReadyError) return true;
  return e instanceof RetryableProviderError && e.provider === "google" && /user creation is not complete|mail service not enabled/i.test(e.message);
}

/** Steps whose run takes a sealed argument the outcome mutation does not have: never deferred. */
const DEFERRABLE: readonly StepName[] = ["workspace_user", "mailbox", "number_order", "messaging_profile", "workspace_suspend", "workspace_restore", "workspace_delete", "number_release"];

async function perform(ctx: ActionCtx, args: { identityId: Id<"identities">; step: StepName; sealed?: string }, facts: Facts): Promise<StepOutcome> {
  const key = env.ENCRYPTION_KEY ?? "";
  const googleConfig = () => google.googleConfigFromEnv();
  const telnyxConfig = () => telnyx.telnyxConfigFromEnv();
  const signalConfig = () => signal.signalConfigFromEnv();
  const phone = facts.phoneNumber;
  switch (args.step) {
    case "workspace_user":
      return await workspaceUser(ctx, args.identityId, facts);
    case "mailbox": {
      const config = googleConfig();
      if (!config) return notConfigured("Google Workspace", "the GOOGLE_* variables");
      if (!facts.workspaceEmail) return { kind: "failed", error: "No Workspace address on the identity.", alert: true };
      const probe = await google.probeMailbox(config, facts.workspaceEmail);
      return probe.kind === "ok" ? done() : failed(probe);
    }
    case "number_order": {
      const config = telnyxConfig();
      if (!config) return notConfigured("Telnyx", "TELNYX_API_KEY and TELNYX_MESSAGING_PROFILE_ID");
      const order = await ensureNumberRacing(config, facts.userId);
      if (order.kind !== "ok") return failed(order);
      if (!order.value.phoneNumber) throw new NotReadyError("telnyx", `Number order ${order.value.orderId} is ${order.value.status}; waiting for its number.`);
      return done({
        phoneNumber: order.value.phoneNumber,
        telnyxOrderId: order.value.orderId,
        ...(order.value.phoneNumberId ? { telnyxNumberId: order.value.phoneNumberId } : {}),
      });
    }
    case "messaging_profile": {
      const config = telnyxConfig();
      if (!config) return notConfigured("Telnyx", "TELNYX_API_KEY and TELNYX_MESSAGING_PROFILE_ID");
      if (!phone) return { kind: "failed", error: "No phone number on the identity.", alert: true };
      const assigned = await telnyx.assignMessagingProfile(config, phone);
      return assigned.kind === "ok" ? done({ telnyxMessagingProfileId: assigned.value.messagingProfileId }) : failed(assigned);
    }
    case "signal_register": {
      const config = signalConfig();
      if (!config) return notConfigured("Signal", "SIGNAL_CLI_URL");
      if (!phone) return { kind: "failed", error: "No phone number on the identity.", alert: true };
      const captcha = args.sealed ? await unseal(key, args.sealed) : undefined;
      const registered = await signal.register(config, phone, { captcha });
      return registered.kind === "ok" ? done() : failed(registered);
    }
    case "signal_verify": {
      const config = signalConfig();
      if (!config) return notConfigured("Signal", "SIGNAL_CLI_URL");
      if (!phone || !args.sealed) return { kind: "failed", error: "No Signal code to verify with; register again.", alert: false };
      const verified = await signal.verify(config, phone, await unseal(key, args.sealed));
      return verified.kind === "ok" ? done() : failed(verified);
    }
    case "signal_code":
      // Never enqueued: the code arrives on the Telnyx webhook.
      return { kind: "failed", error: "The SMS code step does not run on its own.", alert: true };
    case "workspace_suspend":
    case "workspace_restore":
    case "workspace_delete": {
      if (!facts.workspaceEmail) return done();
      const config = googleConfig();
      if (!config) return notConfigured("Google Workspace", "the GOOGLE_* variables");
      if (args.step === "workspace_delete") {
        const deleted = await google.deleteUser(config, facts.workspaceEmail);
        return deleted.kind === "ok" ? done() : failed(deleted);
      }
      const changed = args.step === "workspace_suspend" ? await google.suspendUser(config, facts.workspaceEmail) : await google.unsuspendUser(config, facts.workspaceEmail);
      if (changed.kind === "ok") return done();
      // Suspending a user that was never created (or is gone) leaves nothing to suspend.
      if (args.step === "workspace_suspend" && changed.kind === "permanent" && changed.status === 404) return done();
      return failed(changed);
    }
    case "signal_unregister": {
      if (!phone) return done();
      const config = signalConfig();
      if (!config) return notConfigured("Signal", "SIGNAL_CLI_URL");
      const gone = await signal.unregister(config, phone);
      return gone.kind === "ok" ? done() : failed(gone);
    }
    case "number_release": {
      if (!phone) return done();
      const config = telnyxConfig();
      if (!config) return notConfigured("Telnyx", "TELNYX_API_KEY");
      let id = facts.telnyxNumberId ?? null;
      if (id === null) {
        const found = await telnyx.findNumberId(config, phone);
        if (found.kind !== "ok") return failed(found);
        id = found.value;
      }
      if (id === null) return done();
      const released = await telnyx.releaseNumber(config, id);
      return released.kind === "ok" ? done() : failed(released);
    }
  }
}

async function runHandler(ctx: ActionCtx, args: { identityId: Id<"identities">; step: StepName; sealed?: string }): Promise<StepOutcome> {
  const facts = await ctx.runMutation(internal.identity.steps.beginAttempt, { identityId: args.identityId, step: args.step });
  if (facts === null) return { kind: "stale" };
  try {
    return await perform(ctx, args, facts);
  } catch (e) {
    // A secret sealed under another ENCRYPTION_KEY will not open on any attempt: stop now.
    if (e instanceof SealedSecretError) return { kind: "failed", error: e.message, alert: true };
    if (isNotReady(e) && DEFERRABLE.includes(args.step)) return { kind: "not_ready", error: e.message };
    // Provider messages never carry request bodies (a password, a code): safe on the row.
    const error = e instanceof RetryableProviderError ? e.message : `Unexpected error: ${(e as Error).message}`;
    await ctx.runMutation(internal.identity.steps.noteRetry, { identityId: args.identityId, step: args.step, error });
    throw e;
  }
}

export const run = internalAction({
  args: { ...stepArgs, sealed: v.optional(v.string()) },
  returns: outcomeValidator,
  handler: runHandler,
});

// ---- the outcome, in one mutation ----

async function stepFailed(ctx: MutationCtx, row: IdentityDoc, step: StepName, error: string, alert: boolean): Promise<void> {
  const updated = await applyEvent(ctx, row, { type: "step_failed", step, error: error.slice(0, 500), at: Date.now() });
  if (alert) await alertStepFailed(ctx, updated, step, error);
  await audit(ctx, IDENTITY_ACTOR, "identity.step_failed", { type: "identity", id: row._id }, error.slice(0, 500), { step, userId: row.userId });
}

type OutcomeArgs = { workId: string; context: { identityId: Id<"identities">; step: StepName }; result: RunResult<StepOutcome> };

/**
 * Never throws on an outcome the machine refuses (the workpool would keep calling back and the
 * step would look stuck): it is logged, without the outcome's details, and left as it is.
 */
async function recordOutcomeHandler(ctx: MutationCtx, args: OutcomeArgs): Promise<null> {
  try {
    return await applyOutcome(ctx, args);
  } catch (e) {
    if (!(e instanceof IllegalStepEventError)) throw e;
    console.error(`identity ${args.context.identityId}: the ${args.context.step} outcome does not apply: ${e.message}`);
    return null;
  }
}

async function applyOutcome(ctx: MutationCtx, args: OutcomeArgs): Promise<null> {
  const { identityId, step } = args.context;
  const row = await ctx.db.get("identities", identityId);
  const current = row === null ? undefined : findStep(machineOf(row), step);
  // A run support replaced, or one that finished after the row moved on: nothing to record.
  if (row === null || current?.status !== "running" || current.workId !== args.workId) return null;
  const now = Date.now();
  const result = args.result;
  if (result.kind === "success") {
    const outcome = result.returnValue;
    switch (outcome.kind) {
      case "done":
        await applyEvent(ctx, row, { type: "step_succeeded", step, at: now }, {
          ...outcome.facts,
          ...(step === "signal_verify" ? { signalCodeSealed: undefined, signalCodeReceivedAt: undefined } : {}),
        });
        break;
      case "captcha":
        await applyEvent(ctx, row, { type: "captcha_demanded", at: now });
        break;
      case "rate_limited":
        await applyEvent(ctx, row, { type: "rate_limited", until: outcome.until, at: now });
        break;
      case "failed":
        await stepFailed(ctx, row, step, outcome.error, outcome.alert);
        break;
      case "not_ready": {
        const error = outcome.error.slice(0, 500);
        if (now - (current.startedAt ?? now) >= NOT_READY_RETRY.giveUpAfterMs) {
          await stepFailed(ctx, row, step, `Still not ready after ${NOT_READY_RETRY.giveUpAfterMs / 60_000} minutes: ${error}`, true);
          break;
        }
        // The same run goes on later under a new workId; nothing else is due meanwhile.
        const workId = await enqueueStep(ctx, identityId, step, undefined, notReadyDelayMs(current.attempts ?? 1));
        await applyEvent(ctx, row, { type: "step_deferred", step, workId, error, at: now });
        return null;
      }
      case "stale":
        return null;
    }
  } else if (result.kind === "failed") {
    await stepFailed(ctx, row, step, `Gave up after ${current.attempts ?? "several"} attempts: ${result.error}`, true);
  } else {
    await stepFailed(ctx, row, step, "The run was canceled.", false);
  }
  await advance(ctx, identityId);
  return null;
}

export const recordOutcome = internalMutation({
  args: vOnCompleteArgs(v.object({ identityId: v.id("identities"), step: identityStepNameValidator })),
  returns: v.null(),
  handler: recordOutcomeHandler,
});

/**
 * A scheduled wake-up: the SMS code's deadline (the code step fails; the person can retry) or a
 * step due later (the Workspace deletion after retention). Then whatever is due starts.
 */
export const wake = internalMutation({
  args: { identityId: v.id("identities") },
  returns: v.null(),
  handler: async (ctx, { identityId }) => {
    const row = await ctx.db.get("identities", identityId);
    if (row === null) return null;
    const now = Date.now();
    const code = findStep(machineOf(row), "signal_code");
    if (code?.status === "waiting" && row.signalCodeSealed === undefined && now >= (code.startedAt ?? now) + SIGNAL_CODE_TIMEOUT_MS) {
      try {
        await stepFailed(ctx, row, "signal_code", `No SMS code from Signal arrived within ${SIGNAL_CODE_TIMEOUT_MS / 60_000} minutes.`, false);
      } catch (e) {
        if (!(e instanceof IllegalStepEventError)) throw e;
      }
    }
    await ctx.db.patch("identities", identityId, { wakeAt: undefined });
    await advance(ctx, identityId);
    return null;
  },
});

