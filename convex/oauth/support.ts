// Support's view of an account's connected instances, and revocation with a reason, written to
// the audit log in the same transaction.
import { v } from "convex/values";
import { supportMutation, supportQuery } from "../functions";
import { actorOf, audit } from "../lib/audit";
import { fail } from "../lib/errors";
import { oauthGrantRevocationValidator } from "../schema/oauth";
import { grantRow } from "./instances";
import { revokeGrant } from "./store";

const HISTORY_LIMIT = 100;

export const grantsOf = supportQuery({
  args: { userId: v.id("users") },
  returns: v.array(
    v.object({
      // The Instances page's row, plus what support needs about revocation.
      ...grantRow.fields,
      revokedAt: v.union(v.number(), v.null()),
      revokedBy: v.union(oauthGrantRevocationValidator, v.null()),
    }),
  ),
  handler: async (ctx, { userId }) => {
    // Live grants first (revokedAt undefined sorts first), then the most recent revoked ones.
    const live = await ctx.db
      .query("oauthGrants")
      .withIndex("by_userId_and_revokedAt", (q) => q.eq("userId", userId).eq("revokedAt", undefined))
      .take(HISTORY_LIMIT);
    const revoked = await ctx.db
      .query("oauthGrants")
      .withIndex("by_userId_and_revokedAt", (q) => q.eq("userId", userId).gt("revokedAt", 0))
      .order("desc")
      .take(Math.max(0, HISTORY_LIMIT - live.length));
    return [...live, ...revoked].map((g) => ({
      _id: g._id,
      instanceId: g.instanceId,
      scopes: g.scopes,
      via: g.via,
      createdAt: g.createdAt,
      lastUsedAt: g.lastUsedAt ?? null,
      lastIp: g.lastIp ?? null,
      revokedAt: g.revokedAt ?? null,
      revokedBy: g.revokedBy ?? null,
    }));
  },
});

export const revoke = supportMutation({
  args: { userId: v.id("users"), instanceId: v.string(), reason: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, instanceId, reason }) => {
    const why = reason.trim();
    if (why.length < 3) fail("INVALID_ARGUMENT", "Give a reason (it goes to the audit log).");
    const grants = await ctx.db
      .query("oauthGrants")
      .withIndex("by_userId_and_instanceId", (q) => q.eq("userId", userId).eq("instanceId", instanceId))
      .order("desc")
      .take(10);
    const now = Date.now();
    let revoked = 0;
    for (const grant of grants) if (await revokeGrant(ctx, grant, "support", now)) revoked++;
    if (revoked === 0) fail("NOT_FOUND", `${instanceId.slice(0, 64)} has no live connection on this account.`);
    await audit(ctx, actorOf(ctx.user), "oauth.grant.revoke", { type: "user", id: userId }, why.slice(0, 500), { instanceId });
    return null;
  },
});
