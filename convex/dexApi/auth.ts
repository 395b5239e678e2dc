// The Dex API's one authentication path: `Authorization: Bearer` with an OAuth access token
// (`pdx_at_...`, checked by oauth/tokens.ts authenticate) or an API key (`pk_live_...`, checked by
// proxy/callers.ts), both ending in the same principal: the account, the key or grant, and the
// scopes (an API key has every scope). Refusals in OpenAI's error shape.
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { type ActionCtx, env } from "../_generated/server";
import type { AccountState } from "../model/accounts/accountState";
import { bearerToken } from "../model/apiKeySecrets";
import { SCOPES, type Scope } from "../model/dexApi/operations";
import { kindOf, secretHash } from "../model/oauth/secrets";
import type { PlanId } from "../model/plans";
import { authenticateCaller } from "../proxy/callers";
import { clientIp, instanceIdOf } from "../proxy/request";
import { errorResponse } from "../proxy/respond";

export interface Principal {
  userId: Id<"users">;
  plan: PlanId;
  state: AccountState;
  via: "api_key" | "oauth";
  keyId?: Id<"apiKeys">;
  grantId?: Id<"oauthGrants">;
  /** The grant's instance, or the `x-dex-instance` header a key's caller sent. */
  instanceId?: string;
  scopes: readonly Scope[];
}

const TOKEN_REFUSALS: Record<"unknown_token" | "not_access_token" | "expired" | "revoked", string> = {
  unknown_token: "Incorrect access token provided. Connect the instance again.",
  not_access_token: "This is not an access token. Send the access_token from /oauth/token, not the refresh token.",
  expired: "The access token has expired. Get a new one from /oauth/token with the refresh token.",
  revoked: "This connection was revoked. Connect the instance again.",
};

const invalidToken = (message: string) => errorResponse(401, { message, type: "invalid_request_error", code: "invalid_token" }, { "www-authenticate": 'Bearer error="invalid_token"' });

export async function authenticateDex(ctx: ActionCtx, request: Request): Promise<{ ok: true; principal: Principal } | { ok: false; response: Response }> {
  const token = bearerToken(request.headers.get("authorization"));
  if (token !== null && token.startsWith("pdx_")) {
    // Any other pdx_ secret (a refresh token, a code) is refused before a lookup.
    if (kindOf(token) !== "access") return { ok: false, response: invalidToken(TOKEN_REFUSALS.not_access_token) };
    const who = await ctx.runMutation(internal.oauth.tokens.authenticate, { tokenHash: await secretHash(token, env.ENCRYPTION_KEY), ip: clientIp(request) });
    if (!who.ok) return { ok: false, response: invalidToken(TOKEN_REFUSALS[who.reason]) };
    const account = await ctx.runQuery(internal.dexApi.context.account, { userId: who.userId });
    if (account === null) return { ok: false, response: invalidToken("This token's account no longer exists.") };
    return {
      ok: true,
      principal: { userId: who.userId, ...account, via: "oauth", grantId: who.grantId, instanceId: who.instanceId, scopes: who.scopes },
    };
  }
  const auth = await authenticateCaller(ctx, request);
  if (!auth.ok) return auth;
  const { userId, keyId, plan, state } = auth.caller;
  const instanceId = instanceIdOf(request);
  return { ok: true, principal: { userId, keyId, plan, state, via: "api_key", ...(instanceId ? { instanceId } : {}), scopes: SCOPES } };
}
