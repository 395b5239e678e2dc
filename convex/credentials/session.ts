// POST /api/session: the signed-in person's Convex/Clerk JWT (Bearer) for a short-lived opaque
// proxy token (`pdx_st_`, 15 minutes, SESSION_TOKEN_TTL_MINUTES), which the browser sends to the
// AI endpoints like an API key. Only its salted hash is stored. An expired one gets 401 with
// code `session_expired` (proxy/refusals.ts): the client asks here again (src/lib/sessionToken.ts).
import { v } from "convex/values";
import { httpAction, type ActionCtx, type MutationCtx } from "../_generated/server";
import { internal } from "../_generated/api";
import { internalMutation } from "../functions";
import { userByTokenIdentifier } from "../lib/accounts";
import { capabilities } from "../model/accounts/accountState";
import { errorResponse, jsonResponse, withOpenAiErrors } from "../proxy/respond";
import { takeMintSlot } from "./limits";
import { mintSecret, times } from "./store";

/** Live session tokens kept per account; minting one more revokes the oldest beyond it. */
export const MAX_LIVE_SESSIONS = 20;

async function createHandler(ctx: MutationCtx, { tokenIdentifier }: { tokenIdentifier: string }) {
  const user = await userByTokenIdentifier(ctx, tokenIdentifier);
  if (user === null) {
    return { ok: false as const, status: 403, code: "account_not_found", message: "Your account is not set up yet. Reload the dashboard to finish signing in." };
  }
  if (!capabilities(user.state).useProxy) {
    return { ok: false as const, status: 403, code: "account_inactive", message: `Your account is ${user.state}; it cannot use the AI proxy.` };
  }
  const wait = await takeMintSlot(ctx, "sessionIssue", user._id);
  if (wait !== null) {
    return { ok: false as const, status: 429, code: "rate_limit_exceeded", message: `Too many session tokens requested; retry in ${Math.ceil(wait / 1000)} s.` };
  }
  const now = Date.now();
  // Tabs refresh their own tokens; a page reloaded all day would otherwise pile them up.
  const recent = await ctx.db
    .query("sessionTokens")
    .withIndex("by_userId", (q) => q.eq("userId", user._id))
    .order("desc")
    .take(MAX_LIVE_SESSIONS + 5);
  const live = recent.filter((s) => s.revokedAt === undefined && s.expiresAt > now);
  for (const old of live.slice(MAX_LIVE_SESSIONS - 1)) await ctx.db.patch("sessionTokens", old._id, { revokedAt: now });
  const minted = await mintSecret("session_token");
  const expiresAt = now + times().sessionTtlMs;
  await ctx.db.insert("sessionTokens", {
    userId: user._id,
    lookupId: minted.lookupId,
    tokenHash: minted.tokenHash,
    salt: minted.salt,
    issuedAt: now,
    expiresAt,
  });
  return { ok: true as const, token: minted.token, expiresAt };
}

/** The only answer that ever contains the session token. */
export const create = internalMutation({
  args: { tokenIdentifier: v.string() },
  returns: v.union(
    v.object({ ok: v.literal(true), token: v.string(), expiresAt: v.number() }),
    v.object({ ok: v.literal(false), status: v.number(), code: v.string(), message: v.string() }),
  ),
  handler: createHandler,
});

async function postSessionHandler(ctx: ActionCtx, _request: Request): Promise<Response> {
  const identity = await ctx.auth.getUserIdentity();
  if (identity === null) {
    return errorResponse(401, {
      message: "Send your signed-in Convex/Clerk JWT as 'Authorization: Bearer <jwt>'; sign in again if it expired.",
      type: "invalid_request_error",
      code: "not_signed_in",
    });
  }
  const result = await ctx.runMutation(internal.credentials.session.create, { tokenIdentifier: identity.tokenIdentifier });
  if (!result.ok) {
    const type = result.status === 429 ? "requests" : "permission_error";
    return errorResponse(result.status, { message: result.message, type, code: result.code }, result.status === 429 ? { "retry-after": "60" } : {});
  }
  const now = Date.now();
  return jsonResponse(201, {
    token: result.token,
    token_type: "Bearer",
    expires_at: result.expiresAt,
    expires_in: Math.max(0, Math.floor((result.expiresAt - now) / 1000)),
  }, { "cache-control": "no-store" });
}

export const postSession = httpAction(withOpenAiErrors(postSessionHandler));
