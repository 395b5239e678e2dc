// Account lookups and the changes people make to accounts (creation, plan, state, role).
// Each change goes through the pure model (state machine, plan override) and writes an audit
// row in the same transaction, so there is never a change without a record.
import type { UserIdentity } from "convex/server";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { fail } from "./errors";
import {
  type AccountEvent,
  IllegalTransitionError,
  startTrial,
  transition,
} from "../model/accounts/accountState";
import { normalizeEmail as normalizeEmailAddress } from "../model/accounts/email";
import { planOverride } from "../model/accounts/planChange";
import { PLANS, type PlanId } from "../model/plans";
import { type Actor, audit } from "./audit";
import { followAccount } from "../identity/lifecycle";

const DAY = 24 * 60 * 60 * 1000;

export type Role = Doc<"users">["role"];

/** The stored form of an address; a clear INVALID_ARGUMENT when it is not one. */
export function normalizeEmail(email: string): string {
  const e = normalizeEmailAddress(email);
  if (e === null) fail("INVALID_ARGUMENT", `"${email}" is not an email address.`);
  return e;
}

/** Placeholder identity for accounts created before their owner first signs in. */
export function unclaimedTokenIdentifier(email: string): string {
  return `unclaimed|${email}`;
}

export function isClaimed(user: Doc<"users">): boolean {
  return !user.tokenIdentifier.startsWith("unclaimed|");
}

export async function userFromIdentity(ctx: QueryCtx, identity: UserIdentity): Promise<Doc<"users"> | null> {
  return await userByTokenIdentifier(ctx, identity.tokenIdentifier);
}

export async function userByTokenIdentifier(ctx: QueryCtx, tokenIdentifier: string): Promise<Doc<"users"> | null> {
  return await ctx.db
    .query("users")
    .withIndex("by_tokenIdentifier", (q) => q.eq("tokenIdentifier", tokenIdentifier))
    .unique();
}

export async function userByEmail(ctx: QueryCtx, email: string): Promise<Doc<"users"> | null> {
  return await ctx.db
    .query("users")
    .withIndex("by_email", (q) => q.eq("email", normalizeEmail(email)))
    .first();
}

export async function requireUserByEmail(ctx: QueryCtx, email: string): Promise<Doc<"users">> {
  const user = await userByEmail(ctx, email);
  if (user === null) fail("NOT_FOUND", `No account has the email ${email}.`);
  return user;
}

export async function requireAccount(ctx: QueryCtx, userId: Id<"users">): Promise<Doc<"users">> {
  const user = await ctx.db.get("users", userId);
  if (user === null) fail("NOT_FOUND", "That account does not exist (it may have been deleted).");
  return user;
}

function trialEndsAt(now: number): number {
  return now + (PLANS.trial.trialDays ?? 14) * DAY;
}

/**
 * The one way an account comes to exist, with an audit row: a trial (14 days), or, when a
 * signup was refused at first sign-in, a `pending` account that keeps the reason the person
 * sees until a later attempt passes. Signup creates the caller's own (actor "self"); the CLI
 * creates one for an email before its owner signs in.
 */
export async function createAccount(
  ctx: MutationCtx,
  fields: { tokenIdentifier: string; email: string; name?: string; role: Role },
  actor: Actor | "self",
  refusal?: Doc<"users">["signupRefusal"],
): Promise<Id<"users">> {
  const email = normalizeEmail(fields.email);
  const now = Date.now();
  const userId = await ctx.db.insert("users", {
    tokenIdentifier: fields.tokenIdentifier,
    email,
    name: fields.name,
    role: fields.role,
    ...(refusal === undefined
      ? { state: startTrial(), trialEndsAt: trialEndsAt(now) }
      : { state: "pending" as const, signupRefusal: refusal }),
    plan: "trial",
    lastSeenAt: now,
  });
  const by = actor === "self" ? { id: userId, label: email } : actor;
  await audit(ctx, by, refusal === undefined ? "account.created" : "account.created_pending", { type: "user", id: userId },
    refusal?.message);
  return userId;
}

/** A pending account whose signup now passes: its trial starts (14 days from now). */
export async function startPendingTrial(ctx: MutationCtx, user: Doc<"users">, actor: Actor): Promise<void> {
  await applyStateEvent(ctx, user, { type: "trial_started" }, actor);
  await ctx.db.patch("users", user._id, { trialEndsAt: trialEndsAt(Date.now()), signupRefusal: undefined });
}

function requireReason(reason: string): string {
  const r = reason.trim();
  if (r.length < 3) fail("INVALID_ARGUMENT", "Give a reason (at least 3 characters); it goes in the audit log.");
  return r.slice(0, 500);
}

/** A plan set by support or the CLI (not by checkout): may also activate the account. */
export async function overridePlan(
  ctx: MutationCtx,
  user: Doc<"users">,
  plan: PlanId,
  actor: Actor,
  reason: string,
) {
  const why = requireReason(reason);
  const change = planOverride({ plan: user.plan, state: user.state }, plan);
  if ("error" in change) fail("ILLEGAL_TRANSITION", change.error);
  await ctx.db.patch("users", user._id, { plan: change.plan, state: change.state });
  await audit(ctx, actor, "account.plan_changed", { type: "user", id: user._id }, why, {
    fromPlan: user.plan,
    toPlan: change.plan,
    fromState: user.state,
    toState: change.state,
  });
  // A paid plan provisions an identity; a plan without one takes it down (identity/lifecycle.ts).
  await followAccount(ctx, user._id, actor);
  return change;
}

export async function applyStateEvent(
  ctx: MutationCtx,
  user: Doc<"users">,
  event: AccountEvent,
  actor: Actor,
  reason?: string,
) {
  let next;
  try {
    next = transition(user.state, event);
  } catch (e) {
    if (e instanceof IllegalTransitionError) fail("ILLEGAL_TRANSITION", e.message);
    throw e;
  }
  await ctx.db.patch("users", user._id, {
    state: next,
    stateBeforeSuspension: event.type === "admin_suspend" ? user.state : undefined,
  });
  await audit(ctx, actor, `account.${event.type}`, { type: "user", id: user._id }, reason, {
    fromState: user.state,
    toState: next,
  });
  // Activation provisions the identity, suspension suspends it, cancellation deprovisions it.
  await followAccount(ctx, user._id, actor);
  return next;
}

export async function changeRole(
  ctx: MutationCtx,
  user: Doc<"users">,
  role: Role,
  actor: Actor,
  reason: string,
): Promise<void> {
  const why = requireReason(reason);
  await ctx.db.patch("users", user._id, { role });
  await audit(ctx, actor, "account.role_changed", { type: "user", id: user._id }, why, {
    fromRole: user.role,
    toRole: role,
  });
}
