// The signed-in person's own account, read by the SPA's gate (signup/account.ts creates it).
import { v } from "convex/values";
import { identityQuery, internalQuery } from "../functions";
import { userByTokenIdentifier, userFromIdentity } from "../lib/accounts";
import schema from "../schema";
import { pick } from "convex-helpers";
import { doc } from "convex-helpers/validators";

const VIEWER_FIELDS = [
  "_id", "email", "name", "role", "state", "plan", "trialEndsAt", "signupRefusal", "onboardingDismissedAt",
] as const;
export const viewerValidator = v.object(pick(doc(schema, "users").fields, [...VIEWER_FIELDS]));

/** The signed-in caller's account, or null before `signup.account.ensure` has run. */
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
