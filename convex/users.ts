import { v } from "convex/values";
import {
  identityMutation,
  identityQuery,
  internalQuery,
  userFromIdentity,
} from "./functions";
import { accountStateValidator, planValidator, roleValidator } from "./schema";
import { PLANS } from "./model/plans";
import { startTrial } from "./model/accountState";
import { audit, unclaimedTokenIdentifier } from "./accounts";

const DAY = 24 * 60 * 60 * 1000;

// Dev tokens carry the role chosen on the dev sign-in screen. Only the dev issuer
// is trusted for that claim; Clerk users get roles from an admin.
function isDevIdentity(identity: { issuer: string }): boolean {
  const site = process.env.CONVEX_SITE_URL;
  return process.env.DEV_AUTH === "true" && site !== undefined && identity.issuer === `${site}/dev-auth`;
}

function devRoleClaim(identity: { issuer: string; [k: string]: unknown }) {
  if (!isDevIdentity(identity)) return undefined;
  const role = identity.role;
  return role === "user" || role === "support" || role === "admin" ? role : undefined;
}

/**
 * Called by the SPA right after sign-in: creates the caller's row on the first call
 * (a new account starts on the trial plan) and refreshes profile fields afterwards.
 */
export const ensureViewer = identityMutation({
  args: {},
  returns: v.id("users"),
  handler: async (ctx) => {
    const { identity } = ctx;
    const now = Date.now();
    const email = (identity.email ?? "").toLowerCase();
    const role = devRoleClaim(identity);
    const existing = await userFromIdentity(ctx, identity);
    if (existing !== null) {
      const patch: Record<string, unknown> = { lastSeenAt: now };
      if (email && email !== existing.email) patch.email = email;
      if (identity.name && identity.name !== existing.name) patch.name = identity.name;
      if (role && role !== existing.role) patch.role = role;
      await ctx.db.patch(existing._id, patch);
      return existing._id;
    }
    if (!email) {
      throw new Error("Your sign-in token has no email address; Poindexter needs one to open an account.");
    }
    // An account support created from the CLI before its owner signed in: claim it,
    // but only on a verified email (Clerk sets email_verified; dev tokens are local).
    const unclaimed = await ctx.db
      .query("users")
      .withIndex("by_tokenIdentifier", (q) => q.eq("tokenIdentifier", unclaimedTokenIdentifier(email)))
      .unique();
    if (unclaimed !== null && (identity.emailVerified === true || role !== undefined || isDevIdentity(identity))) {
      await ctx.db.patch(unclaimed._id, {
        tokenIdentifier: identity.tokenIdentifier,
        name: identity.name ?? unclaimed.name,
        role: role ?? unclaimed.role,
        lastSeenAt: now,
      });
      await audit(ctx, { id: unclaimed._id, label: email }, "account.claimed", { type: "user", id: unclaimed._id });
      return unclaimed._id;
    }
    const trial = startTrial();
    const userId = await ctx.db.insert("users", {
      tokenIdentifier: identity.tokenIdentifier,
      email,
      name: identity.name,
      role: role ?? "user",
      state: trial,
      plan: "trial",
      trialEndsAt: now + (PLANS.trial.trialDays ?? 14) * DAY,
      lastSeenAt: now,
    });
    await audit(ctx, { id: userId, label: email }, "account.created", { type: "user", id: userId });
    return userId;
  },
});

const viewerValidator = v.object({
  _id: v.id("users"),
  email: v.string(),
  name: v.optional(v.string()),
  role: roleValidator,
  state: accountStateValidator,
  plan: planValidator,
  trialEndsAt: v.optional(v.number()),
});

/** The signed-in caller's account, or null before ensureViewer has run. */
export const viewer = identityQuery({
  args: {},
  returns: v.union(v.null(), viewerValidator),
  handler: async (ctx) => {
    const user = await userFromIdentity(ctx, ctx.identity);
    if (user === null) return null;
    return {
      _id: user._id,
      email: user.email,
      name: user.name,
      role: user.role,
      state: user.state,
      plan: user.plan,
      trialEndsAt: user.trialEndsAt,
    };
  },
});

export const byTokenIdentifier = internalQuery({
  args: { tokenIdentifier: v.string() },
  handler: async (ctx, { tokenIdentifier }) =>
    await ctx.db
      .query("users")
      .withIndex("by_tokenIdentifier", (q) => q.eq("tokenIdentifier", tokenIdentifier))
      .unique(),
});
