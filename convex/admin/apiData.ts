// What the admin HTTP API (api.ts) reads and does, as internal functions: the same account
// search as the console (accountSearch.ts), the month's usage from the ledger's balance rows,
// and support's re-provisioning path (identity/manage.ts), under the admin key as the actor.
import { paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import { internalMutation, internalQuery } from "../functions";
import { fail } from "../lib/errors";
import { provisionByHand } from "../identity/manage";
import { accountStateValidator, planValidator } from "../schema/validators";
import { monthFiguresValidator } from "../schema/admin";
import { searchAccounts } from "./accountSearch";

const userOut = v.object({
  id: v.id("users"),
  email: v.string(),
  name: v.union(v.string(), v.null()),
  role: v.string(),
  state: v.string(),
  plan: v.string(),
  createdAt: v.number(),
  lastSeenAt: v.number(),
});

export const users = internalQuery({
  args: {
    state: v.optional(accountStateValidator),
    plan: v.optional(planValidator),
    email: v.optional(v.string()),
    paginationOpts: paginationOptsValidator,
  },
  returns: v.object({ data: v.array(userOut), cursor: v.union(v.string(), v.null()) }),
  handler: async (ctx, { state, plan, email, paginationOpts }) => {
    const page = await searchAccounts(ctx, { state, plan, email }, paginationOpts);
    return {
      data: page.page.map((u) => ({
        id: u._id,
        email: u.email,
        name: u.name ?? null,
        role: u.role,
        state: u.state,
        plan: u.plan,
        createdAt: Math.round(u._creationTime),
        lastSeenAt: u.lastSeenAt,
      })),
      cursor: page.isDone ? null : page.continueCursor,
    };
  },
});

const usageOut = v.object({
  userId: v.id("users"),
  email: v.union(v.string(), v.null()),
  tokensIn: v.number(),
  tokensOut: v.number(),
  characters: v.number(),
  costMicros: v.number(),
  requests: v.number(),
});

/** A month's aggregate (the overview's row, with when it was computed) and its per-user rows. */
export const usage = internalQuery({
  args: { month: v.string(), userId: v.optional(v.string()), paginationOpts: paginationOptsValidator },
  returns: v.union(
    v.object({ kind: v.literal("unknown_user") }),
    v.object({
      kind: v.literal("ok"),
      aggregate: v.union(v.null(), v.object({ ...monthFiguresValidator.fields, computedAt: v.number() })),
      users: v.array(usageOut),
      cursor: v.union(v.string(), v.null()),
    }),
  ),
  handler: async (ctx, { month, userId, paginationOpts }) => {
    const totals = await ctx.db.query("adminMonthlyTotals").withIndex("by_month", (q) => q.eq("month", month)).unique();
    const aggregate = totals === null ? null : (({ _id, _creationTime, month: _m, ...rest }) => (void _id, void _creationTime, void _m, rest))(totals);
    const out = async (row: { userId: import("../_generated/dataModel").Id<"users">; tokensIn: number; tokensOut: number; characters: number; costMicros: number; requests: number }) => ({
      userId: row.userId,
      email: (await ctx.db.get("users", row.userId))?.email ?? null,
      tokensIn: row.tokensIn,
      tokensOut: row.tokensOut,
      characters: row.characters,
      costMicros: row.costMicros,
      requests: row.requests,
    });
    if (userId !== undefined) {
      const id = ctx.db.normalizeId("users", userId);
      const user = id === null ? null : await ctx.db.get("users", id);
      if (id === null || user === null) return { kind: "unknown_user" as const };
      const row = await ctx.db.query("usageMonthly").withIndex("by_userId_and_month", (q) => q.eq("userId", id).eq("month", month)).unique();
      const figures = row ?? { userId: id, tokensIn: 0, tokensOut: 0, characters: 0, costMicros: 0, requests: 0 };
      return { kind: "ok" as const, aggregate, users: [await out(figures)], cursor: null };
    }
    const page = await ctx.db.query("usageMonthly").withIndex("by_month", (q) => q.eq("month", month)).paginate(paginationOpts);
    return { kind: "ok" as const, aggregate, users: await Promise.all(page.page.map(out)), cursor: page.isDone ? null : page.continueCursor };
  },
});

/** Re-provisions an account's identity (identity/manage.ts provisionByHand) for an admin key. */
export const provision = internalMutation({
  args: { userId: v.string(), reason: v.string(), keyPrefix: v.string() },
  returns: v.union(v.object({ kind: v.literal("unknown_user") }), v.object({ kind: v.literal("ok"), identityId: v.id("identities") })),
  handler: async (ctx, { userId, reason, keyPrefix }) => {
    const id = ctx.db.normalizeId("users", userId);
    const user = id === null ? null : await ctx.db.get("users", id);
    if (user === null) return { kind: "unknown_user" as const };
    if (reason.trim().length < 3) fail("INVALID_ARGUMENT", "Give a reason (at least 3 characters); it goes in the audit log.");
    const identityId = await provisionByHand(ctx, user, { label: `admin-api:${keyPrefix}` }, reason);
    return { kind: "ok" as const, identityId };
  },
});
