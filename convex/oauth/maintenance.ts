// The OAuth retention sweep (cron, crons.ts). Token rows are otherwise deleted only a few at a
// time while their grant keeps rotating (store.ts sweepExpiredTokens), so an instance that stops
// refreshing, or a grant that is revoked, would leave its rows forever. This deletes, in bounded
// batches that continue in a scheduled follow-up:
//   1. every token row past its expiry (access tokens after 1 h, refresh tokens after 30 days);
//   2. the remaining rows of grants revoked more than a day ago (the day keeps `authenticate`
//      answering "revoked" rather than "unknown_token" to an instance that was just cut off);
//   3. spent codes, device codes and pending connects past their retention.
// Grants themselves stay: the Instances page and support show revoked ones.
import { v } from "convex/values";
import { internal } from "../_generated/api";
import { internalMutation } from "../functions";
import { PENDING_CONNECT_TTL_MS } from "../model/oauth/consent";
import { sweepExpiredCodes, sweepExpiredDeviceCodes, sweepPendingConnects } from "./store";

/** Rows deleted per mutation: well inside Convex's per-transaction write limits. */
export const SWEEP_TOKEN_BATCH = 200;
/** Revoked grants visited per mutation (each may have a few token rows left). */
export const SWEEP_GRANT_BATCH = 20;
export const REVOKED_TOKEN_RETENTION_MS = 24 * 60 * 60_000;

export const sweep = internalMutation({
  args: {},
  returns: v.object({ expiredTokens: v.number(), revokedGrants: v.number(), revokedTokens: v.number(), more: v.boolean() }),
  handler: async (ctx) => {
    const now = Date.now();
    const expired = await ctx.db
      .query("oauthTokens")
      .withIndex("by_expiresAt", (q) => q.lt("expiresAt", now))
      .take(SWEEP_TOKEN_BATCH);
    for (const row of expired) await ctx.db.delete("oauthTokens", row._id);
    let more = expired.length === SWEEP_TOKEN_BATCH;

    // Revoked grants whose rows are not yet purged, oldest revocation first.
    const grants = await ctx.db
      .query("oauthGrants")
      .withIndex("by_tokensPurgedAt_and_revokedAt", (q) =>
        q.eq("tokensPurgedAt", undefined).gte("revokedAt", 0).lt("revokedAt", now - REVOKED_TOKEN_RETENTION_MS),
      )
      .take(SWEEP_GRANT_BATCH);
    let budget = SWEEP_TOKEN_BATCH;
    let revokedGrants = 0;
    let revokedTokens = 0;
    for (const grant of grants) {
      if (budget === 0) {
        more = true;
        break;
      }
      const rows = await ctx.db
        .query("oauthTokens")
        .withIndex("by_grantId_and_expiresAt", (q) => q.eq("grantId", grant._id))
        .take(budget + 1);
      const batch = rows.slice(0, budget);
      for (const row of batch) await ctx.db.delete("oauthTokens", row._id);
      budget -= batch.length;
      revokedTokens += batch.length;
      if (rows.length > batch.length) {
        more = true;
        break;
      }
      await ctx.db.patch("oauthGrants", grant._id, { tokensPurgedAt: now });
      revokedGrants++;
    }
    if (grants.length === SWEEP_GRANT_BATCH) more = true;

    await sweepExpiredCodes(ctx, now);
    await sweepExpiredDeviceCodes(ctx, now);
    await sweepPendingConnects(ctx, now, PENDING_CONNECT_TTL_MS);

    if (more) await ctx.scheduler.runAfter(0, internal.oauth.maintenance.sweep, {});
    return { expiredTokens: expired.length, revokedGrants, revokedTokens, more };
  },
});
