// Cron: the credentials' clock. Every run, in bounded batches (a full batch schedules the next
// at once):
//   1. active credentials within one overlap of expiry start rotating (their holders are told to
//      refresh on every proxied answer, and GET /api/provisioning/token says refresh: true);
//   2. rotating credentials whose overlap ended are revoked ("rotated");
//   3. session tokens expired over a day ago, and revoked credentials 30 days past their expiry,
//      are deleted (their rows prove nothing any more; the audit log keeps each change).
import { v } from "convex/values";
import type { MutationCtx } from "../_generated/server";
import { internal } from "../_generated/api";
import { internalMutation } from "../functions";
import { rotationDueAt } from "../model/credentials/lifecycle";
import { beginRotation, revokeCredential, times } from "./store";

const BATCH = 200;
const SESSION_ROW_KEEP_MS = 24 * 60 * 60_000;
/** Revoked credentials stay listed for support this long after they would have expired. */
const REVOKED_ROW_KEEP_MS = 30 * 24 * 60 * 60_000;
const CRON = { label: "cron" };

async function sweepHandler(ctx: MutationCtx) {
  const now = Date.now();
  const t = times();
  const due = await ctx.db
    .query("providerCredentials")
    .withIndex("by_status_and_expiresAt", (q) => q.eq("status", "active").lte("expiresAt", now + t.overlapMs))
    .take(BATCH);
  for (const c of due) {
    if (rotationDueAt(c, t) <= now) await beginRotation(ctx, c, CRON, now);
  }
  const ended = await ctx.db
    .query("providerCredentials")
    .withIndex("by_status_and_overlapEndsAt", (q) => q.eq("status", "rotating").lte("overlapEndsAt", now))
    .take(BATCH);
  for (const c of ended) await revokeCredential(ctx, c, CRON, "rotated", now);
  const stale = await ctx.db
    .query("sessionTokens")
    .withIndex("by_expiresAt", (q) => q.lte("expiresAt", now - SESSION_ROW_KEEP_MS))
    .take(BATCH);
  for (const s of stale) await ctx.db.delete("sessionTokens", s._id);
  const old = await ctx.db
    .query("providerCredentials")
    .withIndex("by_status_and_expiresAt", (q) => q.eq("status", "revoked").lte("expiresAt", now - REVOKED_ROW_KEEP_MS))
    .take(BATCH);
  for (const c of old) await ctx.db.delete("providerCredentials", c._id);
  if (due.length === BATCH || ended.length === BATCH || stale.length === BATCH || old.length === BATCH) {
    await ctx.scheduler.runAfter(0, internal.credentials.rotation.sweep, {});
  }
  return { rotationsStarted: due.length, revoked: ended.length, sessionsDeleted: stale.length, credentialsDeleted: old.length };
}

export const sweep = internalMutation({
  args: {},
  returns: v.object({ rotationsStarted: v.number(), revoked: v.number(), sessionsDeleted: v.number(), credentialsDeleted: v.number() }),
  handler: sweepHandler,
});
