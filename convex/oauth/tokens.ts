// The token endpoint's transactions (routes.ts parses and answers HTTP; these decide), and the
// one check the Dex API makes for an OAuth bearer token. Each exchange is ONE mutation, so a code
// is consumed exactly once and a refresh token rotates exactly once however requests race.
// Plain tokens never reach these functions: the HTTP action generates them and passes hashes.
import { v } from "convex/values";
import type { Doc } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { internalMutation } from "../functions";
import { accessRefusal, redeemCode as redeemCodeRule, REFRESH_GRACE_MS, refreshOutcome } from "../model/oauth/lifecycle";
import { oauthScopeValidator } from "../schema/oauth";
import { createGrant, issuePair, revokeGrant, sweepExpiredTokens, touchGrant } from "./store";

const pairHashes = { accessHash: v.string(), refreshHash: v.string() };

const failure = v.object({
  ok: v.literal(false),
  error: v.union(v.literal("invalid_grant"), v.literal("invalid_scope")),
  description: v.string(),
});
const issued = v.object({ ok: v.literal(true), scopes: v.array(oauthScopeValidator) });

/** Authorization code -> tokens (RFC 6749 4.1.3, RFC 7636 4.6). */
async function redeemCodeHandler(
  ctx: MutationCtx,
  args: { codeHash: string; clientId: string; redirectUri: string; challenge: string; accessHash: string; refreshHash: string; ip?: string },
) {
  const now = Date.now();
  const code = await ctx.db.query("oauthCodes").withIndex("by_codeHash", (q) => q.eq("codeHash", args.codeHash)).unique();
  if (code === null) return { ok: false as const, error: "invalid_grant" as const, description: "The authorization code is not valid." };
  const outcome = redeemCodeRule(code, args, now);
  if (outcome === "reused") {
    // RFC 6749 4.1.2 / RFC 9700 4.2.4: a second use means the code leaked; what it issued goes.
    if (code.grantId !== undefined) {
      const grant = await ctx.db.get("oauthGrants", code.grantId);
      if (grant !== null) await revokeGrant(ctx, grant, "code_reuse", now);
    }
    return { ok: false as const, error: "invalid_grant" as const, description: "The authorization code was already used; the tokens issued from it are revoked. Connect again." };
  }
  // Any failed attempt spends the code, so a verifier cannot be guessed by retrying.
  await ctx.db.patch("oauthCodes", code._id, { usedAt: now });
  switch (outcome) {
    case "expired":
      return { ok: false as const, error: "invalid_grant" as const, description: "The authorization code expired (codes live 60 seconds). Connect again." };
    case "client_mismatch":
      return { ok: false as const, error: "invalid_grant" as const, description: "The authorization code was issued to another client_id." };
    case "redirect_mismatch":
      return { ok: false as const, error: "invalid_grant" as const, description: "redirect_uri does not match the one the code was issued for." };
    case "pkce_mismatch":
      return { ok: false as const, error: "invalid_grant" as const, description: "code_verifier does not match the code_challenge (S256)." };
    case "issue":
      break;
  }
  const grantId = await createGrant(ctx, code.userId, code.clientId, code.scopes, "authorization_code", now);
  await issuePair(ctx, { _id: grantId, userId: code.userId }, code.scopes, args, now);
  await ctx.db.patch("oauthCodes", code._id, { grantId });
  const grant = await ctx.db.get("oauthGrants", grantId);
  if (grant !== null) await touchGrant(ctx, grant, args.ip, now);
  return { ok: true as const, scopes: code.scopes };
}

export const redeemCode = internalMutation({
  args: { codeHash: v.string(), clientId: v.string(), redirectUri: v.string(), challenge: v.string(), ...pairHashes, ip: v.optional(v.string()) },
  returns: v.union(issued, failure),
  handler: redeemCodeHandler,
});

/**
 * Refresh token -> a new pair (RFC 6749 6), rotating with reuse detection. `sealed` is the new
 * pair sealed under the presented token (model/oauth/successor.ts): kept on the old row for the
 * grace window. A repeat inside it gets that seal back ("replay") and nothing new is stored.
 */
