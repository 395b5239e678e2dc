// The hourly sweep behind key rotation: rotated keys whose grace ended are marked revoked, so
// listings and indexes agree with what authentication already enforces.
import { v } from "convex/values";
import { internalMutation } from "../functions";

const HOUR = 60 * 60 * 1000;

export const revokeEndedGrace = internalMutation({
  args: {},
  returns: v.number(),
  handler: async (ctx) => {
    const now = Date.now();
    const ended = await ctx.db
      .query("apiKeys")
      // The cron runs hourly; a two-day window catches every key whose grace just ended
      // without rereading all the ones swept long ago.
      .withIndex("by_graceEndsAt", (q) => q.gt("graceEndsAt", now - 48 * HOUR).lte("graceEndsAt", now))
      .take(500);
    let n = 0;
    for (const key of ended) {
      if (key.revokedAt === undefined) {
        await ctx.db.patch("apiKeys", key._id, { revokedAt: key.graceEndsAt });
        n++;
      }
    }
    return n;
  },
});
