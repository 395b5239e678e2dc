// Ctx helpers that change credentials and session tokens: mint (the plain token exists only in
// the return value), issue (rotating the current one), start a rotation, revoke. Every change
// made for or by someone writes an audit row in the same transaction (lib/audit.ts).
import { env } from "../_generated/server";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { type Actor, audit } from "../lib/audit";
import { type CredentialTimes, credentialTimes, startRotation } from "../model/credentials/lifecycle";
import { mintToken, newSalt, presentedHash, storedHash, type TokenKind } from "../model/credentials/tokens";
import type { Endpoint, ProviderId } from "../model/pricing";

export interface MintedSecret {
  /** The bearer string; returned once, never stored or logged. */
  token: string;
  lookupId: string;
  salt: string;
  tokenHash: string;
}

export async function mintSecret(kind: TokenKind): Promise<MintedSecret> {
  const minted = mintToken(kind);
  const salt = newSalt();
  const tokenHash = await storedHash(salt, await presentedHash(minted.secret, env.ENCRYPTION_KEY));
  return { token: minted.token, lookupId: minted.lookupId, salt, tokenHash };
}

/** The deployment's lifetimes (a malformed env value throws, naming the variable). */
export function times(): CredentialTimes {
  return credentialTimes(env);
}

/** The account's usable (active or rotating) credentials for one provider: a handful at most. */
export async function liveCredentials(ctx: QueryCtx, userId: Id<"users">, provider: ProviderId): Promise<Doc<"providerCredentials">[]> {
  const active = await ctx.db
    .query("providerCredentials")
    .withIndex("by_userId_and_provider_and_status", (q) => q.eq("userId", userId).eq("provider", provider).eq("status", "active"))
    .take(10);
  const rotating = await ctx.db
    .query("providerCredentials")
    .withIndex("by_userId_and_provider_and_status", (q) => q.eq("userId", userId).eq("provider", provider).eq("status", "rotating"))
    .take(50);
  return [...active, ...rotating];
}

/**
 * Issues a credential for (account, provider): the current active one (if any) starts rotating,
 * so it keeps working for one overlap while its holder switches to the new one.
 */
export async function issueCredential(
  ctx: MutationCtx,
  args: { user: Doc<"users">; provider: ProviderId; scopes: Endpoint[]; actor: Actor; now: number },
): Promise<{ token: string; credential: Doc<"providerCredentials">; rotated: number }> {
  const t = times();
  const current = await ctx.db
    .query("providerCredentials")
    .withIndex("by_userId_and_provider_and_status", (q) => q.eq("userId", args.user._id).eq("provider", args.provider).eq("status", "active"))
    .take(10);
  for (const c of current) await ctx.db.patch("providerCredentials", c._id, startRotation(c, args.now, t));
  const minted = await mintSecret("provider_credential");
  const id = await ctx.db.insert("providerCredentials", {
    userId: args.user._id,
    provider: args.provider,
    lookupId: minted.lookupId,
    tokenHash: minted.tokenHash,
    salt: minted.salt,
    scopes: args.scopes,
    issuedAt: args.now,
    expiresAt: args.now + t.ttlMs,
    status: "active",
    issuedBy: args.actor.label,
  });
  await audit(ctx, args.actor, current.length > 0 ? "credential.rotated" : "credential.issued", { type: "user", id: args.user._id }, undefined, {
    provider: args.provider,
    credentialId: id,
    scopes: args.scopes.join(","),
  });
  const credential = (await ctx.db.get("providerCredentials", id))!;
  return { token: minted.token, credential, rotated: current.length };
}

/** Starts a credential's rotation now (its holder is told to refresh; it works for one more overlap). */
export async function beginRotation(ctx: MutationCtx, c: Doc<"providerCredentials">, actor: Actor, now: number, reason?: string): Promise<void> {
  if (c.status !== "active") return;
  await ctx.db.patch("providerCredentials", c._id, startRotation(c, now, times()));
  await audit(ctx, actor, "credential.rotation_started", { type: "user", id: c.userId }, reason, { provider: c.provider, credentialId: c._id });
}

/** Revokes a credential at once: the next request with it gets 401 credential_revoked. */
export async function revokeCredential(ctx: MutationCtx, c: Doc<"providerCredentials">, actor: Actor, reason: string, now: number): Promise<boolean> {
  if (c.status === "revoked") return false;
  await ctx.db.patch("providerCredentials", c._id, { status: "revoked", revokedAt: now, revokedReason: reason, overlapEndsAt: undefined });
  await audit(ctx, actor, "credential.revoked", { type: "user", id: c.userId }, reason, { provider: c.provider, credentialId: c._id });
  return true;
}

/** Ends every live browser session token of the account at once; returns how many. */
export async function endSessions(ctx: MutationCtx, userId: Id<"users">, now: number): Promise<number> {
  const sessions = await ctx.db.query("sessionTokens").withIndex("by_userId", (q) => q.eq("userId", userId)).order("desc").take(200);
  let ended = 0;
  for (const s of sessions) {
    if (s.revokedAt !== undefined || s.expiresAt <= now) continue;
    await ctx.db.patch("sessionTokens", s._id, { revokedAt: now });
    ended++;
  }
  return ended;
}

/** Revokes every credential of the account that still works; returns how many. */
export async function revokeAllCredentials(ctx: MutationCtx, userId: Id<"users">, actor: Actor, reason: string, now: number): Promise<number> {
  const rows = await ctx.db.query("providerCredentials").withIndex("by_userId_and_provider_and_status", (q) => q.eq("userId", userId)).take(500);
  let revoked = 0;
  for (const c of rows) if (await revokeCredential(ctx, c, actor, reason, now)) revoked++;
  return revoked;
}

/** What may be shown about a credential: never its hash, salt or lookup id. */
export function credentialView(c: Doc<"providerCredentials">) {
  return {
    id: c._id,
    provider: c.provider,
    scopes: c.scopes,
    status: c.status,
    issuedAt: c.issuedAt,
    expiresAt: c.expiresAt,
    ...(c.overlapEndsAt !== undefined ? { overlapEndsAt: c.overlapEndsAt } : {}),
    ...(c.lastRotatedAt !== undefined ? { lastRotatedAt: c.lastRotatedAt } : {}),
    ...(c.revokedAt !== undefined ? { revokedAt: c.revokedAt } : {}),
    ...(c.revokedReason !== undefined ? { revokedReason: c.revokedReason } : {}),
    ...(c.issuedBy !== undefined ? { issuedBy: c.issuedBy } : {}),
  };
}
