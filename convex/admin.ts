// The support console's reads and actions. Support agents and admins only; every
// action writes an audit row (see convex/accounts.ts).
import { v } from "convex/values";
import { adminMutation, fail, supportMutation, supportQuery } from "./functions";
import { accountStateValidator, planValidator, roleValidator } from "./schema";
import { actorOf, applyStateEvent, changePlan, changeRole } from "./accounts";
import type { Doc, Id } from "./_generated/dataModel";
import type { QueryCtx } from "./_generated/server";

const accountRow = v.object({
  _id: v.id("users"),
  email: v.string(),
  name: v.optional(v.string()),
  role: roleValidator,
  state: accountStateValidator,
  plan: planValidator,
  lastSeenAt: v.number(),
});

function row(u: Doc<"users">) {
  return {
    _id: u._id,
    email: u.email,
    name: u.name,
    role: u.role,
    state: u.state,
    plan: u.plan,
    lastSeenAt: u.lastSeenAt,
  };
}

async function requireAccount(ctx: QueryCtx, userId: Id<"users">) {
  const user = await ctx.db.get(userId);
  if (user === null) fail("NOT_FOUND", "That account does not exist (it may have been deleted).");
  return user;
}

/** Accounts by email prefix, or the most recently seen ones. */
export const listAccounts = supportQuery({
  args: { search: v.optional(v.string()) },
  returns: v.array(accountRow),
  handler: async (ctx, { search }) => {
    const term = search?.trim().toLowerCase();
    if (term) {
      // Email prefix match through the index: "ada" finds ada@..., "ada@ex" narrows it.
      const users = await ctx.db
        .query("users")
        .withIndex("by_email", (q) => q.gte("email", term).lt("email", term + "\uffff"))
        .take(50);
      return users.map(row);
    }
    const users = await ctx.db.query("users").order("desc").take(50);
    return users.map(row);
  },
});

export const account = supportQuery({
  args: { userId: v.id("users") },
  handler: async (ctx, { userId }) => {
    const user = await requireAccount(ctx, userId);
    const [keys, usage, auditLog] = await Promise.all([
      ctx.db
        .query("apiKeys")
        .withIndex("by_userId", (q) => q.eq("userId", userId))
        .order("desc")
        .take(50),
      ctx.db
        .query("usageEvents")
        .withIndex("by_userId_and_at", (q) => q.eq("userId", userId))
        .order("desc")
        .take(25),
      ctx.db
        .query("auditLogs")
        .withIndex("by_targetType_and_targetId", (q) => q.eq("targetType", "user").eq("targetId", userId))
        .order("desc")
        .take(50),
    ]);
    return {
      account: { ...row(user), trialEndsAt: user.trialEndsAt, stateBeforeSuspension: user.stateBeforeSuspension },
      keys: keys.map((k) => ({
        _id: k._id,
        name: k.name,
        prefix: k.prefix,
        createdAt: k.createdAt,
        lastUsedAt: k.lastUsedAt,
        revokedAt: k.revokedAt,
        graceEndsAt: k.graceEndsAt,
      })),
      usage: usage.map((e) => ({
        _id: e._id,
        at: e.at,
        model: e.model,
        tokensIn: e.tokensIn,
        tokensOut: e.tokensOut,
        costMicros: e.costMicros,
        status: e.status,
      })),
      audit: auditLog.map((a) => ({
        _id: a._id,
        at: a.at,
        actor: a.actorLabel,
        action: a.action,
        reason: a.reason,
      })),
    };
  },
});

export const setPlan = supportMutation({
  args: { userId: v.id("users"), plan: planValidator, reason: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, plan, reason }) => {
    const user = await requireAccount(ctx, userId);
    await changePlan(ctx, user, plan, actorOf(ctx.user), reason);
    return null;
  },
});

export const suspend = supportMutation({
  args: { userId: v.id("users"), reason: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, reason }) => {
    const user = await requireAccount(ctx, userId);
    if (user._id === ctx.user._id) fail("FORBIDDEN", "You cannot suspend your own account.");
    await applyStateEvent(ctx, user, { type: "admin_suspend" }, actorOf(ctx.user), reason);
    return null;
  },
});

export const unsuspend = supportMutation({
  args: { userId: v.id("users"), reason: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, reason }) => {
    const user = await requireAccount(ctx, userId);
    const resumeTo = user.stateBeforeSuspension ?? "active";
    await applyStateEvent(ctx, user, { type: "admin_unsuspend", resumeTo }, actorOf(ctx.user), reason);
    return null;
  },
});

export const setRole = adminMutation({
  args: { userId: v.id("users"), role: roleValidator, reason: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, role, reason }) => {
    const user = await requireAccount(ctx, userId);
    if (user._id === ctx.user._id && role !== "admin") {
      fail("FORBIDDEN", "You cannot remove your own admin role; ask another admin.");
    }
    await changeRole(ctx, user, role, actorOf(ctx.user), reason);
    return null;
  },
});
