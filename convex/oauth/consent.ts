// The consent page (/connect, the authorization endpoint) and what it calls. The page sends the
// raw query parameters; every check is made here, on the server, before anything is shown or any
// redirect URL is handed back (model/oauth/authorize.ts). The redirect itself is the browser's,
// to a URL only these functions build.
import { v } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import { env, type QueryCtx } from "../_generated/server";
import { userMutation, userQuery } from "../functions";
import { fail } from "../lib/errors";
import { authorizationResponseUrl, checkAuthorizationRequest, type AuthorizationCheck } from "../model/oauth/authorize";
import { SCOPE_DESCRIPTIONS } from "../model/oauth/clients";
import { connectReadiness, requestFingerprint } from "../model/oauth/consent";
import { CODE_TTL_MS } from "../model/oauth/lifecycle";
import { issuerOf } from "../model/oauth/metadata";
import { newSecret, secretHash } from "../model/oauth/secrets";
import { oauthScopeValidator } from "../schema/oauth";
import { sweepExpiredCodes } from "./store";

/** The authorization request's query parameters, as the page read them from its URL. */
export const authorizationParams = v.object({
  client_id: v.optional(v.string()),
  redirect_uri: v.optional(v.string()),
  response_type: v.optional(v.string()),
  code_challenge: v.optional(v.string()),
  code_challenge_method: v.optional(v.string()),
  state: v.optional(v.string()),
  scope: v.optional(v.string()),
});

/** The `iss` of every authorization response: the issuer the metadata names (RFC 9207). */
export function issuer(): string {
  const site = env.CONVEX_SITE_URL;
  if (!site) fail("INVALID_ARGUMENT", "CONVEX_SITE_URL is not set on this deployment, so it cannot act as an OAuth issuer.");
  return issuerOf(site);
}

export async function registeredRedirectUris(ctx: QueryCtx, userId: Id<"users">): Promise<string[]> {
  const rows = await ctx.db.query("oauthRedirectUris").withIndex("by_userId_and_uri", (q) => q.eq("userId", userId)).take(50);
  return rows.map((r) => r.uri);
}

export async function check(ctx: QueryCtx, user: Doc<"users">, params: typeof authorizationParams.type): Promise<AuthorizationCheck> {
  return checkAuthorizationRequest(params, await registeredRedirectUris(ctx, user._id));
}

const scopeLine = v.object({ scope: oauthScopeValidator, description: v.string() });

/**
 * What /connect shows: an error (with, when the redirect URI is good, the URL that takes the
 * error back to the instance), or the request with what the account must do first.
 */
export const describe = userQuery({
  args: { params: authorizationParams },
  returns: v.union(
    v.object({ status: v.literal("invalid"), description: v.string(), returnUrl: v.union(v.string(), v.null()) }),
    v.object({
      status: v.literal("ready"),
      instanceId: v.string(),
      redirectUri: v.string(),
      scopes: v.array(scopeLine),
      readiness: v.union(v.literal("ready"), v.literal("needs_plan"), v.literal("blocked")),
      // When the account, as a new customer, went to checkout from this very request: the page
      // approves on return without asking again (within PENDING_CONNECT_TTL_MS; queries do not
      // read the clock, so the page compares).
      pendingSince: v.union(v.number(), v.null()),
    }),
  ),
  handler: async (ctx, { params }) => {
    const result = await check(ctx, ctx.user, params);
    if (!result.ok) {
      const returnUrl = result.redirectable
        ? authorizationResponseUrl(result.redirectUri, issuer(), { error: result.error, error_description: result.description, state: result.state })
        : null;
      return { status: "invalid" as const, description: result.description, returnUrl };
    }
    const { request } = result;
    const readiness = connectReadiness(ctx.user.state);
    const fingerprint = await requestFingerprint(request);
    const match = await ctx.db
      .query("oauthPendingConnects")
      .withIndex("by_userId_and_requestHash", (q) => q.eq("userId", ctx.user._id).eq("requestHash", fingerprint))
      .first();
    return {
      status: "ready" as const,
      instanceId: request.clientId,
      redirectUri: request.redirectUri,
      scopes: request.scopes.map((scope) => ({ scope, description: SCOPE_DESCRIPTIONS[scope] })),
      readiness,
      pendingSince: match?.createdAt ?? null,
    };
  },
});

/**
 * Authorize: mints a 60-second single-use code bound to the instance, the redirect URI, the PKCE
 * challenge and the scopes, and returns the redirect URL carrying it (with state and iss).
 */
export const approve = userMutation({
  args: { params: authorizationParams },
  returns: v.object({ redirectUrl: v.string() }),
  handler: async (ctx, { params }) => {
    const result = await check(ctx, ctx.user, params);
    if (!result.ok) fail("INVALID_ARGUMENT", result.description);
    const readiness = connectReadiness(ctx.user.state);
    if (readiness === "blocked") fail("FORBIDDEN", "Your account is suspended, so no instance can connect. Contact support.");
    if (readiness === "needs_plan") fail("FORBIDDEN", "Choose a plan first: instances connect to paid accounts.");
    const { request } = result;
    const now = Date.now();
    const code = newSecret("code");
    await ctx.db.insert("oauthCodes", {
      userId: ctx.user._id,
      clientId: request.clientId,
      codeHash: await secretHash(code, env.ENCRYPTION_KEY),
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      scopes: request.scopes,
      expiresAt: now + CODE_TTL_MS,
    });
    // A pending connect from checkout is spent by this approval (it approves one request once).
    const fingerprint = await requestFingerprint(request);
    const pending = await ctx.db
      .query("oauthPendingConnects")
      .withIndex("by_userId_and_requestHash", (q) => q.eq("userId", ctx.user._id).eq("requestHash", fingerprint))
      .take(10);
    for (const row of pending) await ctx.db.delete("oauthPendingConnects", row._id);
    await sweepExpiredCodes(ctx, now);
    return { redirectUrl: authorizationResponseUrl(request.redirectUri, issuer(), { code, state: request.state }) };
  },
});

/** Cancel: the instance gets `access_denied` at its validated redirect URI (RFC 6749 4.1.2.1). */
export const deny = userMutation({
  args: { params: authorizationParams },
  returns: v.object({ redirectUrl: v.string() }),
  handler: async (ctx, { params }) => {
    const result = await check(ctx, ctx.user, params);
    if (!result.ok) {
      if (!result.redirectable) fail("INVALID_ARGUMENT", result.description);
      return {
        redirectUrl: authorizationResponseUrl(result.redirectUri, issuer(), { error: result.error, error_description: result.description, state: result.state }),
      };
    }
    return {
      redirectUrl: authorizationResponseUrl(result.request.redirectUri, issuer(), {
        error: "access_denied",
        error_description: "The account holder declined the connection.",
        state: result.request.state,
      }),
    };
  },
});
