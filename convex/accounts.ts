// Account changes made by people other than the customer (support, admins, the CLI).
// Each change goes through the pure model (state machine, plan override) and writes
// an audit row in the same transaction, so there is never a change without a record.
import { v } from "convex/values";
import type { Doc, Id } from "./_generated/dataModel";
import type { MutationCtx, QueryCtx } from "./_generated/server";
import { fail, internalMutation, internalQuery } from "./functions";
import { planValidator, roleValidator } from "./schema";
import { type AccountEvent, IllegalTransitionError, startTrial, transition } from "./model/accountState";
import { normalizeEmail as normalizeEmailAddress } from "./model/email";
import { planOverride } from "./model/planChange";
import { PLANS, type PlanId } from "./model/plans";

const DAY = 24 * 60 * 60 * 1000;

export interface Actor {
  id?: Id<"users">;
  label: string;
}

export function actorOf(user: Doc<"users">): Actor {
  return { id: user._id, label: user.email };
}

export function normalizeEmail(email: string): string {
  const e = normalizeEmailAddress(email);
  if (e === null) fail("INVALID_ARGUMENT", `"${email}" is not an email address.`);
  return e;
}

/** Placeholder identity for accounts created before their owner first signs in. */
export function unclaimedTokenIdentifier(email: string): string {
  return `unclaimed|${email}`;
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

export async function audit(
  ctx: MutationCtx,
  actor: Actor,
  action: string,
  target: { type: string; id: string },
  reason?: string,
  metadata?: Record<string, string | number | boolean | null>,
) {
  await ctx.db.insert("auditLogs", {
    actorId: actor.id,
    actorLabel: actor.label,
    action,
    targetType: target.type,
    targetId: target.id,
    reason,
    metadata,
    at: Date.now(),
  });
}

function requireReason(reason: string): string {
  const r = reason.trim();
  if (r.length < 3) fail("INVALID_ARGUMENT", "Give a reason (at least 3 characters); it goes in the audit log.");
  return r.slice(0, 500);
}

export async function changePlan(
  ctx: MutationCtx,
  user: Doc<"users">,
  plan: PlanId,
  actor: Actor,
  reason: string,
) {
  const why = requireReason(reason);
  const change = planOverride({ plan: user.plan, state: user.state }, plan);
  if ("error" in change) fail("ILLEGAL_TRANSITION", change.error);
  await ctx.db.patch(user._id, { plan: change.plan, state: change.state });
  await audit(ctx, actor, "account.plan_changed", { type: "user", id: user._id }, why, {
    fromPlan: user.plan,
    toPlan: change.plan,
    fromState: user.state,
    toState: change.state,
  });
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
  await ctx.db.patch(user._id, {
    state: next,
    stateBeforeSuspension: event.type === "admin_suspend" ? user.state : undefined,
  });
  await audit(ctx, actor, `account.${event.type}`, { type: "user", id: user._id }, reason, {
    fromState: user.state,
    toState: next,
  });
  return next;
}

export async function changeRole(
  ctx: MutationCtx,
  user: Doc<"users">,
  role: Doc<"users">["role"],
  actor: Actor,
  reason: string,
) {
  const why = requireReason(reason);
  await ctx.db.patch(user._id, { role });
  await audit(ctx, actor, "account.role_changed", { type: "user", id: user._id }, why, {
    fromRole: user.role,
    toRole: role,
  });
}

// ---- Internal functions for the admin CLI (admin key only) ----

const cliActor: Actor = { label: "cli" };

export const create = internalMutation({
  args: { email: v.string(), plan: v.optional(planValidator), role: v.optional(roleValidator) },
  returns: v.id("users"),
  handler: async (ctx, args) => {
    const email = normalizeEmail(args.email);
    if ((await userByEmail(ctx, email)) !== null) {
      fail("CONFLICT", `An account with the email ${email} already exists.`);
    }
    const now = Date.now();
    const userId = await ctx.db.insert("users", {
      tokenIdentifier: unclaimedTokenIdentifier(email),
      email,
      role: args.role ?? "user",
      state: startTrial(),
      plan: "trial",
      trialEndsAt: now + (PLANS.trial.trialDays ?? 14) * DAY,
      lastSeenAt: now,
    });
    await audit(ctx, cliActor, "account.created", { type: "user", id: userId });
    const user = (await ctx.db.get(userId))!;
    if (args.plan && args.plan !== "trial") {
      await changePlan(ctx, user, args.plan, cliActor, "created from the CLI");
    }
    return userId;
  },
});

export const show = internalQuery({
  args: { email: v.string() },
  handler: async (ctx, { email }) => {
    const user = await requireUserByEmail(ctx, email);
    const keys = await ctx.db
      .query("apiKeys")
      .withIndex("by_userId", (q) => q.eq("userId", user._id))
      .order("desc")
      .take(50);
    const auditLog = await ctx.db
      .query("auditLogs")
      .withIndex("by_targetType_and_targetId", (q) => q.eq("targetType", "user").eq("targetId", user._id))
      .order("desc")
      .take(20);
    return {
      id: user._id,
      email: user.email,
      name: user.name ?? null,
      role: user.role,
      state: user.state,
      plan: user.plan,
      trialEndsAt: user.trialEndsAt ?? null,
      claimed: !user.tokenIdentifier.startsWith("unclaimed|"),
      keys: keys.map((k) => ({
        id: k._id,
        name: k.name,
        prefix: k.prefix,
        createdAt: k.createdAt,
        lastUsedAt: k.lastUsedAt ?? null,
        revokedAt: k.revokedAt ?? null,
      })),
      audit: auditLog.map((a) => ({ at: a.at, actor: a.actorLabel, action: a.action, reason: a.reason ?? null })),
    };
  },
});

export const setRole = internalMutation({
  args: { email: v.string(), role: roleValidator, reason: v.optional(v.string()) },
  returns: v.null(),
  handler: async (ctx, { email, role, reason }) => {
    const user = await requireUserByEmail(ctx, email);
    await changeRole(ctx, user, role, cliActor, reason ?? "set from the CLI");
    return null;
  },
});

export const setPlan = internalMutation({
  args: { email: v.string(), plan: planValidator, reason: v.string() },
  returns: v.object({ plan: planValidator, state: v.string() }),
  handler: async (ctx, { email, plan, reason }) => {
    const user = await requireUserByEmail(ctx, email);
    const change = await changePlan(ctx, user, plan, cliActor, reason);
    return { plan: change.plan, state: change.state };
  },
});
