// The writes every OAuth path shares: a grant is made, tokens are issued under it, a grant is
// revoked. Ctx helpers only (no functions registered here), so consent, the token endpoint, the
// device flow and support revoke through the same code.
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import type { Scope } from "../model/oauth/clients";
import { ACCESS_TOKEN_TTL_MS, REFRESH_TOKEN_TTL_MS } from "../model/oauth/lifecycle";

export type Revoker = NonNullable<Doc<"oauthGrants">["revokedBy"]>;

/** Hashes of a freshly generated pair (the plain tokens never reach a mutation). */
export interface PairHashes {
  accessHash: string;
  refreshHash: string;
}

/**
 * A new grant of `instanceId` for the account. One grant per instance: an earlier live grant of
 * the same instance is revoked ("replaced"), so reconnecting never leaves two token chains.
 */
export async function createGrant(
  ctx: MutationCtx,
  userId: Id<"users">,
  instanceId: string,
  scopes: Scope[],
  via: Doc<"oauthGrants">["via"],
  now: number,
): Promise<Id<"oauthGrants">> {
  const earlier = await ctx.db
    .query("oauthGrants")
    .withIndex("by_userId_and_instanceId", (q) => q.eq("userId", userId).eq("instanceId", instanceId))
    .order("desc")
    .take(10);
  for (const grant of earlier) {
    if (grant.revokedAt === undefined) await revokeGrant(ctx, grant, "replaced", now);
  }
  return await ctx.db.insert("oauthGrants", { userId, instanceId, scopes, via, createdAt: now });
}

/** An access token (1 h) and a refresh token (30 days) for the grant. */
export async function issuePair(
  ctx: MutationCtx,
  grant: Pick<Doc<"oauthGrants">, "_id" | "userId">,
  scopes: Scope[],
  hashes: PairHashes,
  now: number,
  parentId?: Id<"oauthTokens">,
): Promise<void> {
  const base = { grantId: grant._id, userId: grant.userId, scopes };
  await ctx.db.insert("oauthTokens", { ...base, kind: "access", tokenHash: hashes.accessHash, expiresAt: now + ACCESS_TOKEN_TTL_MS });
  await ctx.db.insert("oauthTokens", {
    ...base,
    kind: "refresh",
    tokenHash: hashes.refreshHash,
    expiresAt: now + REFRESH_TOKEN_TTL_MS,
    ...(parentId !== undefined ? { parentId } : {}),
  });
}

/**
 * Ends a grant. Every token checks its grant (tokens.authenticate, the token endpoint), so this
 * one write revokes them all at once however many there are; the token rows expire on their own.
 */
export async function revokeGrant(ctx: MutationCtx, grant: Doc<"oauthGrants">, by: Revoker, now: number): Promise<boolean> {
  if (grant.revokedAt !== undefined) return false;
  await ctx.db.patch("oauthGrants", grant._id, { revokedAt: now, revokedBy: by });
  return true;
}

/** Expired token rows of a grant, removed a few at a time as it rotates (bounded work per call). */
export async function sweepExpiredTokens(ctx: MutationCtx, grantId: Id<"oauthGrants">, now: number): Promise<void> {
  const expired = await ctx.db
    .query("oauthTokens")
    .withIndex("by_grantId_and_expiresAt", (q) => q.eq("grantId", grantId).lt("expiresAt", now))
    .take(10);
  for (const row of expired) await ctx.db.delete("oauthTokens", row._id);
}

const LAST_USED_RESOLUTION_MS = 60_000;

/** Whether touchGrant would write: the last use is a minute old, or the address changed. */
export function grantUseDue(grant: Pick<Doc<"oauthGrants">, "lastUsedAt" | "lastIp">, ip: string | undefined, now: number): boolean {
  const stale = grant.lastUsedAt === undefined || now - grant.lastUsedAt >= LAST_USED_RESOLUTION_MS;
  const moved = ip !== undefined && ip !== grant.lastIp;
  return stale || moved;
}

/** Records use of a grant at most once a minute (or when the address changes). */
export async function touchGrant(ctx: MutationCtx, grant: Doc<"oauthGrants">, ip: string | undefined, now: number): Promise<void> {
  if (!grantUseDue(grant, ip, now)) return;
  await ctx.db.patch("oauthGrants", grant._id, { lastUsedAt: now, ...(ip !== undefined ? { lastIp: ip } : {}) });
}

/**
 * Spent codes and device codes are kept a day after they expire, so a replayed code still finds
 * its row and revokes what it issued; after that they go, a few per new one (no cron needed).
 */
export const SPENT_CODE_RETENTION_MS = 24 * 60 * 60_000;
const SWEEP_BATCH = 20;

export async function sweepExpiredCodes(ctx: MutationCtx, now: number): Promise<void> {
  const old = await ctx.db
    .query("oauthCodes")
    .withIndex("by_expiresAt", (q) => q.lt("expiresAt", now - SPENT_CODE_RETENTION_MS))
    .take(SWEEP_BATCH);
  for (const row of old) await ctx.db.delete("oauthCodes", row._id);
}

export async function sweepExpiredDeviceCodes(ctx: MutationCtx, now: number): Promise<void> {
  const old = await ctx.db
    .query("oauthDeviceCodes")
    .withIndex("by_expiresAt", (q) => q.lt("expiresAt", now - SPENT_CODE_RETENTION_MS))
    .take(SWEEP_BATCH);
  for (const row of old) await ctx.db.delete("oauthDeviceCodes", row._id);
}

export async function sweepPendingConnects(ctx: MutationCtx, now: number, ttlMs: number): Promise<void> {
  const old = await ctx.db
    .query("oauthPendingConnects")
    .withIndex("by_createdAt", (q) => q.lt("createdAt", now - ttlMs))
    .take(SWEEP_BATCH);
  for (const row of old) await ctx.db.delete("oauthPendingConnects", row._id);
}
