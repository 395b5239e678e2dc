// Key authentication for endpoints that call no provider (/v1/models, the Dex API): the
// caller's account, or the reason the key cannot be used; and `lookupToken`, the same read for
// an OAuth access token on /v1/models. Metered requests authenticate
// inside quota.ledger.begin instead, in the same transaction as their hold.
//
// The common path is `lookup`, a query: two documents read (the key by hash, its owner),
// nothing written (so no conflicts or retries), and no clock in its arguments, so its result
// stays valid, and cacheable, until the key or the account changes. The caller applies the time rules (revoked, expired, grace) with its
// own clock, and runs `authenticate` (the mutation that also records lastUsedAt/Ip) only
// when the key's last use is stale: at most once a minute per key.
import { v } from "convex/values";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { internalMutation, internalQuery } from "../functions";
import { authenticateKeyHash } from "../lib/apiKeys";
import { readToken } from "../lib/callerAuth";
import { constantTimeEqual } from "../model/apiKeySecrets";
import schema from "../schema";
import { oauthScopeValidator } from "../schema/oauth";
import { refusalValidator } from "../schema/validators";

const users = schema.tables.users.validator.fields;
const keys = schema.tables.apiKeys.validator.fields;
const tokens = schema.tables.oauthTokens.validator.fields;
const grants = schema.tables.oauthGrants.validator.fields;

const callerValidator = v.union(
  v.object({
    ok: v.literal(true),
    userId: v.id("users"),
    keyId: v.id("apiKeys"),
    plan: users.plan,
    state: users.state,
  }),
  v.object({ ok: v.literal(false), refusal: refusalValidator }),
);

async function authenticateHandler(ctx: MutationCtx, { hash, ip }: { hash: string; ip?: string }) {
  const auth = await authenticateKeyHash(ctx, hash, ip, Date.now());
  if (!auth.ok) {
    const { ok: _ok, ...refusal } = auth;
    return { ok: false as const, refusal };
  }
  return { ok: true as const, userId: auth.user._id, keyId: auth.key._id, plan: auth.user.plan, state: auth.user.state };
}

/** Authenticates and records the key's last use when stale (lib/apiKeys.ts). */
export const authenticate = internalMutation({
  args: { hash: v.string(), ip: v.optional(v.string()) },
  returns: callerValidator,
  handler: authenticateHandler,
});

const lookupValidator = v.union(
  v.object({ found: v.literal(false) }),
  v.object({
    found: v.literal(true),
    keyId: v.id("apiKeys"),
    prefix: keys.prefix,
    revokedAt: keys.revokedAt,
    graceEndsAt: keys.graceEndsAt,
    expiresAt: keys.expiresAt,
    lastUsedAt: keys.lastUsedAt,
    /** Set while the anomaly policy has the key suspended (ops/anomalies.ts). */
    suspendedAt: keys.suspendedAt,
    /** null: the key's account no longer exists. */
    account: v.union(v.null(), v.object({ userId: v.id("users"), plan: users.plan, state: users.state })),
  }),
);

async function lookupHandler(ctx: QueryCtx, { hash }: { hash: string }) {
  const key = await ctx.db
    .query("apiKeys")
    .withIndex("by_hash", (q) => q.eq("hash", hash))
    .unique();
  // The index lookup already matched; the explicit comparison guards the invariant cheaply.
  if (key === null || !constantTimeEqual(key.hash, hash)) return { found: false as const };
  const user = await ctx.db.get("users", key.userId);
  return {
    found: true as const,
    keyId: key._id,
    prefix: key.prefix,
    revokedAt: key.revokedAt,
    graceEndsAt: key.graceEndsAt,
    expiresAt: key.expiresAt,
    lastUsedAt: key.lastUsedAt,
    suspendedAt: key.suspendedAt,
    account: user === null ? null : { userId: user._id, plan: user.plan, state: user.state },
  };
}

/** A key and its account by the secret's hash, read-only (see the top of this file). */
export const lookup = internalQuery({
  args: { hash: v.string() },
  returns: lookupValidator,
  handler: lookupHandler,
});

const tokenLookupValidator = v.object({
  /** null: no token row has this hash (unknown, or swept after expiry). */
  token: v.union(v.null(), v.object({
    kind: tokens.kind,
    expiresAt: tokens.expiresAt,
    revokedAt: tokens.revokedAt,
    scopes: v.array(oauthScopeValidator),
    userId: v.id("users"),
  })),
  /** null: the token's grant is gone. */
  grant: v.union(v.null(), v.object({
    grantId: v.id("oauthGrants"),
    instanceId: grants.instanceId,
    revokedAt: grants.revokedAt,
    lastUsedAt: grants.lastUsedAt,
    lastIp: grants.lastIp,
  })),
  account: v.union(v.null(), v.object({ userId: v.id("users"), plan: users.plan, state: users.state })),
});

async function lookupTokenHandler(ctx: QueryCtx, { tokenHash }: { tokenHash: string }) {
  const { token, grant } = await readToken(ctx, tokenHash);
  const user = token === null ? null : await ctx.db.get("users", token.userId);
  return {
    token: token === null ? null : { kind: token.kind, expiresAt: token.expiresAt, revokedAt: token.revokedAt, scopes: token.scopes, userId: token.userId },
    grant: grant === null
      ? null
      : { grantId: grant._id, instanceId: grant.instanceId, revokedAt: grant.revokedAt, lastUsedAt: grant.lastUsedAt, lastIp: grant.lastIp },
    account: user === null ? null : { userId: user._id, plan: user.plan, state: user.state },
  };
}

/**
 * An OAuth access token (by its keyed hash), its grant and its account, read-only: 3 documents,
 * nothing written, no clock in the arguments (cacheable until one of them changes), like
 * `lookup` for keys. The caller applies the expiry and scope with its own clock
 * (lib/callerAuth.ts tokenDecision) and records the grant's use through
 * `oauth.tokens.authenticate` only when it is due (at most once a minute).
 */
export const lookupToken = internalQuery({
  args: { tokenHash: v.string() },
  returns: tokenLookupValidator,
  handler: lookupTokenHandler,
});
