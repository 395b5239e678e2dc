// The signed-in person's own provider credentials, for the dashboard's Credentials card: list,
// issue (or rotate: the plain token is in this answer only), and revoke.
import { v } from "convex/values";
import { userMutation, userQuery } from "../functions";
import { actorOf } from "../lib/audit";
import { fail } from "../lib/errors";
import { capabilities } from "../model/accounts/accountState";
import { endpointsOf, resolveScopes } from "../model/credentials/lifecycle";
import { PROVIDER_IDS } from "../model/pricing";
import { credentialProviderValidator, credentialScopeValidator, credentialViewValidator } from "../schema/credentials";
import { takeMintSlot } from "./limits";
import { credentialView, issueCredential, revokeCredential } from "./store";

/** The account's active and rotating credentials, newest first, and what each provider may be scoped to. */
export const list = userQuery({
  args: {},
  returns: v.object({
    credentials: v.array(credentialViewValidator),
    providers: v.array(v.object({ provider: credentialProviderValidator, scopes: v.array(credentialScopeValidator) })),
  }),
  handler: async (ctx) => {
    const live = [];
    for (const status of ["active", "rotating"] as const) {
      for (const provider of PROVIDER_IDS) {
        live.push(...await ctx.db
          .query("providerCredentials")
          .withIndex("by_userId_and_provider_and_status", (q) => q.eq("userId", ctx.user._id).eq("provider", provider).eq("status", status))
          .take(20));
      }
    }
    live.sort((a, b) => b.issuedAt - a.issuedAt);
    return {
      credentials: live.map(credentialView),
      providers: PROVIDER_IDS.map((provider) => ({ provider, scopes: endpointsOf(provider) })),
    };
  },
});

/** Issues a credential for one provider (the current one starts rotating). The only answer with the token. */
export const issue = userMutation({
  args: { provider: credentialProviderValidator, scopes: v.optional(v.array(credentialScopeValidator)) },
  returns: v.object({ token: v.string(), credential: credentialViewValidator }),
  handler: async (ctx, args) => {
    if (!capabilities(ctx.user.state).useProxy) fail("FORBIDDEN", `Your account is ${ctx.user.state}; it cannot use the AI proxy, so no credential is issued.`);
    const scopes = resolveScopes(args.provider, args.scopes);
    if (!scopes.ok) fail("INVALID_ARGUMENT", scopes.message);
    if ((await takeMintSlot(ctx, "credentialIssue", ctx.user._id)) !== null) fail("RATE_LIMITED", "Too many credentials issued in the last minute; wait a minute and try again.");
    const issued = await issueCredential(ctx, { user: ctx.user, provider: args.provider, scopes: scopes.scopes, actor: actorOf(ctx.user), now: Date.now() });
    return { token: issued.token, credential: credentialView(issued.credential) };
  },
});

export const revoke = userMutation({
  args: { credentialId: v.id("providerCredentials") },
  returns: v.null(),
  handler: async (ctx, { credentialId }) => {
    const c = await ctx.db.get("providerCredentials", credentialId);
    if (c === null || c.userId !== ctx.user._id) fail("NOT_FOUND", "That credential is not yours or no longer exists.");
    await revokeCredential(ctx, c, actorOf(ctx.user), "revoked by the account owner", Date.now());
    return null;
  },
});
