// Support's view of an account's provider credentials and session tokens, and the actions on
// them (revoke at once, force a rotation, end browser sessions), each with a reason written to
// the audit log in the same transaction.
import { v } from "convex/values";
import type { Id } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import { supportMutation, supportQuery } from "../functions";
import { actorOf, audit } from "../lib/audit";
import { fail } from "../lib/errors";
import { credentialViewValidator } from "../schema/credentials";
import { beginRotation, credentialView, endSessions, revokeCredential } from "./store";

/** Newest credentials shown per account (live ones first). */
const HISTORY_LIMIT = 50;

function reasonOf(reason: string): string {
  const why = reason.trim();
  if (why.length < 3) fail("INVALID_ARGUMENT", "Give a reason (at least 3 characters); it goes to the audit log.");
  return why.slice(0, 500);
}

async function credentialsOfUser(ctx: QueryCtx, userId: Id<"users">) {
  const rows = await ctx.db
    .query("providerCredentials")
    .withIndex("by_userId_and_provider_and_status", (q) => q.eq("userId", userId))
    .take(500);
  const rank = { active: 0, rotating: 1, revoked: 2 } as const;
  rows.sort((a, b) => rank[a.status] - rank[b.status] || b.issuedAt - a.issuedAt);
  return rows.slice(0, HISTORY_LIMIT);
}

export const credentialsOf = supportQuery({
  args: { userId: v.id("users") },
  returns: v.object({
    credentials: v.array(credentialViewValidator),
    /** Expiry times of the newest unrevoked browser session tokens (the page counts the live ones with its clock). */
    sessionExpiries: v.array(v.number()),
  }),
  handler: async (ctx, { userId }) => {
    const credentials = (await credentialsOfUser(ctx, userId)).map(credentialView);
    const sessions = await ctx.db.query("sessionTokens").withIndex("by_userId", (q) => q.eq("userId", userId)).order("desc").take(50);
    // No clock in a query: the page decides which are still live.
    return { credentials, sessionExpiries: sessions.filter((s) => s.revokedAt === undefined).map((s) => s.expiresAt) };
  },
});

async function credentialFor(ctx: QueryCtx, userId: Id<"users">, credentialId: Id<"providerCredentials">) {
  const c = await ctx.db.get("providerCredentials", credentialId);
  if (c === null || c.userId !== userId) fail("NOT_FOUND", "That credential does not belong to this account.");
  return c;
}

/** Revokes one credential at once: the next request with it gets 401 credential_revoked. */
export const revoke = supportMutation({
  args: { userId: v.id("users"), credentialId: v.id("providerCredentials"), reason: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, credentialId, reason }) => {
    const why = reasonOf(reason);
    const c = await credentialFor(ctx, userId, credentialId);
    if (c.status === "revoked") fail("CONFLICT", "That credential is already revoked.");
    await revokeCredential(ctx, c, actorOf(ctx.user), why, Date.now());
    return null;
  },
});

/**
 * Starts the rotation now (as the cron would near expiry): the credential keeps working for one
 * overlap while its holder fetches the successor.
 */
export const rotate = supportMutation({
  args: { userId: v.id("users"), credentialId: v.id("providerCredentials"), reason: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, credentialId, reason }) => {
    const why = reasonOf(reason);
    const c = await credentialFor(ctx, userId, credentialId);
    if (c.status !== "active") fail("CONFLICT", `That credential is ${c.status}; only an active one can be rotated.`);
    await beginRotation(ctx, c, actorOf(ctx.user), Date.now(), why);
    return null;
  },
});

/** Ends every browser session token of the account (the dashboard fetches a new one on its next call). */
export const revokeSessions = supportMutation({
  args: { userId: v.id("users"), reason: v.string() },
  returns: v.number(),
  handler: async (ctx, { userId, reason }) => {
    const why = reasonOf(reason);
    const now = Date.now();
    const ended = await endSessions(ctx, userId, now);
    await audit(ctx, actorOf(ctx.user), "session_tokens.revoked", { type: "user", id: userId }, why, { count: ended });
    return ended;
  },
});
