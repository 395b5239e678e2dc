// The support console's reads and actions on accounts. Support agents and admins only; every
// action goes through lib/accounts.ts, which writes an audit row in the same transaction.
import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import type { Doc } from "../_generated/dataModel";
import { adminMutation, supportMutation, supportQuery } from "../functions";
import { keySummaryValidator, summarizeKey } from "../lib/apiKeys";
import { applyStateEvent, changeRole, overridePlan, requireAccount } from "../lib/accounts";
import { actorOf } from "../lib/audit";
import { fail } from "../lib/errors";
import { pick } from "convex-helpers";
import { doc } from "convex-helpers/validators";
import schema from "../schema";
import { accountStateValidator, planValidator, roleValidator } from "../schema/validators";
import { normalizeEmailPrefix } from "../model/admin/search";
import { searchAccounts } from "./accountSearch";

const userDoc = doc(schema, "users").fields;
const ROW_FIELDS = ["_id", "email", "name", "role", "state", "plan", "lastSeenAt"] as const;
const accountRow = v.object(pick(userDoc, [...ROW_FIELDS]));

function row(u: Doc<"users">): typeof accountRow.type {
  return pick(u, [...ROW_FIELDS]);
}

/**
 * Accounts a page at a time, filtered by state and/or plan and an email prefix ("ada" finds
 * ada@..., "ada@ex" narrows it): filtered or searched lists are in email order; without either,
 * the most recently seen first. Every combination is one index range (accountSearch.ts).
 */
export const list = supportQuery({
  args: {
    search: v.optional(v.string()),
    state: v.optional(accountStateValidator),
    plan: v.optional(planValidator),
    paginationOpts: paginationOptsValidator,
  },
  returns: paginationResultValidator(accountRow),
  handler: async (ctx, { search, state, plan, paginationOpts }) => {
    const page = await searchAccounts(ctx, { state, plan, email: normalizeEmailPrefix(search) }, paginationOpts);
    return { ...page, page: page.page.map(row) };
  },
});

const accountDetail = v.object({
  account: v.object({
    ...accountRow.fields,
    ...pick(userDoc, ["trialEndsAt", "stateBeforeSuspension", "signupRefusal"]),
  }),
  keys: v.array(keySummaryValidator),
  usage: v.array(v.object({
    _id: v.id("usageEvents"),
    at: v.number(),
    model: v.string(),
    tokensIn: v.number(),
    tokensOut: v.number(),
    costMicros: v.number(),
    status: schema.tables.usageEvents.validator.fields.status,
  })),
  audit: v.array(v.object({
    _id: v.id("auditLogs"),
    at: v.number(),
    actor: v.string(),
    action: v.string(),
    reason: v.optional(v.string()),
  })),
});

/** One account with its keys, latest requests and audit trail. */
export const get = supportQuery({
  args: { userId: v.id("users") },
  returns: accountDetail,
  handler: async (ctx, { userId }) => {
    const account = await requireAccount(ctx, userId);
    const now = Date.now();
    const [keys, usage, auditLog] = await Promise.all([
      ctx.db.query("apiKeys").withIndex("by_userId", (q) => q.eq("userId", userId)).order("desc").take(50),
      ctx.db.query("usageEvents").withIndex("by_userId_and_at", (q) => q.eq("userId", userId)).order("desc").take(25),
      ctx.db
        .query("auditLogs")
        .withIndex("by_targetType_and_targetId", (q) => q.eq("targetType", "user").eq("targetId", userId))
        .order("desc")
        .take(50),
    ]);
    return {
      account: { ...row(account), ...pick(account, ["trialEndsAt", "stateBeforeSuspension", "signupRefusal"]) },
      keys: keys.map((k) => summarizeKey(k, now)),
      usage: usage.map((e) => ({
        _id: e._id,
        at: e.at,
        model: e.model,
        tokensIn: e.tokensIn,
        tokensOut: e.tokensOut,
        costMicros: e.costMicros,
        status: e.status,
      })),
      audit: auditLog.map((a) => ({ _id: a._id, at: a.at, actor: a.actorLabel, action: a.action, reason: a.reason })),
    };
  },
});

/** Support puts an account on a plan without checkout (a grant also activates a trial). */
export const overrideAccountPlan = supportMutation({
  args: { userId: v.id("users"), plan: planValidator, reason: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, plan, reason }) => {
    await overridePlan(ctx, await requireAccount(ctx, userId), plan, actorOf(ctx.user), reason);
    return null;
  },
});

export const suspend = supportMutation({
  args: { userId: v.id("users"), reason: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, reason }) => {
    const account = await requireAccount(ctx, userId);
    if (account._id === ctx.user._id) fail("FORBIDDEN", "You cannot suspend your own account.");
    await applyStateEvent(ctx, account, { type: "admin_suspend" }, actorOf(ctx.user), reason);
    return null;
  },
});

export const unsuspend = supportMutation({
  args: { userId: v.id("users"), reason: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, reason }) => {
    const account = await requireAccount(ctx, userId);
    const resumeTo = account.stateBeforeSuspension ?? "active";
    await applyStateEvent(ctx, account, { type: "admin_unsuspend", resumeTo }, actorOf(ctx.user), reason);
    return null;
  },
});

export const setRole = adminMutation({
  args: { userId: v.id("users"), role: roleValidator, reason: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, role, reason }) => {
    const account = await requireAccount(ctx, userId);
    if (account._id === ctx.user._id && role !== "admin") {
      fail("FORBIDDEN", "You cannot remove your own admin role; ask another admin.");
    }
    await changeRole(ctx, account, role, actorOf(ctx.user), reason);
    return null;
  },
});