async function refreshHandler(
  ctx: MutationCtx,
  args: { presentedHash: string; clientId: string; scopes?: Doc<"oauthTokens">["scopes"]; accessHash: string; refreshHash: string; sealed: string; ip?: string },
) {
  const now = Date.now();
  const token = await ctx.db.query("oauthTokens").withIndex("by_tokenHash", (q) => q.eq("tokenHash", args.presentedHash)).unique();
  if (token === null || token.kind !== "refresh") {
    return { ok: false as const, error: "invalid_grant" as const, description: "The refresh token is not valid." };
  }
  const grant = await ctx.db.get("oauthGrants", token.grantId);
  if (grant === null || grant.instanceId !== args.clientId) {
    return { ok: false as const, error: "invalid_grant" as const, description: "The refresh token was issued to another client_id." };
  }
  // RFC 6749 6: a narrower scope may be asked for, never a wider one.
  const scopes = args.scopes ?? token.scopes;
  const wider = scopes.filter((s) => !token.scopes.includes(s));
  if (wider.length > 0) {
    return { ok: false as const, error: "invalid_scope" as const, description: `The grant does not include ${wider.join(", ")}.` };
  }
  const outcome = refreshOutcome(token, grant.revokedAt !== undefined, now);
  switch (outcome) {
    case "revoked":
      return { ok: false as const, error: "invalid_grant" as const, description: "This connection was revoked. Connect the instance again." };
    case "expired":
      return { ok: false as const, error: "invalid_grant" as const, description: "The refresh token expired. Connect the instance again." };
    case "reuse":
      await revokeGrant(ctx, grant, "refresh_reuse", now);
      return {
        ok: false as const,
        error: "invalid_grant" as const,
        description: "The refresh token was already used; the connection is revoked to protect the account. Connect the instance again.",
      };
    case "replay":
      if (token.successorSealed === undefined) {
        return { ok: false as const, error: "invalid_grant" as const, description: "The refresh token was already exchanged. Use the newest refresh token." };
      }
      return { ok: true as const, replay: true as const, sealed: token.successorSealed, scopes: token.scopes, ageMs: now - (token.rotatedAt ?? now) };
    case "rotate":
      break;
  }
  await ctx.db.patch("oauthTokens", token._id, { rotatedAt: now, successorSealed: args.sealed });
  // The previous link's seal is dropped once its grace is over (it can never be returned again).
  if (token.parentId !== undefined) {
    const parent = await ctx.db.get("oauthTokens", token.parentId);
    if (parent !== null && parent.successorSealed !== undefined && now - (parent.rotatedAt ?? 0) > REFRESH_GRACE_MS) {
      await ctx.db.patch("oauthTokens", parent._id, { successorSealed: undefined });
    }
  }
  await issuePair(ctx, grant, scopes, args, now, token._id);
  await touchGrant(ctx, grant, args.ip, now);
  await sweepExpiredTokens(ctx, grant._id, now);
  return { ok: true as const, replay: false as const, scopes };
}

export const refresh = internalMutation({
  args: {
    presentedHash: v.string(),
    clientId: v.string(),
    scopes: v.optional(v.array(oauthScopeValidator)),
    ...pairHashes,
    sealed: v.string(),
    ip: v.optional(v.string()),
  },
  returns: v.union(
    v.object({ ok: v.literal(true), replay: v.literal(false), scopes: v.array(oauthScopeValidator) }),
    v.object({ ok: v.literal(true), replay: v.literal(true), sealed: v.string(), scopes: v.array(oauthScopeValidator), ageMs: v.number() }),
    failure,
  ),
  handler: refreshHandler,
});

/**
 * RFC 7009: revoking either token of a grant revokes the grant (all its tokens). Unknown tokens
 * and tokens of another client change nothing; the endpoint answers 200 either way.
 */
export const revoke = internalMutation({
  args: { tokenHash: v.string(), clientId: v.optional(v.string()) },
  returns: v.boolean(),
  handler: async (ctx, { tokenHash, clientId }) => {
    const token = await ctx.db.query("oauthTokens").withIndex("by_tokenHash", (q) => q.eq("tokenHash", tokenHash)).unique();
    if (token === null) return false;
    const grant = await ctx.db.get("oauthGrants", token.grantId);
    if (grant === null || (clientId !== undefined && grant.instanceId !== clientId)) return false;
    return await revokeGrant(ctx, grant, "client", Date.now());
  },
});

const authenticateResult = v.union(
  v.object({
    ok: v.literal(true),
    userId: v.id("users"),
    grantId: v.id("oauthGrants"),
    instanceId: v.string(),
    scopes: v.array(oauthScopeValidator),
  }),
  v.object({
    ok: v.literal(false),
    reason: v.union(v.literal("unknown_token"), v.literal("not_access_token"), v.literal("expired"), v.literal("revoked")),
  }),
);

/**
 * For the Dex API: an OAuth access token (as its hash, model/oauth/secrets.ts `secretHash`) ->
 * who is calling, from which instance, with which scopes; or why not. Records the grant's last
 * use and address (at most once a minute), so it is a mutation.
 */
export const authenticate = internalMutation({
  args: { tokenHash: v.string(), ip: v.optional(v.string()) },
  returns: authenticateResult,
  handler: async (ctx, { tokenHash, ip }) => {
    const now = Date.now();
    const token = await ctx.db.query("oauthTokens").withIndex("by_tokenHash", (q) => q.eq("tokenHash", tokenHash)).unique();
    const grant = token === null ? null : await ctx.db.get("oauthGrants", token.grantId);
    const refusal = accessRefusal(token, grant === null || grant.revokedAt !== undefined, now);
    if (refusal !== null || token === null || grant === null) return { ok: false as const, reason: refusal ?? "unknown_token" };
    await touchGrant(ctx, grant, ip, now);
    return { ok: true as const, userId: token.userId, grantId: grant._id, instanceId: grant.instanceId, scopes: token.scopes };
  },
});
