// The signed-in person's own account: created on first sign-in, read by the SPA's gate.
import { v } from "convex/values";
import type { Doc } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import type { UserIdentity } from "convex/server";
import { identityMutation, identityQuery, internalQuery } from "../functions";
import { createAccount, unclaimedTokenIdentifier, userByTokenIdentifier, userFromIdentity } from "../lib/accounts";
import { audit } from "../lib/audit";
import { devAuthEnv } from "../devAuth/env";
import { isDevIdentity } from "../model/auth/devIssuer";
import { normalizeEmail } from "../model/accounts/email";
import schema from "../schema";
import { pick } from "convex-helpers";
import { doc } from "convex-helpers/validators";

// Dev tokens carry the role chosen on the dev sign-in screen. Only the dev issuer is trusted
// for that claim; Clerk users get roles from an admin.
function devRoleClaim(identity: UserIdentity): Doc<"users">["role"] | undefined {
  if (!isDevIdentity(identity, devAuthEnv())) return undefined;
  const role = identity.role;
  return role === "user" || role === "support" || role === "admin" ? role : undefined;
}

/**
 * Creates the caller's row on the first call (a new account starts on the trial plan) and
 * refreshes profile fields afterwards. An account support created from the CLI before its
 * owner signed in is claimed instead, but only on a verified email (Clerk sets
 * email_verified; dev tokens are local).
 */
async function ensureHandler(ctx: MutationCtx & { identity: UserIdentity }) {
  const { identity } = ctx;
  const now = Date.now();
  const email = normalizeEmail(identity.email ?? "");
  const role = devRoleClaim(identity);
  const existing = await userFromIdentity(ctx, identity);
  if (existing !== null) {
    const patch: Partial<Doc<"users">> = { lastSeenAt: now };
    if (email && email !== existing.email) patch.email = email;
    if (identity.name && identity.name !== existing.name) patch.name = identity.name;
    if (role && role !== existing.role) patch.role = role;
    await ctx.db.patch("users", existing._id, patch);
    return existing._id;
  }
  if (email === null) {
    throw new Error("Your sign-in token has no email address; Poindexter needs one to open an account.");
  }
  const unclaimed = await userByTokenIdentifier(ctx, unclaimedTokenIdentifier(email));
  if (unclaimed !== null && (identity.emailVerified === true || role !== undefined || isDevIdentity(identity, devAuthEnv()))) {
    await ctx.db.patch("users", unclaimed._id, {
      tokenIdentifier: identity.tokenIdentifier,
      name: identity.name ?? unclaimed.name,
      role: role ?? unclaimed.role,
      lastSeenAt: now,
    });
    await audit(ctx, { id: unclaimed._id, label: email }, "account.claimed", { type: "user", id: unclaimed._id });
    return unclaimed._id;
  }
  return await createAccount(
    ctx,
    { tokenIdentifier: identity.tokenIdentifier, email, name: identity.name, role: role ?? "user" },
    "self",
  );
}

/** Called by the SPA right after sign-in. */
export const ensure = identityMutation({ args: {}, returns: v.id("users"), handler: ensureHandler });

const VIEWER_FIELDS = ["_id", "email", "name", "role", "state", "plan", "trialEndsAt"] as const;
export const viewerValidator = v.object(pick(doc(schema, "users").fields, [...VIEWER_FIELDS]));

/** The signed-in caller's account, or null before `ensure` has run. */
export const get = identityQuery({
  args: {},
  returns: v.union(v.null(), viewerValidator),
  handler: async (ctx) => {
    const found = await userFromIdentity(ctx, ctx.identity);
    return found === null ? null : pick(found, [...VIEWER_FIELDS]);
  },
});

/** Actions cannot read the db: the user-action builder resolves the caller through this. */
export const findByTokenIdentifier = internalQuery({
  args: { tokenIdentifier: v.string() },
  returns: v.union(v.null(), doc(schema, "users")),
  handler: async (ctx, { tokenIdentifier }) => await userByTokenIdentifier(ctx, tokenIdentifier),
});
