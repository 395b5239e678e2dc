// The Instances page: the account's connected Dex instances (one live grant each) with
// Disconnect, and the https redirect URLs it registered for instances outside loopback/Tailscale.
import { v } from "convex/values";
import { userMutation, userQuery } from "../functions";
import { fail } from "../lib/errors";
import { MAX_REGISTERED_REDIRECT_URIS, registrableRedirectProblem } from "../model/oauth/clients";
import { oauthScopeValidator } from "../schema/oauth";
import { revokeGrant } from "./store";

/** Most connected instances listed (an account has a handful; the list is bounded all the same). */
const LIST_LIMIT = 100;

export const grantRow = v.object({
  _id: v.id("oauthGrants"),
  instanceId: v.string(),
  scopes: v.array(oauthScopeValidator),
  via: v.union(v.literal("authorization_code"), v.literal("device")),
  createdAt: v.number(),
  lastUsedAt: v.union(v.number(), v.null()),
  lastIp: v.union(v.string(), v.null()),
});

export const mine = userQuery({
  args: {},
  returns: v.array(grantRow),
  handler: async (ctx) => {
    const live = await ctx.db
      .query("oauthGrants")
      .withIndex("by_userId_and_revokedAt", (q) => q.eq("userId", ctx.user._id).eq("revokedAt", undefined))
      .order("desc")
      .take(LIST_LIMIT);
    return live.map((g) => ({
      _id: g._id,
      instanceId: g.instanceId,
      scopes: g.scopes,
      via: g.via,
      createdAt: g.createdAt,
      lastUsedAt: g.lastUsedAt ?? null,
      lastIp: g.lastIp ?? null,
    }));
  },
});

/** Disconnect: the instance's tokens stop working at once (its next call or refresh fails). */
export const disconnect = userMutation({
  args: { instanceId: v.string() },
  returns: v.object({ disconnected: v.boolean() }),
  handler: async (ctx, { instanceId }) => {
    const grants = await ctx.db
      .query("oauthGrants")
      .withIndex("by_userId_and_instanceId", (q) => q.eq("userId", ctx.user._id).eq("instanceId", instanceId))
      .order("desc")
      .take(10);
    const now = Date.now();
    let disconnected = false;
    for (const grant of grants) disconnected = (await revokeGrant(ctx, grant, "user", now)) || disconnected;
    if (!disconnected) fail("NOT_FOUND", `${instanceId.slice(0, 64)} is not connected to your account.`);
    return { disconnected };
  },
});

export const redirectUris = userQuery({
  args: {},
  returns: v.array(v.object({ uri: v.string(), createdAt: v.number() })),
  handler: async (ctx) => {
    const rows = await ctx.db
      .query("oauthRedirectUris")
      .withIndex("by_userId_and_uri", (q) => q.eq("userId", ctx.user._id))
      .take(MAX_REGISTERED_REDIRECT_URIS);
    return rows.map((r) => ({ uri: r.uri, createdAt: r.createdAt }));
  },
});

export const addRedirectUri = userMutation({
  args: { uri: v.string() },
  returns: v.null(),
  handler: async (ctx, { uri }) => {
    const problem = registrableRedirectProblem(uri.trim());
    if (problem !== null) fail("INVALID_ARGUMENT", problem);
    const existing = await ctx.db
      .query("oauthRedirectUris")
      .withIndex("by_userId_and_uri", (q) => q.eq("userId", ctx.user._id))
      .take(MAX_REGISTERED_REDIRECT_URIS + 1);
    if (existing.some((r) => r.uri === uri.trim())) return null;
    if (existing.length >= MAX_REGISTERED_REDIRECT_URIS) {
      fail("CONFLICT", `You can register up to ${MAX_REGISTERED_REDIRECT_URIS} redirect URLs; remove one first.`);
    }
    await ctx.db.insert("oauthRedirectUris", { userId: ctx.user._id, uri: uri.trim(), createdAt: Date.now() });
    return null;
  },
});

export const removeRedirectUri = userMutation({
  args: { uri: v.string() },
  returns: v.null(),
  handler: async (ctx, { uri }) => {
    const row = await ctx.db
      .query("oauthRedirectUris")
      .withIndex("by_userId_and_uri", (q) => q.eq("userId", ctx.user._id).eq("uri", uri))
      .unique();
    if (row === null) fail("NOT_FOUND", "That redirect URL is not registered.");
    await ctx.db.delete("oauthRedirectUris", row._id);
    return null;
  },
});
